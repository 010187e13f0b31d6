import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { rawJournalRecord } from "../../tests/helpers.ts";
import { crc32c } from "./crc.ts";
import { FileBlockDevice, MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { StateFsError } from "./errors.ts";
import { fsck, type FsckOptions, type FsckReport } from "./fsck.ts";
import {
  checkpointValue,
  encodeRecord,
  encodeSuperblock,
  encodeTxnId,
  OP_CHECKPOINT,
  OP_DELETE,
  OP_PUT,
  OP_TXN_ABORT,
  OP_TXN_COMMIT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
} from "./journal.ts";

const enc = new TextEncoder();
const BLOCKS = 64; // regions of 31 blocks; A = blocks 1..31
const A = 512;

function put(key: string, value: string): Uint8Array {
  return encodeRecord(OP_PUT, key, enc.encode(value));
}

function txn(op: number, id: bigint): Uint8Array {
  return encodeRecord(op, "", encodeTxnId(id));
}

function payload(id: bigint, key: string, value: string): Uint8Array {
  const v = enc.encode(value);
  const b = new Uint8Array(8 + v.length);
  b.set(encodeTxnId(id));
  b.set(v, 8);
  return encodeRecord(OP_TXN_PAYLOAD, key, b);
}

/** An NXS2 image (generation 1, region A) whose journal is Checkpoint{1,0} then `records`. */
function image(records: Uint8Array[], cp = checkpointValue(1, 0)): Uint8Array {
  const img = new Uint8Array(BLOCKS * 512);
  img.set(encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }));
  let p = A;
  for (const r of [encodeRecord(OP_CHECKPOINT, "", cp), ...records]) {
    img.set(r, p);
    p += r.length;
  }
  return img;
}

function offsetOf(records: Uint8Array[], index: number): number {
  let p = A + 23;
  for (let i = 0; i < index; i++) p += records[i].length;
  return p;
}

function codes(r: FsckReport): string[] {
  return r.problems.map((p) => p.code);
}

/** Runs fsck, checks it changed nothing, then repairs and checks the result is clean. */
async function check(
  img: Uint8Array,
  expect: { codes: string[]; status: FsckReport["status"]; offset?: number },
  opts: FsckOptions = {},
): Promise<{ report: FsckReport; repaired: FsckReport; dev: MemoryBlockDevice }> {
  const dev = MemoryBlockDevice.fromBytes(img);
  const report = await fsck(dev);
  assertEquals(codes(report), expect.codes);
  assertEquals(report.status, expect.status);
  if (expect.offset !== undefined) assertEquals(report.problems[0].offset, expect.offset);
  assertEquals(dev.snapshot(), img, "fsck without repair writes nothing");
  const repaired = await fsck(dev, { ...opts, repair: true });
  if (expect.status === "repairable") {
    assertEquals(repaired.status, "repaired");
    assertEquals(repaired.problems, report.problems);
    assertEquals((await fsck(dev)).status, "clean");
  } else {
    assertEquals(repaired.status, expect.status);
    assertEquals(dev.snapshot(), img, "nothing repaired when unrecoverable");
  }
  return { report, repaired, dev };
}

Deno.test("fsck: a formatted and used StateFS is clean", async () => {
  const dev = new MemoryBlockDevice(BLOCKS);
  await StateFs.format(dev);
  assertEquals(await fsck(dev), {
    layout: "nxs2",
    status: "clean",
    problems: [],
    generation: 1,
    activeRegion: "A",
    records: 1,
    liveKeys: 0,
    journalEnd: A + 23,
  });
  const fs = await StateFs.open(dev);
  await fs.put("/state/a", enc.encode("1"));
  await fs.batch([{ op: "put", key: "/state/b", value: enc.encode("2") }]);
  await fs.batch([{ op: "delete", key: "/state/a" }], { abort: true });
  await fs.compact();
  await fs.put("/state/c", enc.encode("3"));
  await fs.sync();
  const r = await fsck(dev);
  assertEquals(r.status, "clean");
  assertEquals(r.generation, 2);
  assertEquals(r.activeRegion, "B");
  assertEquals(r.liveKeys, 3);
});

Deno.test("fsck: no StateFS at all (garbage block 0) is unrecoverable", async () => {
  const img = new Uint8Array(BLOCKS * 512).fill(0x41);
  const { report } = await check(img, { codes: ["no-statefs"], status: "unrecoverable" });
  assertEquals(report.layout, "unknown");
});

