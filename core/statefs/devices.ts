/**
 * Block devices StateFS runs on outside the simulation: memory, a byte range of a host file
 * (a partition of a disk image, or the whole file), and a block-range view of any other device.
 *
 * @module
 */

import { BLOCK_SIZE, type BlockDevice, BlockDeviceError, readBlocksInto } from "./block_device.ts";

/** Validates a block range against a device size; shared by every device here. */
function checkRange(dev: BlockDevice, block: number, count: number): void {
  if (!Number.isInteger(block) || !Number.isInteger(count) || block < 0 || count < 0) {
    throw new BlockDeviceError("OUT_OF_RANGE", `bad block range ${block}+${count}`);
  }
  if (block + count > dev.blockCount) {
    throw new BlockDeviceError(
      "OUT_OF_RANGE",
      `blocks ${block}..${block + count} beyond device end (${dev.blockCount} blocks)`,
    );
  }
}

function wholeBlocks(dev: BlockDevice, data: Uint8Array, what: "read" | "write"): number {
  if (data.length % dev.blockSize !== 0) {
    throw new BlockDeviceError(
      "BAD_LENGTH",
      `${what} of ${data.length} bytes is not a whole number of ${dev.blockSize}-byte blocks`,
    );
  }
  return data.length / dev.blockSize;
}

function checkData(dev: BlockDevice, data: Uint8Array): number {
  return wholeBlocks(dev, data, "write");
}

/** A device held in memory; `snapshot()` copies its bytes (what a power cut would leave). */
export class MemoryBlockDevice implements BlockDevice {
  /** Bytes per block. */
  readonly blockSize: number;
  /** Number of blocks. */
  readonly blockCount: number;
  /** Number of `sync()` calls so far (tests use it to check durability points). */
  syncCount = 0;
  #data: Uint8Array;

  /** Creates a zero-filled device of `blockCount` blocks of `blockSize` bytes. */
  constructor(blockCount: number, blockSize: number = BLOCK_SIZE) {
    if (!Number.isInteger(blockCount) || blockCount < 0) {
      throw new BlockDeviceError("BAD_LENGTH", `bad block count ${blockCount}`);
    }
    if (!Number.isInteger(blockSize) || blockSize <= 0) {
      throw new BlockDeviceError("BAD_LENGTH", `bad block size ${blockSize}`);
    }
    this.blockSize = blockSize;
    this.blockCount = blockCount;
    this.#data = new Uint8Array(blockCount * blockSize);
  }

  /** Creates a device holding a copy of `bytes` (a whole number of blocks). */
  static fromBytes(bytes: Uint8Array, blockSize: number = BLOCK_SIZE): MemoryBlockDevice {
    if (bytes.length % blockSize !== 0) {
      throw new BlockDeviceError("BAD_LENGTH", `${bytes.length} bytes is not whole blocks`);
    }
    const dev = new MemoryBlockDevice(bytes.length / blockSize, blockSize);
    dev.#data.set(bytes);
    return dev;
  }

