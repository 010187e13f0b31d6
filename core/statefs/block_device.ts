/**
 * The block-device contract every StateFS engine runs on: memory, a region of a file, or the
 * virtio-blk driver inside the simulated statefsd. All methods are async because the virtio
 * driver completes requests through simulated interrupts.
 *
 * Durability model (what crash-safety is proven against): a single 512-byte block write is
 * atomic; writes issued since the last completed `sync()` may reach the medium in any order,
 * or not at all. Only `sync()` is a durability boundary.
 *
 * @module
 */

/** Size in bytes of one block; StateFS and the disk image both use 512-byte sectors. */
export const BLOCK_SIZE = 512;

/** A device made of fixed-size blocks addressed from 0. */
export interface BlockDevice {
  /** Bytes per block (512 for every device in nexus). */
  readonly blockSize: number;
  /** Number of addressable blocks. */
  readonly blockCount: number;
  /**
   * Reads `count` consecutive blocks starting at `block`.
   * Rejects with {@link BlockDeviceError} when the range is out of bounds or the medium fails.
   */
  read(block: number, count: number): Promise<Uint8Array>;
  /**
   * Optional: reads `out.length / blockSize` blocks from `block` into `out`, so a caller that
   * scans can reuse one buffer instead of getting a fresh one per call ({@link readBlocksInto}
   * falls back to {@link read}). Rejects as {@link read} does, and with `BAD_LENGTH` when `out` is
   * not whole blocks; `out` is unspecified after a rejection.
   */
  readInto?(block: number, out: Uint8Array): Promise<void>;
  /**
   * Writes `data` (a whole number of blocks) starting at `block`.
   * Rejects with {@link BlockDeviceError} when the range is out of bounds or the medium fails.
   */
  write(block: number, data: Uint8Array): Promise<void>;
  /** Makes every completed write durable. The only durability boundary. */
  sync(): Promise<void>;
}

/** Stable codes for block-device failures. */
export type BlockDeviceErrorCode =
  | "OUT_OF_RANGE"
  | "BAD_LENGTH"
  | "IO_ERROR"
  | "CLOSED"
  | "READ_ONLY"
  | "NOT_FOUND";

/** A block device failure with a stable code. */
export class BlockDeviceError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: BlockDeviceErrorCode, message: string) {
    super(message);
    this.name = "BlockDeviceError";
  }
}

/** Reads whole blocks from `block` into `out`: the device's `readInto`, else a read and a copy. */
export async function readBlocksInto(
  dev: BlockDevice,
  block: number,
  out: Uint8Array,
): Promise<void> {
  if (dev.readInto) return await dev.readInto(block, out);
  if (out.length % dev.blockSize !== 0) {
    throw new BlockDeviceError("BAD_LENGTH", `read of ${out.length} bytes is not whole blocks`);
  }
  out.set(await dev.read(block, out.length / dev.blockSize));
}