Deno.test("fsck: a damaged superblock is rebuilt from the region's Checkpoint, with a backup", async () => {
  const base = image([put("/state/a", "1")]);
  const crc = base.slice();
  crc[12] = 5; // entry count changed, CRC stale
  const damaged: Array<[Uint8Array, string]> = [[crc, "superblock-crc"]];
  for (const [at, value, code] of [[4, 9, "superblock-version"], [5, 3, "superblock-field"]]) {
    const img = base.slice();
    img[at as number] = value as number;
    new DataView(img.buffer).setUint32(16, crc32c(img.subarray(0, 16)), true);
    damaged.push([img, code as string]);
  }
  for (const [img, code] of damaged) {
    await assertRejects(() => StateFs.open(MemoryBlockDevice.fromBytes(img)), StateFsError);
    const saved: Array<[number, Uint8Array]> = [];
    const { dev } = await check(img, { codes: [code], status: "repairable", offset: 0 }, {
      backup: (b, old) => void saved.push([b, old]),
    });
    assertEquals(dev.snapshot().subarray(0, 512), base.subarray(0, 512), code);
    assertEquals((await StateFs.open(dev)).list("/state/", 9), ["/state/a"]);
    assertEquals(saved, [[0, img.slice(0, 512)]], `${code}: block 0 saved before the rewrite`);
  }
  // Without a Checkpoint to rebuild from, nothing can be done.
  const lost = crc.slice();
  lost.fill(0, A, A + 23);
  await check(lost, { codes: ["superblock-crc"], status: "unrecoverable", offset: 0 });
});

Deno.test("fsck: a zeroed superblock over an intact journal is missing, never blank", async () => {
  const base = image([put("/state/a", "1"), put("/state/b", "2")]);
  const img = base.slice();
  img.fill(0, 0, 512);
  const err = await assertRejects(
    () => StateFs.open(MemoryBlockDevice.fromBytes(img)),
    StateFsError,
  );
  assertEquals(err.code, "CORRUPT");
  assert(err.message.includes("region A holds a journal of generation 1"), err.message);
  const { dev } = await check(img, {
    codes: ["superblock-missing"],
    status: "repairable",
    offset: 0,
  });
  assertEquals(dev.snapshot(), base, "the superblock is back, nothing else changed");
  // Zeros at block 0 with other data behind (a legacy journal's first record lost): not blank.
  const legacy = new Uint8Array(BLOCKS * 512);
  legacy.set(put("/state/x", "1".repeat(600)));
  legacy.set(put("/state/y", "2"), 640);
  legacy.fill(0, 0, 512);
  const { report } = await check(legacy, { codes: ["no-statefs"], status: "unrecoverable" });
  assertEquals(report.problems[0].offset, 512);
  assertEquals(
    (await assertRejects(() => StateFs.open(MemoryBlockDevice.fromBytes(legacy)), StateFsError))
      .code,
    "CORRUPT",
  );
});

Deno.test("fsck: a format cut off before its superblock is blank, and so is a device of zeros", async () => {
  const img = image([]);
  img.fill(0, 0, 512);
  const dev = MemoryBlockDevice.fromBytes(img);
  assertEquals((await fsck(dev)).status, "clean");
  assertEquals((await StateFs.open(dev)).stats().liveKeys, 0);
  assertEquals((await fsck(new MemoryBlockDevice(BLOCKS))).status, "clean");
});

Deno.test("fsck: device too small for two regions", async () => {
  const img = new Uint8Array(2 * 512);
  img.set(encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }));
  await check(img, { codes: ["device-too-small"], status: "unrecoverable" });
});

Deno.test("fsck: checkpoint missing or disagreeing with the superblock", async () => {
  const missing = image([]);
  missing.fill(0, A, A + 23);
  await check(missing, { codes: ["checkpoint-missing"], status: "unrecoverable", offset: A });
  const mismatch = image([put("/state/a", "1")], checkpointValue(1, 4));
  await check(mismatch, { codes: ["checkpoint-mismatch"], status: "unrecoverable", offset: A });
});

