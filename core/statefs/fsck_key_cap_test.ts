/**
 * fsck's judgement of a damaged last record whose header gives a key length past the cap (and a
 * value length within it): the header cannot be trusted, so the bytes right after it are the
 * unreachable journal, not the end of a torn record. Either cap alone must make the header
 * untrusted (core/statefs/fsck.ts, recordExtent).
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { fsck } from "./fsck.ts";
import {
  checkpointValue,
  encodeRecord,
  encodeSuperblock,
  MAX_KEY_BYTES,
  OP_CHECKPOINT,
  OP_PUT,
  RECORD_HEADER_SIZE,
} from "./journal.ts";

const A = 512;

Deno.test("fsck: a last record with only its key length past the cap is damage, not a torn tail", async () => {
  const img = new Uint8Array(64 * 512);
  img.set(encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }));
  const cp = encodeRecord(OP_CHECKPOINT, "", checkpointValue(1, 0));
  img.set(cp, A);
  const last = encodeRecord(OP_PUT, "/state/last", new Uint8Array(40).fill(7));
  // Key length one past the cap; the value length (40) stays plausible.
  new DataView(last.buffer).setUint16(5, MAX_KEY_BYTES + 1, true);
  img.set(last, A + cp.length);
  const report = await fsck(MemoryBlockDevice.fromBytes(img));
  const codes = report.problems.map((p) => [p.code, p.offset]);
  assertEquals(codes.length, 1, JSON.stringify(codes));
  assert(codes[0][0] !== "torn-tail", JSON.stringify(codes));
  assertEquals(codes[0][1], A + cp.length);
  // The record's own bytes after the header are what is unreachable.
  assert(
    report.problems[0].message.includes(`offset ${A + cp.length + RECORD_HEADER_SIZE}`),
    report.problems[0].message,
  );
});
