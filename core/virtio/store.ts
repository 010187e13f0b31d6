/**
 * Backing stores behind the virtio-blk device model: the medium the device reads and writes.
 * A store is addressed in 512-byte sectors and is synchronous, so a request completes within
 * the MMIO write that notified it and the simulation stays deterministic.
 *
 * `flush()` is the durability barrier the device's FLUSH request reaches. Durability is the
 * simulation's business: a write the device completed is on the medium (the image file, through
 * the host's page cache) as soon as the store returns, and what a simulated power cut keeps is
 * decided by the fault layer (fault.ts), never by the host. So a file region does not
 * `fdatasync` per FLUSH: it syncs the host file once, when it is closed (or on {@link
 * FileRegionStore.sync}), which only guards against the host itself crashing (docs/disk.md).
 *
 * @module
 */

import { BLK_SECTOR_SIZE } from "./regs.ts";

/** Stable codes for store failures. */
export type StoreErrorCode =
  | "OUT_OF_RANGE"
  | "BAD_LENGTH"
  | "IO_ERROR"
  | "POWER_LOST"
  | "BAD_ARGUMENT"
  | "CLOSED";

/** A store failure with a stable code; the device turns it into an IOERR request status. */
export class StoreError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** A sector-addressed medium. */
export interface BlockStore {
  /** Number of 512-byte sectors. */
  readonly sectors: number;
  /** Reads `count` sectors from `sector`. Throws {@link StoreError}. */
  read(sector: number, count: number): Uint8Array;
  /**
   * Optional: reads `out.length / 512` sectors from `sector` into `out` (which may alias guest
   * memory), sparing the device a copy. Throws {@link StoreError}.
   */
  readInto?(sector: number, out: Uint8Array): void;
  /**
   * Writes `data` (whole sectors) at `sector`. Throws {@link StoreError}. `data` may alias guest
   * memory: a store that keeps the bytes past the call must copy them.
   */
  write(sector: number, data: Uint8Array): void;
  /** Makes every completed write durable. Throws {@link StoreError}. */
  flush(): void;
}

/**
 * Throws OUT_OF_RANGE / BAD_LENGTH unless `count` sectors from `sector` lie inside a store of
 * `sectors` sectors. Shared by every store so the checks (and messages) are one.
 */
export function checkSectorRange(sectors: number, sector: number, count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new StoreError("BAD_LENGTH", `bad sector count ${count}`);
  }
  if (!Number.isSafeInteger(sector) || sector < 0 || sector + count > sectors) {
    throw new StoreError(
      "OUT_OF_RANGE",
      `sectors ${sector}..${sector + count} outside a store of ${sectors} sectors`,
    );
  }
}

/** Throws BAD_LENGTH unless `data` is a whole number of sectors; returns the sector count. */
export function sectorCount(data: Uint8Array): number {
  if (data.length % BLK_SECTOR_SIZE !== 0) {
    throw new StoreError("BAD_LENGTH", `write of ${data.length} bytes is not whole sectors`);
  }
  return data.length / BLK_SECTOR_SIZE;
}

/** A store in host memory. */
export class MemoryStore implements BlockStore {
  /** Number of 512-byte sectors. */
  readonly sectors: number;
  readonly #bytes: Uint8Array;
  #flushes = 0;