Deno.test("fsck: each damaged record kind mid-journal, with its offset; repair drops the rest", async () => {
  const good = put("/state/a", "1");
  const after = put("/state/z", "after");
  const flipped = put("/state/b", "2");
  flipped[12] ^= 0x10;
  const cases: Array<[string, Uint8Array]> = [
    ["bad-crc", flipped],
    [
      "bad-length",
      (() => {
        const r = put("/state/b", "2");
        new DataView(r.buffer).setUint32(7, 70000, true);
        return r;
      })(),
    ],
    ["bad-shape", rawJournalRecord(OP_CHECKPOINT, enc.encode("/state/b"), new Uint8Array(8))],
    ["bad-key", rawJournalRecord(OP_PUT, new Uint8Array([0x2f, 0xc3, 0x28]), enc.encode("v"))],
  ];
  for (const [code, badRecord] of cases) {
    const recs = [good, badRecord, after];
    const img = image(recs);
    const { report, dev } = await check(img, {
      codes: [code],
      status: "repairable",
      offset: offsetOf(recs, 1),
    });
    assertEquals(report.records, 2, code);
    assertEquals(report.liveKeys, 1, code);
    assert(report.problems[0].message.includes("unreachable"), code);
    const fs = await StateFs.open(dev);
    assertEquals(fs.list("/state/", 10), ["/state/a"], code);
  }
});

Deno.test("fsck: an unknown opcode is reported as such, never repaired, even at the tail", async () => {
  for (const after of [[], [put("/state/z", "after")]]) {
    const recs = [
      put("/state/a", "1"),
      rawJournalRecord(0x44, enc.encode("/state/b"), enc.encode("2")),
      ...after,
    ];
    const { report } = await check(image(recs), {
      codes: ["unknown-opcode"],
      status: "unrecoverable",
      offset: offsetOf(recs, 1),
    });
    assert(report.problems[0].message.includes("unknown opcode 0x44"));
  }
});

Deno.test("an unknown opcode makes the store read-only: reads work, no write goes over it", async () => {
  const recs = [
    put("/state/a", "1"),
    rawJournalRecord(0x44, enc.encode("/state/b"), enc.encode("2")),
    put("/state/z", "after"),
  ];
  const img = image(recs);
  const dev = MemoryBlockDevice.fromBytes(img);
  const fs = await StateFs.open(dev);
  assertEquals(fs.list("/state/", 9), ["/state/a"]);
  for (
    const write of [
      () => fs.put("/state/new", enc.encode("n")),
      () => fs.delete("/state/a"),
      () => fs.batch([{ op: "put", key: "/state/n", value: enc.encode("n") }]),
      () => fs.compact(),
    ]
  ) {
    const err = await assertRejects(write, StateFsError);
    assertEquals(err.code, "CORRUPT");
    assert(err.message.includes("unknown opcode 0x44"), err.message);
  }
  await fs.sync();
  assertEquals(dev.snapshot(), img, "nothing written");
});

Deno.test("fsck: torn tail (last record incomplete) is repairable and repair keeps the state", async () => {
  const recs = [put("/state/a", "1"), encodeRecord(OP_PUT, "/state/big", new Uint8Array(800))];
  const img = image(recs);
  const tornAt = offsetOf(recs, 1);
  img.fill(0, 2 * 512, 3 * 512); // the last of its blocks never persisted
  const before = await StateFs.open(MemoryBlockDevice.fromBytes(img));
  const { dev } = await check(img, { codes: ["torn-tail"], status: "repairable", offset: tornAt });
  const after = await StateFs.open(dev);
  assertEquals(after.list("/state/", 10), before.list("/state/", 10));
  const tail = dev.snapshot().subarray(tornAt, 32 * 512);
  assert(tail.every((b) => b === 0), "torn bytes zeroed");
  assertEquals([...dev.snapshot().subarray(A, tornAt)], [...img.subarray(A, tornAt)]);
});

Deno.test("fsck: a record cut off by the region end is a truncated tail", async () => {
  // A filler Put ending 20 bytes before the end of region A (32 * 512), then the first 20 bytes
  // of a record that would need more room than is left.
  const at = 32 * 512 - 20;
  const filler = encodeRecord(OP_PUT, "/state/f", new Uint8Array(at - (A + 23) - 23));
  const img = image([filler]);
  img.set(put("/state/b", "x".repeat(40)).subarray(0, 20), at);
  const { report } = await check(img, {
    codes: ["truncated-tail"],
    status: "repairable",
    offset: at,
  });
  assertEquals(report.liveKeys, 1);
});

Deno.test("fsck: non-zero bytes after a clean end are tail garbage", async () => {
  const img = image([put("/state/a", "1")]);
  img.fill(0xaa, 10 * 512 + 7, 10 * 512 + 9);
  await check(img, { codes: ["tail-garbage"], status: "repairable", offset: 10 * 512 + 7 });
});

