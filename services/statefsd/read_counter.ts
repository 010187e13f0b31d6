/**
 * A block device that counts the sectors read through it, so statefsd can report how much of
 * the disk a replay really read (STATS `sectorsRead`) instead of trusting the engine's word.
 *
 * @example
 * ```ts
 * import { MemoryBlockDevice } from "../../core/statefs/mod.ts";
 * import { ReadCounter } from "./read_counter.ts";
 * const dev = new ReadCounter(new MemoryBlockDevice(8));
 * await dev.read(0, 2);
 * console.log(dev.sectorsRead); // 2
 * ```
 *
 * @module
 */

import { type BlockDevice, readBlocksInto } from "../../core/statefs/mod.ts";

/** Passes every request to `inner` and counts the blocks read. */
export class ReadCounter implements BlockDevice {
  /** Blocks read so far. */
  sectorsRead = 0;

  /** Wraps `inner`. */
  constructor(readonly inner: BlockDevice) {}

  /** The inner device's block size. */
  get blockSize(): number {
    return this.inner.blockSize;
  }

  /** The inner device's block count. */
  get blockCount(): number {
    return this.inner.blockCount;
  }

  /** Reads from the inner device and counts the blocks once they were read. */
  async read(block: number, count: number): Promise<Uint8Array> {
    const data = await this.inner.read(block, count);
    this.sectorsRead += count;
    return data;
  }

  /** Reads into `out` through the inner device and counts the blocks once they were read. */
  async readInto(block: number, out: Uint8Array): Promise<void> {
    await readBlocksInto(this.inner, block, out);
    this.sectorsRead += out.length / this.inner.blockSize;
  }

  /** Writes to the inner device. */
  write(block: number, data: Uint8Array): Promise<void> {
    return this.inner.write(block, data);
  }

  /** Flushes the inner device. */
  sync(): Promise<void> {
    return this.inner.sync();
  }
}
