/**
 * fsck's judgement of a damaged last record deep in the region: the record's extent comes from
 * its own header wherever it sits (mid-block, or split across two blocks), so a damaged record
 * with only zeros after it is a torn tail, and one with bytes after its extent is damage with
 * unreachable data behind it.
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { fsck } from "./fsck.ts";
import {
  checkpointValue,
  encodeRecord,
  encodeSuperblock,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  OP_CHECKPOINT,
  OP_PUT,
  RECORD_HEADER_SIZE,
} from "./journal.ts";

const BLOCKS = 64; // regions of 31 blocks; region A = blocks 1..31
const A = 512;

/** Region A holds Checkpoint{1,0}, a filler Put, then `last` starting at region offset `at`. */
function image(at: number, last: Uint8Array): Uint8Array {
  const img = new Uint8Array(BLOCKS * 512);
  img.set(encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }));
  const cp = encodeRecord(OP_CHECKPOINT, "", checkpointValue(1, 0));
  img.set(cp, A);
  const fillerValue = at - cp.length - encodeRecord(OP_PUT, "/state/f", new Uint8Array()).length;
  img.set(encodeRecord(OP_PUT, "/state/f", new Uint8Array(fillerValue)), A + cp.length);
  img.set(last, A + at);
  return img;
}

function damaged(): Uint8Array {
  const r = encodeRecord(OP_PUT, "/state/last", new Uint8Array(300).fill(7));
  r[r.length - 1] ^= 0x55; // a value byte: the CRC no longer matches
  return r;
}

// Mid-block in the third block; split across the second and third block's edge.
const PLACES = [2 * 512 + 100, 2 * 512 - Math.floor(RECORD_HEADER_SIZE / 2)];

Deno.test("fsck: a damaged last record deep in the region, zeros after it, is a torn tail", async () => {
  for (const at of PLACES) {
    const report = await fsck(MemoryBlockDevice.fromBytes(image(at, damaged())));
    assertEquals(report.problems.map((p) => [p.code, p.offset]), [["torn-tail", A + at]], `${at}`);
    assertEquals(report.status, "repairable");
  }
});

Deno.test("fsck: bytes after a damaged record's extent are reported unreachable", async () => {
  for (const at of PLACES) {
    const last = damaged();
    const img = image(at, last);
    img[A + at + last.length + 3] = 0xaa;
    const report = await fsck(MemoryBlockDevice.fromBytes(img));
    assertEquals(report.problems.map((p) => [p.code, p.offset]), [["bad-crc", A + at]], `${at}`);
    assert(report.problems[0].message.includes(`offset ${A + at + last.length + 3}`));
  }
});

Deno.test("fsck: a last record with lengths past the caps is damage, not a torn tail", async () => {
  for (const at of PLACES) {
    const last = encodeRecord(OP_PUT, "/state/last", new Uint8Array(40).fill(7));
    new DataView(last.buffer).setUint32(7, 0x7fff_ffff, true); // value length
    const report = await fsck(MemoryBlockDevice.fromBytes(image(at, last)));
    assertEquals(report.problems.map((p) => [p.code, p.offset]), [["bad-length", A + at]], `${at}`);
    // Its own bytes after the header are what is unreachable: the header cannot be trusted.
    assert(report.problems[0].message.includes(`offset ${A + at + RECORD_HEADER_SIZE}`));
  }
});

Deno.test("fsck: a damaged last record with a key of exactly the cap is still a torn tail", async () => {
  const key = "/state/" + "k".repeat(MAX_KEY_BYTES - "/state/".length);
  const last = encodeRecord(OP_PUT, key, new Uint8Array(20).fill(7));
  last[last.length - 1] ^= 0x55;
  const report = await fsck(MemoryBlockDevice.fromBytes(image(PLACES[0], last)));
  assertEquals(report.problems.map((p) => [p.code, p.offset]), [["torn-tail", A + PLACES[0]]]);
});

Deno.test("fsck: a damaged last record with a value of exactly the cap is still a torn tail", async () => {
  // The region must hold a 64 KiB value: 300 blocks give regions of 149 blocks.
  const blocks = 300;
  const img = new Uint8Array(blocks * 512);
  img.set(encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }));
  const cp = encodeRecord(OP_CHECKPOINT, "", checkpointValue(1, 0));
  img.set(cp, A);
  const last = encodeRecord(OP_PUT, "/state/big", new Uint8Array(MAX_VALUE_BYTES).fill(7));
  last[last.length - 1] ^= 0x55;
  img.set(last, A + cp.length);
  const report = await fsck(MemoryBlockDevice.fromBytes(img));
  assertEquals(report.problems.map((p) => [p.code, p.offset]), [["torn-tail", A + cp.length]]);
});
