import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { GOLDEN_PUT_RECORD, rawJournalRecord } from "../../tests/helpers.ts";
import { crc32c } from "./crc.ts";
import { StateFsError } from "./errors.ts";
import {
  compareUtf8,
  decodeRecord,
  decodeSuperblock,
  encodeRecord,
  encodeSuperblock,
  encodeTxnId,
  MAX_TXN_CHUNK,
  MAX_TXN_PAYLOAD_BYTES,
  MAX_VALUE_BYTES,
  OP_CHECKPOINT,
  OP_DELETE,
  OP_PUT,
  OP_SYNC_BARRIER,
  OP_TXN_ABORT,
  OP_TXN_COMMIT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
  readTxnId,
  regionBlocksFor,
  regionStartBlock,
  validateKey,
} from "./journal.ts";

const enc = new TextEncoder();

function hex(b: Uint8Array): string {
  return b.toHex().replace(/(..)(?=.)/g, "$1 ");
}

Deno.test("golden vector: Put('/state/a', 'x') is the 24 bytes of docs/formats.md", () => {
  const rec = encodeRecord(OP_PUT, "/state/a", enc.encode("x"));
  assertEquals(rec, GOLDEN_PUT_RECORD);
  const d = decodeRecord(rec);
  assert(d.kind === "record");
  assertEquals(d.size, 24);
  assertEquals(d.record.op, OP_PUT);
  assertEquals(d.record.key, "/state/a");
  assertEquals([...d.record.value], [0x78]);
});

Deno.test("decode reads records back to back at offsets, as views", () => {
  const a = encodeRecord(OP_PUT, "/state/k1", enc.encode("one"));
  const b = encodeRecord(OP_DELETE, "/state/k2");
  const buf = new Uint8Array(a.length + b.length + 8);
  buf.set(a);
  buf.set(b, a.length);
  const r1 = decodeRecord(buf, 0);
  assert(r1.kind === "record");
  assertEquals(r1.record.value.buffer, buf.buffer, "value is a view, not a copy");
  const r2 = decodeRecord(buf, r1.size);
  assert(r2.kind === "record");
  assertEquals(r2.record.op, OP_DELETE);
  assertEquals(r2.record.key, "/state/k2");
  assertEquals(decodeRecord(buf, r1.size + r2.size).kind, "end");
});

Deno.test("decode: zeroed bytes are the clean end, a cut record is incomplete", () => {
  assertEquals(decodeRecord(new Uint8Array(64)).kind, "end");
  const rec = encodeRecord(OP_PUT, "/state/a", new Uint8Array(100));
  const r = decodeRecord(rec, 0, 50);
  assert(r.kind === "incomplete");
  assertEquals(r.need, rec.length);
  assertEquals(decodeRecord(rec, 0, 3).kind, "incomplete");
});

Deno.test("decode: CRC mismatch, unknown opcode, over-cap lengths, bad shape, non-UTF-8 key", () => {
  const good = encodeRecord(OP_PUT, "/state/a", enc.encode("xyz"));
  const flip = good.slice();
  flip[13] ^= 1;
  assertEquals(kindCode(decodeRecord(flip)), "bad-crc");

  const op = reseal(good, (b) => (b[4] = 0x55));
  assertEquals(kindCode(decodeRecord(op)), "bad-opcode");

  // Over-cap value length is reported before any body byte is needed.
  const big = good.slice(0, 11);
  new DataView(big.buffer).setUint32(7, MAX_VALUE_BYTES + 1, true);
  assertEquals(kindCode(decodeRecord(big)), "bad-length");
  const bigKey = good.slice(0, 11);
  new DataView(bigKey.buffer).setUint16(5, 256, true);
  assertEquals(kindCode(decodeRecord(bigKey)), "bad-length");

  const barrier = rawJournalRecord(OP_SYNC_BARRIER, new Uint8Array(0), enc.encode("v"));
  assertEquals(kindCode(decodeRecord(barrier)), "bad-shape");
  const shapeCp = rawJournalRecord(OP_CHECKPOINT, new Uint8Array(0), new Uint8Array(7));
  assertEquals(kindCode(decodeRecord(shapeCp)), "bad-shape");
  const shapeTxn = rawJournalRecord(OP_TXN_PREPARE, new Uint8Array(0), new Uint8Array(4));
  assertEquals(kindCode(decodeRecord(shapeTxn)), "bad-shape");

  const badKey = rawJournalRecord(OP_PUT, new Uint8Array([0x2f, 0xff, 0xfe]), new Uint8Array(1));
  assertEquals(kindCode(decodeRecord(badKey)), "bad-key");
});

