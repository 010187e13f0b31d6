/**
 * The media campaigns run on: a copy-on-write memory image over a shared template, a block-device view of a sector store, and the logical
 * StateFS contents of a medium as the engine reads them back.
 *
 * @module
 */

import { type BlockStore, checkSectorRange, sectorCount } from "../core/virtio/store.ts";
import { BlockDeviceError } from "../core/statefs/block_device.ts";
import type { BlockDevice } from "../core/statefs/block_device.ts";
import { readGpt } from "../core/statefs/gpt.ts";
import { StateFs } from "../core/statefs/engine.ts";
import { crc32c } from "../core/statefs/crc.ts";

/** GPT name of the StateFS partition (the one statefsd mounts). */
export const STATE_PARTITION = "nexus-state";

/** Sectors per copy-on-write chunk (64 KiB). */
const CHUNK_SECTORS = 128;
const CHUNK_BYTES = CHUNK_SECTORS * 512;

/**
 * A memory medium over a shared template image: a 64 KiB chunk is copied the first time it is
 * written, so a boot per seed costs the chunks it touches, not a copy of the whole image.
 */
export class OverlayStore implements BlockStore {
  /** Number of 512-byte sectors. */
  readonly sectors: number;
  readonly #base: Uint8Array;
  readonly #chunks: Map<number, Uint8Array>;

  /** Creates a medium reading `base` (never written) until a chunk is written. */
  constructor(base: Uint8Array, chunks?: Map<number, Uint8Array>) {
    this.#base = base;
    this.sectors = sectorCount(base);
    this.#chunks = chunks ?? new Map();
  }

  /** Chunks copied so far. */
  get dirtyChunks(): number {
    return this.#chunks.size;
  }

  /** Reads `count` sectors from `sector`. */
  read(sector: number, count: number): Uint8Array {
    const out = new Uint8Array(count * 512);
    this.readInto(sector, out);
    return out;
  }

  /** Reads whole sectors from `sector` into `out`. */
  readInto(sector: number, out: Uint8Array): void {
    checkSectorRange(this.sectors, sector, sectorCount(out));
    let at = sector * 512;
    let done = 0;
    while (done < out.length) {
      const c = Math.floor(at / CHUNK_BYTES);
      const off = at - c * CHUNK_BYTES;
      const n = Math.min(CHUNK_BYTES - off, out.length - done);
      const chunk = this.#chunks.get(c);
      out.set(
        chunk ? chunk.subarray(off, off + n) : this.#base.subarray(at, at + n),
        done,
      );
      done += n;
      at += n;
    }
  }

  /** Writes whole sectors. */
  write(sector: number, data: Uint8Array): void {
    checkSectorRange(this.sectors, sector, sectorCount(data));
    let at = sector * 512;
    let done = 0;
    while (done < data.length) {
      const c = Math.floor(at / CHUNK_BYTES);
      const off = at - c * CHUNK_BYTES;
      const n = Math.min(CHUNK_BYTES - off, data.length - done);
      let chunk = this.#chunks.get(c);
      if (!chunk) {
        chunk = this.#base.slice(c * CHUNK_BYTES, (c + 1) * CHUNK_BYTES);
        this.#chunks.set(c, chunk);
      }
      chunk.set(data.subarray(done, done + n), off);
      done += n;
      at += n;
    }
  }

  /** Memory is its own medium. */
  flush(): void {}

  /** An independent copy of this medium (the template stays shared). */
  clone(): OverlayStore {
    const copy = new Map<number, Uint8Array>();
    for (const [c, b] of this.#chunks) copy.set(c, b.slice());
    return new OverlayStore(this.#base, copy);
  }

  /** The whole medium as one byte array (to save a failing case's image). */
  bytes(): Uint8Array {
    const out = this.#base.slice();
    for (const [c, b] of this.#chunks) out.set(b, c * CHUNK_BYTES);
    return out;
  }
}

/** A {@link BlockDevice} over sectors `[first, first + count)` of a synchronous store. */
export class StoreDevice implements BlockDevice {
  /** Bytes per block. */
  readonly blockSize = 512;
  /** Number of blocks. */
  readonly blockCount: number;
  readonly #store: BlockStore;
  readonly #first: number;

  /** Views `count` sectors of `store` from `first` (default: all of it). */
  constructor(store: BlockStore, first = 0, count = store.sectors - first) {
    this.#store = store;
    this.#first = first;
    this.blockCount = count;
  }

  #range(block: number, count: number): void {
    if (!Number.isSafeInteger(block) || block < 0 || count < 0 || block + count > this.blockCount) {
      throw new BlockDeviceError("OUT_OF_RANGE", `blocks ${block}+${count}`);
    }
  }

  /** Reads `count` blocks. */
  read(block: number, count: number): Promise<Uint8Array> {
    try {
      this.#range(block, count);
      return Promise.resolve(this.#store.read(this.#first + block, count));
    } catch (err) {
      return Promise.reject(asDeviceError(err));
    }
  }

  /** Writes whole blocks. */
  write(block: number, data: Uint8Array): Promise<void> {
    try {
      if (data.length % 512 !== 0) throw new BlockDeviceError("BAD_LENGTH", `${data.length}`);
      this.#range(block, data.length / 512);
      this.#store.write(this.#first + block, data);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(asDeviceError(err));
    }
  }

  /** Flushes the store. */
  sync(): Promise<void> {
    try {
      this.#store.flush();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(asDeviceError(err));
    }
  }
}

function asDeviceError(err: unknown): unknown {
  if (err instanceof BlockDeviceError) return err;
  return new BlockDeviceError("IO_ERROR", (err as Error)?.message ?? String(err));
}

/** Where the StateFS partition of a GPT disk lies, or a reason it cannot be found. */
export async function findStateArea(
  store: BlockStore,
): Promise<{ first: number; count: number } | { error: string }> {
  try {
    const gpt = await readGpt((lba, n) => Promise.resolve(store.read(lba, n)), store.sectors);
    const p = gpt.table.partitions.filter((x) => x.name === STATE_PARTITION);
    if (p.length !== 1) return { error: `${p.length} partitions named ${STATE_PARTITION}` };
    return { first: p[0].firstLba, count: p[0].lastLba - p[0].firstLba + 1 };
  } catch (err) {
    return { error: `GPT: ${(err as Error).message}` };
  }
}

/** The logical contents of a StateFS: every key under `/state/` with its value. */
export type StoreState = Map<string, Uint8Array>;

/** Reads every key and value the engine replays from `dev` (throws what `StateFs.open` throws). */
export async function readState(dev: BlockDevice): Promise<StoreState> {
  const fs = await StateFs.open(dev);
  const out: StoreState = new Map();
  for (const k of fs.list("/state/", 1_000_000)) {
    const v = await fs.get(k);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

const digests = new WeakMap<Uint8Array, string>();

/** A short stable digest of one value, for messages and state comparison (cached per array). */
export function valueDigest(v: Uint8Array | undefined): string {
  if (v === undefined) return "absent";
  let d = digests.get(v);
  if (d === undefined) {
    d = `${v.length}:${crc32c(v).toString(16).padStart(8, "0")}`;
    digests.set(v, d);
  }
  return d;
}

/** A canonical string of a whole state (sorted keys with value digests). */
export function stateKey(state: StoreState): string {
  return [...state.keys()].sort().map((k) => `${k}=${valueDigest(state.get(k))}`).join("\n");
}