  /** Reads `count` blocks from `block` (a copy). */
  read(block: number, count: number): Promise<Uint8Array> {
    try {
      checkRange(this, block, count);
    } catch (err) {
      return Promise.reject(err);
    }
    const start = block * this.blockSize;
    return Promise.resolve(this.#data.slice(start, start + count * this.blockSize));
  }

  /** Reads whole blocks from `block` into `out`. */
  readInto(block: number, out: Uint8Array): Promise<void> {
    try {
      checkRange(this, block, wholeBlocks(this, out, "read"));
    } catch (err) {
      return Promise.reject(err);
    }
    const start = block * this.blockSize;
    out.set(this.#data.subarray(start, start + out.length));
    return Promise.resolve();
  }

  /** Writes whole blocks at `block`. */
  write(block: number, data: Uint8Array): Promise<void> {
    try {
      checkRange(this, block, checkData(this, data));
    } catch (err) {
      return Promise.reject(err);
    }
    this.#data.set(data, block * this.blockSize);
    return Promise.resolve();
  }

  /** Memory is always "durable"; counts the call. */
  sync(): Promise<void> {
    this.syncCount++;
    return Promise.resolve();
  }

  /** A copy of every byte on the device. */
  snapshot(): Uint8Array {
    return this.#data.slice();
  }
}

/** Options for {@link FileBlockDevice.open}. */
export interface FileBlockDeviceOptions {
  /** Where the device starts in the file (a multiple of 512). Default 0. */
  offsetBytes?: number;
  /** Device length in bytes (a multiple of 512). Default: the rest of the file. */
  lengthBytes?: number;
  /** Open without write access; writes reject with `READ_ONLY`. */
  readOnly?: boolean;
}

/**
 * A device over a byte range of a host file. I/O is synchronous underneath (the host process
 * has nothing else to do while StateFS waits), and `sync()` is a real `fdatasync`.
 */
export class FileBlockDevice implements BlockDevice {
  /** Bytes per block (always 512). */
  readonly blockSize: number = BLOCK_SIZE;
  /** Number of blocks in the range. */
  readonly blockCount: number;
  /** Byte offset of block 0 in the file. */
  readonly offsetBytes: number;
  /** True when opened without write access. */
  readonly readOnly: boolean;
  #file: Deno.FsFile | undefined;
  #path: string;

  private constructor(
    file: Deno.FsFile,
    path: string,
    offsetBytes: number,
    blockCount: number,
    readOnly: boolean,
  ) {
    this.#file = file;
    this.#path = path;
    this.offsetBytes = offsetBytes;
    this.blockCount = blockCount;
    this.readOnly = readOnly;
  }

  /**
   * Opens `path` as a block device. Rejects with {@link BlockDeviceError}: `NOT_FOUND` (no such
   * file), `IO_ERROR` (not a regular file, no permission), `BAD_LENGTH` (offset/length not whole
   * blocks, or an empty range), `OUT_OF_RANGE` (range beyond the end of the file).
   */
  static async open(path: string, opts: FileBlockDeviceOptions = {}): Promise<FileBlockDevice> {
    const offset = opts.offsetBytes ?? 0;
    const readOnly = opts.readOnly ?? false;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new BlockDeviceError("NOT_FOUND", `${path}: no such file`);
      }
      throw new BlockDeviceError("IO_ERROR", `${path}: ${(err as Error).message}`);
    }
    if (!info.isFile) throw new BlockDeviceError("IO_ERROR", `${path}: not a regular file`);
    if (!Number.isInteger(offset) || offset < 0 || offset % BLOCK_SIZE !== 0) {
      throw new BlockDeviceError("BAD_LENGTH", `offset ${offset} is not a multiple of 512`);
    }
    const length = opts.lengthBytes ?? info.size - offset;
    if (!Number.isInteger(length) || length <= 0 || length % BLOCK_SIZE !== 0) {
      throw new BlockDeviceError(
        "BAD_LENGTH",
        `${path}: length ${length} is not a positive multiple of 512`,
      );
    }
    if (offset + length > info.size) {
      throw new BlockDeviceError(
        "OUT_OF_RANGE",
        `${path}: range ${offset}+${length} beyond file end (${info.size} bytes)`,
      );
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: !readOnly });
    } catch (err) {
      throw new BlockDeviceError("IO_ERROR", `${path}: ${(err as Error).message}`);
    }
    return new FileBlockDevice(file, path, offset, length / BLOCK_SIZE, readOnly);
  }

  #open(): Deno.FsFile {
    if (!this.#file) throw new BlockDeviceError("CLOSED", `${this.#path}: device closed`);
    return this.#file;
  }

  /** Reads `count` blocks from `block`. */
  read(block: number, count: number): Promise<Uint8Array> {
    try {
      const file = this.#open();
      checkRange(this, block, count);
      const out = new Uint8Array(count * BLOCK_SIZE);
      this.#readAt(file, block, out);
      return Promise.resolve(out);
    } catch (err) {
      return Promise.reject(wrapIo(err, this.#path));
    }
  }

  /** Reads whole blocks from `block` into `out`. */
  readInto(block: number, out: Uint8Array): Promise<void> {
    try {
      const file = this.#open();
      checkRange(this, block, wholeBlocks(this, out, "read"));
      this.#readAt(file, block, out);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(wrapIo(err, this.#path));
    }
  }

  #readAt(file: Deno.FsFile, block: number, out: Uint8Array): void {
    file.seekSync(this.offsetBytes + block * BLOCK_SIZE, Deno.SeekMode.Start);
    let done = 0;
    while (done < out.length) {
      const n = file.readSync(out.subarray(done));
      if (n === null || n === 0) {
        throw new BlockDeviceError("IO_ERROR", `${this.#path}: short read at block ${block}`);
      }
      done += n;
    }
  }

  /** Writes whole blocks at `block`. */
  write(block: number, data: Uint8Array): Promise<void> {
    try {
      const file = this.#open();
      if (this.readOnly) {
        throw new BlockDeviceError("READ_ONLY", `${this.#path}: opened read-only`);
      }
      checkRange(this, block, checkData(this, data));
      file.seekSync(this.offsetBytes + block * BLOCK_SIZE, Deno.SeekMode.Start);
      let done = 0;
      while (done < data.length) done += file.writeSync(data.subarray(done));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(wrapIo(err, this.#path));
    }
  }

  /** `fdatasync`: makes completed writes durable. */
  sync(): Promise<void> {
    try {
      const file = this.#open();
      if (!this.readOnly) file.syncDataSync();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(wrapIo(err, this.#path));
    }
  }

  /** Closes the file; later calls reject with `CLOSED`. Closing twice is harmless. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

function wrapIo(err: unknown, path: string): BlockDeviceError {
  if (err instanceof BlockDeviceError) return err;
  return new BlockDeviceError("IO_ERROR", `${path}: ${(err as Error).message}`);
}

/** A window of `blockCount` blocks of `base` starting at `startBlock` (a partition). */
export class SubBlockDevice implements BlockDevice {
  /** Bytes per block (that of the base device). */
  readonly blockSize: number;
  /** Number of blocks in the window. */
  readonly blockCount: number;
  /** First block of the window on the base device. */
  readonly startBlock: number;
  #base: BlockDevice;

  /** Creates the view; throws `OUT_OF_RANGE` when the window does not fit in `base`. */
  constructor(base: BlockDevice, startBlock: number, blockCount: number) {
    checkRange(base, startBlock, blockCount);
    this.#base = base;
    this.blockSize = base.blockSize;
    this.startBlock = startBlock;
    this.blockCount = blockCount;
  }

  /** Reads `count` blocks from `block` of the window. */
  read(block: number, count: number): Promise<Uint8Array> {
    try {
      checkRange(this, block, count);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#base.read(this.startBlock + block, count);
  }

  /** Reads whole blocks from `block` of the window into `out`. */
  readInto(block: number, out: Uint8Array): Promise<void> {
    try {
      checkRange(this, block, wholeBlocks(this, out, "read"));
    } catch (err) {
      return Promise.reject(err);
    }
    return readBlocksInto(this.#base, this.startBlock + block, out);
  }

  /** Writes whole blocks at `block` of the window. */
  write(block: number, data: Uint8Array): Promise<void> {
    try {
      checkRange(this, block, checkData(this, data));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#base.write(this.startBlock + block, data);
  }

  /** Syncs the base device. */
  sync(): Promise<void> {
    return this.#base.sync();
  }
}