Deno.test("TxnPayload carries at most 8,192 value bytes after its txn id (the original's cap)", () => {
  const value = new Uint8Array(MAX_TXN_PAYLOAD_BYTES);
  value.set(encodeTxnId(7n));
  const rec = encodeRecord(OP_TXN_PAYLOAD, "/state/big", value);
  const d = decodeRecord(rec);
  assert(d.kind === "record");
  assertEquals(d.record.value.length, MAX_TXN_CHUNK + 8);
  const over = rawJournalRecord(OP_TXN_PAYLOAD, enc.encode("/state/big"), new Uint8Array(8201));
  assertEquals(kindCode(decodeRecord(over)), "bad-shape");
  assertThrows(() => encodeRecord(OP_TXN_PAYLOAD, "/state/big", new Uint8Array(8201)));
  assertThrows(() => encodeRecord(OP_PUT, "/state/x", new Uint8Array(MAX_VALUE_BYTES + 1)));
});

Deno.test("Put and Delete take any lengths within the caps, as the original reads them", () => {
  const del = decodeRecord(rawJournalRecord(OP_DELETE, enc.encode("/state/a"), enc.encode("v")));
  assert(del.kind === "record");
  assertEquals(del.record.op, OP_DELETE);
  const put = decodeRecord(rawJournalRecord(OP_PUT, new Uint8Array(0), enc.encode("v")));
  assert(put.kind === "record");
  assertEquals(put.record.key, "");
});

Deno.test("superblock round trip and rejection of each bad field", () => {
  const block = encodeSuperblock({ activeRegion: 1, generation: 9, liveEntries: 3 });
  assertEquals(block.length, 512);
  assertEquals(hex(block.subarray(0, 8)), "4e 58 53 32 01 01 00 00");
  assert(block.subarray(20).every((b) => b === 0));
  assertEquals(decodeSuperblock(block), {
    ok: true,
    sb: { activeRegion: 1, generation: 9, liveEntries: 3 },
  });
  const crc = block.slice();
  crc[9] ^= 1;
  assertEquals(problem(decodeSuperblock(crc)), "superblock-crc");
  const magic = block.slice();
  magic[0] = 0;
  assertEquals(problem(decodeSuperblock(magic)), "superblock-magic");
  assertEquals(problem(decodeSuperblock(resealSb(block, (b) => (b[4] = 2)))), "superblock-version");
  assertEquals(problem(decodeSuperblock(resealSb(block, (b) => (b[5] = 2)))), "superblock-field");
  assertEquals(problem(decodeSuperblock(resealSb(block, (b) => (b[6] = 1)))), "superblock-field");
});

Deno.test("region geometry: (blocks - 1) / 2 per region, B after A", () => {
  assertEquals(regionBlocksFor(65536), 32767);
  assertEquals(regionStartBlock(65536, 0), 1);
  assertEquals(regionStartBlock(65536, 1), 32768);
  assertEquals(regionBlocksFor(3), 1);
});

Deno.test("key rules: prefix, length, dot components, UTF-8", () => {
  assertEquals(validateKey("/state/a").length, 8);
  assertEquals(validateKey("/state/.hidden/x.y").length, 18);
  const codes = (k: string) => {
    try {
      validateKey(k);
      return "ok";
    } catch (err) {
      assert(err instanceof StateFsError);
      return err.code;
    }
  };
  assertEquals(codes("/etc/passwd"), "INVALID_KEY");
  assertEquals(codes("state/a"), "INVALID_KEY");
  assertEquals(codes("/state/../etc"), "INVALID_KEY");
  assertEquals(codes("/state/a/./b"), "INVALID_KEY");
  assertEquals(codes("/state/a/.."), "INVALID_KEY");
  assertEquals(codes("/state/\ud800"), "INVALID_KEY");
  assertEquals(codes("/state/" + "k".repeat(248)), "ok");
  assertEquals(codes("/state/" + "k".repeat(249)), "KEY_TOO_LONG");
  assertEquals(codes("/state/" + "é".repeat(125)), "KEY_TOO_LONG"); // 257 bytes, 132 chars
});

