/**
 * fsck's judgement of a damaged last record in the active region's last block, when that block
 * is the device's last block (region B of an odd-sized device): the record's extent is read from
 * that one block and never past the end of the device.
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { fsck } from "./fsck.ts";
import {
  checkpointValue,
  encodeRecord,
  encodeSuperblock,
  OP_CHECKPOINT,
  OP_PUT,
  RECORD_HEADER_SIZE,
  regionBlocksFor,
  regionStartBlock,
} from "./journal.ts";

const BLOCKS = 63; // regions of 31 blocks; region B = blocks 32..62, the device's last block
const B = regionStartBlock(BLOCKS, 1) * 512;
const REGION_BYTES = regionBlocksFor(BLOCKS) * 512;

/** Region B holds Checkpoint{1,0}, a filler Put, then `last` starting at region offset `at`. */
function image(at: number, last: Uint8Array): Uint8Array {
  const img = new Uint8Array(BLOCKS * 512);
  img.set(encodeSuperblock({ activeRegion: 1, generation: 1, liveEntries: 0 }));
  const cp = encodeRecord(OP_CHECKPOINT, "", checkpointValue(1, 0));
  img.set(cp, B);
  const fillerValue = at - cp.length - encodeRecord(OP_PUT, "/state/f", new Uint8Array()).length;
  img.set(encodeRecord(OP_PUT, "/state/f", new Uint8Array(fillerValue)), B + cp.length);
  img.set(last, B + at);
  return img;
}

function damaged(valueBytes: number): Uint8Array {
  const r = encodeRecord(OP_PUT, "/state/last", new Uint8Array(valueBytes).fill(7));
  r[r.length - 1] ^= 0x55; // a value byte: the CRC no longer matches
  return r;
}

Deno.test("fsck: a damaged last record in the device's last block, zeros after it, is a torn tail", async () => {
  assertEquals(B + REGION_BYTES, BLOCKS * 512);
  const at = REGION_BYTES - 512 + 100;
  const report = await fsck(MemoryBlockDevice.fromBytes(image(at, damaged(300))));
  assertEquals(report.problems.map((p) => [p.code, p.offset]), [["torn-tail", B + at]]);
  assertEquals(report.status, "repairable");
});

Deno.test("fsck: bytes after a damaged record in the device's last block are unreachable", async () => {
  const at = REGION_BYTES - 512 + 100;
  const last = damaged(300);
  const img = image(at, last);
  img[B + at + last.length + 3] = 0xaa;
  const report = await fsck(MemoryBlockDevice.fromBytes(img));
  assertEquals(report.problems.map((p) => [p.code, p.offset]), [["bad-crc", B + at]]);
  assert(report.problems[0].message.includes(`offset ${B + at + last.length + 3}`));
});

Deno.test("fsck: a damaged record ending exactly at the device's end is a torn tail", async () => {
  const last = damaged(100);
  const at = REGION_BYTES - last.length;
  const report = await fsck(MemoryBlockDevice.fromBytes(image(at, last)));
  assertEquals(report.problems.map((p) => [p.code, p.offset]), [["torn-tail", B + at]]);
});

Deno.test("fsck: a last record with lengths past the caps in the device's last block is damage", async () => {
  const at = REGION_BYTES - 512 + 100;
  const last = encodeRecord(OP_PUT, "/state/last", new Uint8Array(40).fill(7));
  new DataView(last.buffer).setUint32(7, 0x7fff_ffff, true); // value length
  const report = await fsck(MemoryBlockDevice.fromBytes(image(at, last)));
  assertEquals(report.problems.map((p) => [p.code, p.offset]), [["bad-length", B + at]]);
  assert(report.problems[0].message.includes(`offset ${B + at + RECORD_HEADER_SIZE}`));
});
