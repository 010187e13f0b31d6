/**
 * A journal that fills its region to the last byte and ends in an orphan transaction: there is
 * no room for the TxnAbort, so fsck calls it unrecoverable and `--repair` writes nothing, neither
 * in the region nor after it (the block after region A is region B's first, which may hold the
 * other generation). The repair's own zeroing and NO_SPACE check never see a journal that ends
 * at its region's end.
 */

import { assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { fsck } from "./fsck.ts";
import {
  checkpointValue,
  encodeRecord,
  encodeSuperblock,
  encodeTxnId,
  OP_CHECKPOINT,
  OP_PUT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
  regionBlocksFor,
  regionStartBlock,
} from "./journal.ts";

const BLOCKS = 63; // regions of 31 blocks: A = blocks 1..31, B = 32..62
const A = regionStartBlock(BLOCKS, 0) * 512;
const B = regionStartBlock(BLOCKS, 1) * 512;
const REGION_BYTES = regionBlocksFor(BLOCKS) * 512;

/** Region A: Checkpoint{1,0}, a filler Put, then an orphan transaction ending at the region's end. */
function fullRegion(): Uint8Array {
  const img = new Uint8Array(BLOCKS * 512);
  img.set(encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }));
  const value = new Uint8Array(8 + 3);
  value.set(encodeTxnId(7n));
  const tail = [
    encodeRecord(OP_TXN_PREPARE, "", encodeTxnId(7n)),
    encodeRecord(OP_TXN_PAYLOAD, "/state/t", value),
  ];
  const cp = encodeRecord(OP_CHECKPOINT, "", checkpointValue(1, 0));
  const tailBytes = tail.reduce((n, r) => n + r.length, 0);
  const emptyPut = encodeRecord(OP_PUT, "/state/f", new Uint8Array()).length;
  const filler = encodeRecord(
    OP_PUT,
    "/state/f",
    new Uint8Array(REGION_BYTES - cp.length - tailBytes - emptyPut).fill(1),
  );
  let p = A;
  for (const r of [cp, filler, ...tail]) {
    img.set(r, p);
    p += r.length;
  }
  assertEquals(p, A + REGION_BYTES, "the journal ends at the region's last byte");
  // Region B's first block holds bytes of an older generation.
  img.fill(0x5a, B, B + 512);
  return img;
}

Deno.test("fsck: an orphan with no room for its TxnAbort is unrecoverable, and --repair writes nothing", async () => {
  const img = fullRegion();
  const report = await fsck(MemoryBlockDevice.fromBytes(img));
  assertEquals(
    report.problems.map((p) => [p.code, p.repairable, p.message]),
    [["orphan-txn", false, "transaction 7 never committed or aborted (no room to abort it)"]],
  );
  assertEquals(report.status, "unrecoverable");
  const dev = MemoryBlockDevice.fromBytes(img);
  assertEquals((await fsck(dev, { repair: true })).status, "unrecoverable");
  assertEquals(dev.snapshot(), img, "not a byte changed: the journal, and the block after it");
});