Deno.test("compareUtf8 orders by UTF-8 bytes, not UTF-16 units", () => {
  // U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8, after it in UTF-16.
  const bmp = "\uff61";
  const astral = "\u{1f600}";
  assert(compareUtf8(bmp, astral) < 0);
  assert(bmp > astral, "UTF-16 order differs, which is the point");
  const sortedBytes = [astral, bmp, "a", "ab", ""].sort(compareUtf8);
  const viaBytes = [astral, bmp, "a", "ab", ""].sort((x, y) => {
    const a = enc.encode(x);
    const b = enc.encode(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  assertEquals(sortedBytes, viaBytes);
});

function kindCode(r: ReturnType<typeof decodeRecord>): string {
  return r.kind === "corrupt" ? r.code : r.kind;
}

function problem(r: ReturnType<typeof decodeSuperblock>): string {
  return r.ok ? "ok" : r.code;
}

/** Applies `edit` to a record copy and recomputes its CRC (so only the edit is wrong). */
function reseal(rec: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const b = rec.slice();
  edit(b);
  new DataView(b.buffer).setUint32(b.length - 4, crc32c(b.subarray(0, b.length - 4)), true);
  return b;
}

function resealSb(block: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const b = block.slice();
  edit(b);
  new DataView(b.buffer).setUint32(16, crc32c(b.subarray(0, 16)), true);
  return b;
}

/** One record per opcode, bytes written out by hand from docs/formats.md (CRC32-C last). */
const VECTORS: Array<{ name: string; op: number; key: string; value: number[]; hex: string }> = [
  {
    name: "Delete('/state/a')",
    op: OP_DELETE,
    key: "/state/a",
    value: [],
    hex: "46 53 58 4e 02 08 00 00 00 00 00 2f 73 74 61 74 65 2f 61 e8 49 c8 29",
  },
  {
    name: "Checkpoint{2, 5}",
    op: OP_CHECKPOINT,
    key: "",
    value: [2, 0, 0, 0, 5, 0, 0, 0],
    hex: "46 53 58 4e 03 00 00 08 00 00 00 02 00 00 00 05 00 00 00 de af cc 9c",
  },
  {
    name: "TxnPrepare{7}",
    op: OP_TXN_PREPARE,
    key: "",
    value: [7, 0, 0, 0, 0, 0, 0, 0],
    hex: "46 53 58 4e 10 00 00 08 00 00 00 07 00 00 00 00 00 00 00 ea 2a 9f 9e",
  },
  {
    name: "TxnPayload{7, '/state/t', 'ab'}",
    op: OP_TXN_PAYLOAD,
    key: "/state/t",
    value: [7, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62],
    hex:
      "46 53 58 4e 11 08 00 0a 00 00 00 2f 73 74 61 74 65 2f 74 07 00 00 00 00 00 00 00 61 62 6e ed 83 2b",
  },
  {
    name: "TxnCommit{7}",
    op: OP_TXN_COMMIT,
    key: "",
    value: [7, 0, 0, 0, 0, 0, 0, 0],
    hex: "46 53 58 4e 12 00 00 08 00 00 00 07 00 00 00 00 00 00 00 e8 d0 82 51",
  },
  {
    name: "TxnAbort{7}",
    op: OP_TXN_ABORT,
    key: "",
    value: [7, 0, 0, 0, 0, 0, 0, 0],
    hex: "46 53 58 4e 13 00 00 08 00 00 00 07 00 00 00 00 00 00 00 e9 2d 0c 36",
  },
  {
    // The same 15 bytes the original wrote at offset 53 of tests/fixtures/interop/head-v2.
    name: "SyncBarrier",
    op: OP_SYNC_BARRIER,
    key: "",
    value: [],
    hex: "46 53 58 4e 14 00 00 00 00 00 00 d1 d7 9c 82",
  },
];

Deno.test("round-trip vectors: every record type encodes to its documented bytes and back", () => {
  for (const v of VECTORS) {
    const bytes = Uint8Array.fromHex(v.hex.replaceAll(" ", ""));
    assertEquals(hex(encodeRecord(v.op, v.key, Uint8Array.from(v.value))), v.hex, v.name);
    const d = decodeRecord(bytes);
    assert(d.kind === "record", v.name);
    assertEquals(d.size, bytes.length, v.name);
    assertEquals(d.record.op, v.op, v.name);
    assertEquals(d.record.key, v.key, v.name);
    assertEquals([...d.record.value], v.value, v.name);
    if (v.op >= OP_TXN_PREPARE && v.op <= OP_TXN_ABORT) assertEquals(readTxnId(d.record.value), 7n);
  }
});