Deno.test("fsck: orphan transaction is repaired by an appended TxnAbort", async () => {
  const recs = [
    put("/state/a", "1"),
    txn(OP_TXN_PREPARE, 3n),
    payload(3n, "/state/t", "in txn"),
    encodeRecord(OP_DELETE, "/state/a"),
  ];
  const img = image(recs);
  const { report, repaired, dev } = await check(img, {
    codes: ["orphan-txn"],
    status: "repairable",
    offset: offsetOf(recs, 1),
  });
  assertEquals(report.records, 5);
  assertEquals(repaired.records, 6, "one TxnAbort appended");
  const journal = dev.snapshot();
  const end = offsetOf(recs, 4);
  assertEquals([...journal.subarray(0, end)], [...img.subarray(0, end)], "append-only");
  assertEquals([...journal.subarray(end, end + 23)], [...txn(OP_TXN_ABORT, 3n)]);
  const fs = await StateFs.open(dev);
  // A Delete is never held by a transaction: it applied when replayed, the orphan's payload not.
  assertEquals(fs.list("/state/", 10), []);
});

Deno.test("fsck: unbalanced and duplicate transactions are reported", async () => {
  const unbalanced = [put("/state/a", "1"), txn(OP_TXN_COMMIT, 9n)];
  await check(image(unbalanced), {
    codes: ["txn-unbalanced"],
    status: "unrecoverable",
    offset: offsetOf(unbalanced, 1),
  });
  const stray = [payload(4n, "/state/x", "v")];
  await check(image(stray), { codes: ["txn-unbalanced"], status: "unrecoverable" });
  const dup = [txn(OP_TXN_PREPARE, 2n), txn(OP_TXN_PREPARE, 2n), txn(OP_TXN_COMMIT, 2n)];
  await check(image(dup), {
    codes: ["txn-duplicate"],
    status: "unrecoverable",
    offset: offsetOf(dup, 1),
  });
});

Deno.test("fsck: a journal over the replay bound is reported", async () => {
  const recs = Array.from({ length: 12 }, (_, i) => put(`/state/k${i}`, "v"));
  const dev = MemoryBlockDevice.fromBytes(image(recs));
  const r = await fsck(dev, { maxReplayRecords: 10 });
  assertEquals(codes(r), ["replay-bound"]);
  assertEquals(r.status, "unrecoverable");
  assertEquals((await fsck(dev)).status, "clean");
});

Deno.test("fsck: whole-device legacy journal from byte 0, clean and torn", async () => {
  const img = new Uint8Array(32 * 512);
  const recs = [put("/state/a", "1"), put("/state/b", "2")];
  img.set(recs[0]);
  img.set(recs[1], recs[0].length);
  const dev = MemoryBlockDevice.fromBytes(img);
  const r = await fsck(dev);
  assertEquals(r.layout, "legacy");
  assertEquals(r.status, "clean");
  assertEquals(r.records, 2);
  assertEquals(r.liveKeys, 2);
  assertEquals(r.generation, undefined);
  const torn = img.slice();
  torn[43] ^= 1; // the second record's value byte
  const { report } = await check(torn, { codes: ["torn-tail"], status: "repairable", offset: 24 });
  assertEquals(report.layout, "legacy");
  // An empty (all-zero) device is a clean, empty legacy StateFS.
  assertEquals((await fsck(new MemoryBlockDevice(8))).status, "clean");
});

Deno.test("fsck: repair on a read-only device fails with IO_ERROR and changes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const img = image([put("/state/a", "1")]);
    img.fill(0xaa, 10 * 512, 10 * 512 + 1);
    await Deno.writeFile(`${dir}/x.img`, img);
    const dev = await FileBlockDevice.open(`${dir}/x.img`, { readOnly: true });
    assertEquals((await fsck(dev)).status, "repairable");
    const err = await assertRejects(() => fsck(dev, { repair: true }), StateFsError);
    assertEquals(err.code, "IO_ERROR");
    dev.close();
    assertEquals(await Deno.readFile(`${dir}/x.img`), img);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fsck: aborted transactions are balanced", async () => {
  const recs = [txn(OP_TXN_PREPARE, 1n), payload(1n, "/state/x", "v"), txn(OP_TXN_ABORT, 1n)];
  const r = await fsck(MemoryBlockDevice.fromBytes(image(recs)));
  assertEquals(r.status, "clean");
  assertEquals(r.liveKeys, 0);
});
