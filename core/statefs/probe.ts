/**
 * What a device whose block 0 is all zeros holds: nothing (blank), a StateFS whose superblock
 * was lost (a region still starts with a Checkpoint), or other data. The write paths format only
 * what this calls blank (docs/formats.md, "What may be written").
 *
 * @module
 */

import type { BlockDevice } from "./block_device.ts";
import {
  checkpointValue,
  DECODED_RECORD,
  decodeRecordInto,
  encodeRecordInto,
  newRecordSlot,
  OP_CHECKPOINT,
  parseCheckpoint,
  regionBlocksFor,
  regionStartBlock,
} from "./journal.ts";
import { isZero } from "./replay.ts";

/** Blocks read per request while looking for data. */
const CHUNK_BLOCKS = 2048;

/** What {@link probeZeroedDevice} found. */
export type ZeroedDevice =
  /** Every byte is zero, or the only trace is a format cut off before its superblock. */
  | { kind: "blank" }
  /** Region `region` starts with a Checkpoint: a StateFS that lost its superblock. */
  | { kind: "lost-superblock"; region: 0 | 1; generation: number; entries: number }
  /** Not blank and not a StateFS: the first non-zero byte is at `offset`. */
  | { kind: "data"; offset: number };

/** The Checkpoint at the start of region `r`, if one is there. */
export async function regionCheckpoint(
  dev: BlockDevice,
  r: 0 | 1,
): Promise<{ generation: number; entries: number } | undefined> {
  if (regionBlocksFor(dev.blockCount) < 1) return undefined;
  const block = await dev.read(regionStartBlock(dev.blockCount, r), 1);
  const slot = newRecordSlot();
  if (decodeRecordInto(block, 0, block.length, slot) !== DECODED_RECORD) return undefined;
  if (slot.op !== OP_CHECKPOINT || slot.at !== 0) return undefined;
  return parseCheckpoint(block.subarray(slot.valueAt, slot.valueAt + 8));
}

/**
 * Classifies a device whose block 0 is all zeros. A lone `Checkpoint{1, 0}` at the start of
 * region A with zeros everywhere else is a format that a power cut stopped before its superblock
 * write: blank. Reads until the first non-zero byte, so only a blank device is read in full.
 */
export async function probeZeroedDevice(dev: BlockDevice): Promise<ZeroedDevice> {
  const found: Array<{ region: 0 | 1; generation: number; entries: number }> = [];
  for (const r of [0, 1] as const) {
    const cp = await regionCheckpoint(dev, r);
    if (cp) found.push({ region: r, ...cp });
  }
  const formatTrace = found.length === 1 && found[0].region === 0 &&
    found[0].generation === 1 && found[0].entries === 0;
  if (found.length > 0 && !formatTrace) {
    // Two regions: the higher generation is the later compaction, the one a superblock named.
    found.sort((a, b) => b.generation - a.generation);
    return { kind: "lost-superblock", ...found[0] };
  }
  const skip = formatTrace ? freshCheckpointBlock() : undefined;
  const first = await firstNonZeroByte(dev, skip);
  if (first < 0) return { kind: "blank" };
  if (formatTrace) return { kind: "lost-superblock", ...found[0] };
  return { kind: "data", offset: first };
}

/** Block 1 as format writes it: `Checkpoint{1, 0}`, then zeros. */
function freshCheckpointBlock(): Uint8Array {
  const b = new Uint8Array(512);
  encodeRecordInto(b, 0, OP_CHECKPOINT, new Uint8Array(0), checkpointValue(1, 0));
  return b;
}

/** Byte offset of the first non-zero byte of `dev` (block 1 may equal `skip`), or -1. */
async function firstNonZeroByte(dev: BlockDevice, skip?: Uint8Array): Promise<number> {
  const bs = dev.blockSize;
  for (let b = 0; b < dev.blockCount; b += CHUNK_BLOCKS) {
    const n = Math.min(CHUNK_BLOCKS, dev.blockCount - b);
    const data = await dev.read(b, n);
    if (skip && b <= 1 && b + n > 1 && sameBytes(data.subarray((1 - b) * bs, (2 - b) * bs), skip)) {
      data.fill(0, (1 - b) * bs, (2 - b) * bs);
    }
    if (isZero(data)) continue;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) return b * bs + i;
  }
  return -1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
