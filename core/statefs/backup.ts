/**
 * Backups of what a repair rewrites, so that every repair can be undone (docs/formats.md,
 * "Undoing a repair"). {@link BackupDevice} hands the old contents of each block to a sink before
 * the block is first rewritten; {@link encodeBackupEntry} and {@link parseBackup} are the file
 * format; {@link restoreBackup} writes the old contents back.
 *
 * File: the 8 bytes `NXSBAK01`, the StateFS area's byte offset in the image (u64) and its size in
 * bytes (u64); then entries of `block u64 (in the StateFS area), count u32, count * 512 bytes,
 * CRC32-C u32 of the entry's bytes before it`.
 *
 * @example Undo a repair
 * ```ts
 * import { MemoryBlockDevice, parseBackup, restoreBackup } from "./mod.ts";
 * declare const dev: MemoryBlockDevice;
 * declare const file: Uint8Array;
 * await restoreBackup(dev, parseBackup(file));
 * ```
 *
 * @module
 */

import { type BlockDevice, BlockDeviceError } from "./block_device.ts";
import { crc32c } from "./crc.ts";

/** Receives `old`, the contents of `count` blocks from `block`, before they are rewritten. */
export type BackupSink = (block: number, old: Uint8Array) => void | Promise<void>;

const MAGIC = "NXSBAK01";
const HEADER = 24;

/** A device that reports the old contents of each block to `sink` before its first rewrite. */
export class BackupDevice implements BlockDevice {
  readonly #saved = new Set<number>();

  /** Wraps `inner`; `sink` is awaited before each write reaches `inner`. */
  constructor(readonly inner: BlockDevice, readonly sink: BackupSink) {}

  /** Bytes per block of the inner device. */
  get blockSize(): number {
    return this.inner.blockSize;
  }

  /** Blocks of the inner device. */
  get blockCount(): number {
    return this.inner.blockCount;
  }

  /** Reads from the inner device. */
  read(block: number, count: number): Promise<Uint8Array> {
    return this.inner.read(block, count);
  }

  /** Saves what `data` replaces (blocks not saved before), then writes it. */
  async write(block: number, data: Uint8Array): Promise<void> {
    const count = data.length / this.blockSize;
    let run = -1;
    for (let b = block; b <= block + count; b++) {
      const fresh = b < block + count && !this.#saved.has(b);
      if (fresh && run < 0) run = b;
      if (!fresh && run >= 0) {
        await this.sink(run, await this.inner.read(run, b - run));
        for (let k = run; k < b; k++) this.#saved.add(k);
        run = -1;
      }
    }
    await this.inner.write(block, data);
  }

  /** Syncs the inner device. */
  sync(): Promise<void> {
    return this.inner.sync();
  }
}

/** The file header for a StateFS area at `offsetBytes` of `sizeBytes` in its image. */
export function encodeBackupHeader(offsetBytes: number, sizeBytes: number): Uint8Array {
  const b = new Uint8Array(HEADER);
  b.set(new TextEncoder().encode(MAGIC));
  const v = new DataView(b.buffer);
  v.setBigUint64(8, BigInt(offsetBytes), true);
  v.setBigUint64(16, BigInt(sizeBytes), true);
  return b;
}

/** One entry: the old contents of the blocks from `block`. */
export function encodeBackupEntry(block: number, old: Uint8Array): Uint8Array {
  const b = new Uint8Array(12 + old.length + 4);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(block), true);
  v.setUint32(8, old.length / 512, true);
  b.set(old, 12);
  v.setUint32(12 + old.length, crc32c(b.subarray(0, 12 + old.length)), true);
  return b;
}

/** A parsed backup file. */
export interface Backup {
  /** Byte offset of the StateFS area in its image. */
  offsetBytes: number;
  /** Size of the StateFS area in bytes. */
  sizeBytes: number;
  /** Saved block runs, in the order they were saved. */
  entries: Array<{ block: number; data: Uint8Array }>;
}

/** Parses a backup file; throws `BlockDeviceError` `BAD_LENGTH` when it is not one or is damaged. */
export function parseBackup(file: Uint8Array): Backup {
  const bad = (why: string) => new BlockDeviceError("BAD_LENGTH", `not a StateFS backup: ${why}`);
  if (file.length < HEADER || new TextDecoder().decode(file.subarray(0, 8)) !== MAGIC) {
    throw bad("no NXSBAK01 header");
  }
  const v = new DataView(file.buffer, file.byteOffset, file.length);
  const out: Backup = {
    offsetBytes: Number(v.getBigUint64(8, true)),
    sizeBytes: Number(v.getBigUint64(16, true)),
    entries: [],
  };
  for (let p = HEADER; p < file.length;) {
    if (file.length - p < 16) throw bad(`entry at byte ${p} is cut off`);
    const block = Number(v.getBigUint64(p, true));
    const len = v.getUint32(p + 8, true) * 512;
    if (file.length - p < 16 + len) throw bad(`entry at byte ${p} is cut off`);
    if (crc32c(file.subarray(p, p + 12 + len)) !== v.getUint32(p + 12 + len, true)) {
      throw bad(`entry at byte ${p} fails its CRC`);
    }
    out.entries.push({ block, data: file.slice(p + 12, p + 12 + len) });
    p += 16 + len;
  }
  return out;
}

/** Writes every saved block back to `dev` and syncs; returns the number of blocks restored. */
export async function restoreBackup(dev: BlockDevice, backup: Backup): Promise<number> {
  let blocks = 0;
  for (const e of backup.entries) {
    await dev.write(e.block, e.data);
    blocks += e.data.length / 512;
  }
  await dev.sync();
  return blocks;
}