  /** Creates a zeroed store of `sectors` sectors, or wraps `bytes` (a whole number of sectors). */
  constructor(sectorsOrBytes: number | Uint8Array) {
    if (typeof sectorsOrBytes === "number") {
      if (!Number.isSafeInteger(sectorsOrBytes) || sectorsOrBytes < 0) {
        throw new StoreError("BAD_ARGUMENT", `bad sector count ${sectorsOrBytes}`);
      }
      this.#bytes = new Uint8Array(sectorsOrBytes * BLK_SECTOR_SIZE);
    } else {
      this.#bytes = sectorsOrBytes;
    }
    this.sectors = sectorCount(this.#bytes);
  }

  /** The whole medium (live view, not a copy). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** How many flushes reached this store. */
  get flushes(): number {
    return this.#flushes;
  }

  /** Reads `count` sectors from `sector`. */
  read(sector: number, count: number): Uint8Array {
    checkSectorRange(this.sectors, sector, count);
    const at = sector * BLK_SECTOR_SIZE;
    return this.#bytes.slice(at, at + count * BLK_SECTOR_SIZE);
  }

  /** Reads whole sectors from `sector` into `out`. */
  readInto(sector: number, out: Uint8Array): void {
    checkSectorRange(this.sectors, sector, sectorCount(out));
    const at = sector * BLK_SECTOR_SIZE;
    out.set(this.#bytes.subarray(at, at + out.length));
  }

  /** Writes whole sectors at `sector`. */
  write(sector: number, data: Uint8Array): void {
    checkSectorRange(this.sectors, sector, sectorCount(data));
    this.#bytes.set(data, sector * BLK_SECTOR_SIZE);
  }

  /** Memory is its own medium: nothing to persist. Counted so tests can see ordering. */
  flush(): void {
    this.#flushes++;
  }
}

/**
 * A store over a byte region of a file (a partition of a disk image, or the whole file).
 * Reads past the end of a shorter (sparse or truncated) file return zeros. Writes go to the file
 * at once; the host file is `fdatasync`ed when the store is closed after a write (or by
 * {@link sync}), not per FLUSH (see the module note). The store does not own the file unless it
 * opened it ({@link FileRegionStore.open}).
 */
export class FileRegionStore implements BlockStore {
  /** Number of 512-byte sectors in the region. */
  readonly sectors: number;
  /** Byte offset of the region in the file. */
  readonly offset: number;
  readonly #file: Deno.FsFile;
  readonly #owned: boolean;
  #closed = false;
  /** Written since the host file was last synced. */
  #unsynced = false;

  /**
   * Wraps `length` bytes of `file` starting at byte `offset`. Both must be multiples of 512.
   * `owned` makes {@link close} close the file too.
   */
  constructor(file: Deno.FsFile, offset: number, length: number, owned = false) {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % BLK_SECTOR_SIZE !== 0) {
      throw new StoreError("BAD_ARGUMENT", `region offset ${offset} is not a multiple of 512`);
    }
    if (!Number.isSafeInteger(length) || length < 0 || length % BLK_SECTOR_SIZE !== 0) {
      throw new StoreError("BAD_ARGUMENT", `region length ${length} is not a multiple of 512`);
    }
    this.#file = file;
    this.offset = offset;
    this.sectors = length / BLK_SECTOR_SIZE;
    this.#owned = owned;
  }

  /**
   * Opens `path` read-write and wraps a region of it: from `offset` (default 0) for `length`
   * bytes (default: to the end of the file). The file is closed by {@link close}.
   */
  static open(path: string, offset = 0, length?: number): FileRegionStore {
    const file = Deno.openSync(path, { read: true, write: true });
    try {
      const len = length ?? file.statSync().size - offset;
      return new FileRegionStore(file, offset, len, true);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  #live(): void {
    if (this.#closed) throw new StoreError("CLOSED", "file store is closed");
  }

  /** Reads `count` sectors from `sector`; bytes past the end of the file read as zeros. */
  read(sector: number, count: number): Uint8Array {
    checkSectorRange(this.sectors, sector, count);
    const out = new Uint8Array(count * BLK_SECTOR_SIZE);
    this.readInto(sector, out);
    return out;
  }

  /** Reads whole sectors from `sector` into `out`; bytes past the end of the file read as zeros. */
  readInto(sector: number, out: Uint8Array): void {
    this.#live();
    checkSectorRange(this.sectors, sector, sectorCount(out));
    try {
      this.#file.seekSync(this.offset + sector * BLK_SECTOR_SIZE, Deno.SeekMode.Start);
      let done = 0;
      while (done < out.length) {
        const n = this.#file.readSync(out.subarray(done));
        if (n === null || n === 0) {
          out.fill(0, done); // end of file: the rest reads as zeros
          break;
        }
        done += n;
      }
    } catch (err) {
      throw new StoreError("IO_ERROR", `read of sector ${sector} failed: ${String(err)}`);
    }
  }

  /** Writes whole sectors at `sector`. */
  write(sector: number, data: Uint8Array): void {
    this.#live();
    checkSectorRange(this.sectors, sector, sectorCount(data));
    try {
      this.#file.seekSync(this.offset + sector * BLK_SECTOR_SIZE, Deno.SeekMode.Start);
      let done = 0;
      this.#unsynced = true;
      while (done < data.length) done += this.#file.writeSync(data.subarray(done));
    } catch (err) {
      throw new StoreError("IO_ERROR", `write of sector ${sector} failed: ${String(err)}`);
    }
  }

  /**
   * The device's FLUSH: every completed write is already in the file, which is all the
   * simulation needs; the host sync is left to {@link close}.
   */
  flush(): void {
    this.#live();
  }

  /** True when writes since the last host sync are not `fdatasync`ed yet. */
  get unsynced(): boolean {
    return this.#unsynced;
  }

  /** `fdatasync` the host file when anything was written since the last sync. */
  sync(): void {
    this.#live();
    if (!this.#unsynced) return;
    try {
      this.#file.syncDataSync();
    } catch (err) {
      throw new StoreError("IO_ERROR", `sync of the image file failed: ${String(err)}`);
    }
    this.#unsynced = false;
  }

  /**
   * Syncs what was written (see {@link sync}) and stops using the file; closes it when this store
   * opened it. Idempotent. A failed sync still closes, then throws IO_ERROR.
   */
  close(): void {
    if (this.#closed) return;
    try {
      this.sync();
    } finally {
      this.#closed = true;
      if (this.#owned) this.#file.close();
    }
  }
}
