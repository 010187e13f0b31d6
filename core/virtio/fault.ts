/**
 * Fault injection between the virtio-blk device and its backing store.
 *
 * {@link FaultyStore} models a disk with a volatile write cache: a completed write sits in the
 * cache until a flush moves every cached write to the medium. A power cut after the N-th write
 * decides what of the cache survives, by one of three behaviours:
 *
 * - `atomic`: every completed write persists, in issue order;
 * - `reorder`: the writes since the last flush persist in any subset and any order, chosen by a
 *   seeded PRNG (a whole multi-sector write persists or not);
 * - `torn`: as `reorder`, and each multi-sector write may additionally persist only some of its
 *   sectors (a single 512-byte sector is never torn).
 *
 * This is exactly the durability model of the StateFS block-device contract, so an engine that
 * survives every cut point under `torn` is crash-safe under that model. After the cut the store
 * is dead (every request fails) and the inner store holds the image a reboot would find.
 *
 * Every cut point has an id, `cut:<write#>:<mode>:<seed>`; {@link parseCutId} turns it back into
 * the same cut, so a failing case replays exactly.
 *
 * Reads and writes touching chosen sectors can also be made to fail, and so can requests chosen
 * by number (the n-th read, write or flush).
 *
 * @module
 */

import { Prng } from "../simulation/prng.ts";
import { BLK_SECTOR_SIZE } from "./regs.ts";
import { type BlockStore, checkSectorRange, sectorCount, StoreError } from "./store.ts";

/** Bytes of one segment of the write cache's arena. */
const ARENA_SEGMENT = 256 * 1024;

/** What survives a power cut. */
export type CutMode = "atomic" | "reorder" | "torn";

/** Every cut behaviour, in a fixed order. */
export const CUT_MODES: readonly CutMode[] = ["atomic", "reorder", "torn"];

/** A power-cut point: after the `write`-th completed write (1-based), with a behaviour and seed. */
export interface CutPoint {
  /** Number of completed writes after which power is lost (>= 1). */
  write: number;
  /** What of the write cache survives. */
  mode: CutMode;
  /** PRNG seed (u32) choosing the surviving subset, order and torn sectors. */
  seed: number;
}

/** Formats a cut point as its replayable id, `cut:<write#>:<mode>:<seed>`. */
export function formatCutId(cut: CutPoint): string {
  return `cut:${cut.write}:${cut.mode}:${cut.seed >>> 0}`;
}

/** Parses a cut id made by {@link formatCutId}; throws {@link StoreError} BAD_ARGUMENT otherwise. */
export function parseCutId(id: string): CutPoint {
  const m = /^cut:([1-9][0-9]{0,14}):(atomic|reorder|torn):([0-9]{1,10})$/.exec(id);
  const seed = m ? Number(m[3]) : NaN;
  if (!m || seed > 0xffffffff) {
    throw new StoreError(
      "BAD_ARGUMENT",
      `bad cut id "${id}" (expected cut:<write# >= 1>:<atomic|reorder|torn>:<seed u32>)`,
    );
  }
  return { write: Number(m[1]), mode: m[2] as CutMode, seed };
}

/** A kind of request, as request-numbered faults count them. */
export type RequestOp = "read" | "write" | "flush";

/** Options for {@link FaultyStore}. */
export interface FaultOptions {
  /** Cut power after a chosen write (a {@link CutPoint} or its id). */
  cut?: CutPoint | string;
  /** Sectors whose reads fail with IO_ERROR. */
  readErrors?: Iterable<number>;
  /** Sectors whose writes fail with IO_ERROR (nothing of the failed write is stored). */
  writeErrors?: Iterable<number>;
  /**
   * Requests that fail with IO_ERROR by number: the n-th read, write or flush (1-based,
   * counting every attempt of that kind). A failed write stores nothing, a failed flush moves
   * nothing to the medium.
   */
  failRequests?: Partial<Record<RequestOp, Iterable<number>>>;
}

/** What a power cut did, for diagnostics and assertions. */
export interface CutReport {
  /** The cut id (replayable). */
  id: string;
  /** Writes in the cache at the cut. */
  cached: number;
  /** Writes (or, when torn, write fragments) that reached the medium. */
  persisted: number;
  /** Sectors that reached the medium. */
  sectorsPersisted: number;
}

interface CachedWrite {
  sector: number;
  data: Uint8Array;
}

/** A store with a volatile write cache, power cuts and injected sector errors. */
export class FaultyStore implements BlockStore {
  readonly #inner: BlockStore;
  readonly #cutPoint: CutPoint | undefined;
  readonly #readErrors: Set<number>;
  readonly #writeErrors: Set<number>;
  readonly #failRequests: Record<RequestOp, Set<number>>;
  readonly #attempts: Record<RequestOp, number> = { read: 0, write: 0, flush: 0 };
  #injected = 0;
  #cache: CachedWrite[] = [];
  /** Segments where cached writes keep their bytes (see {@link #keep}). */
  #arena: Uint8Array[] = [];
  /** The segment being filled (-1: none yet since the cache emptied) and the bytes used in it. */
  #segment = -1;
  #arenaUsed = 0;
  #writes = 0;
  #flushes = 0;
  #cut: CutReport | undefined;

  /** Wraps `inner`; nothing reaches it before a flush or a power cut. */
  constructor(inner: BlockStore, opts: FaultOptions = {}) {
    this.#inner = inner;
    this.#cutPoint = typeof opts.cut === "string" ? parseCutId(opts.cut) : opts.cut;
    if (this.#cutPoint) parseCutId(formatCutId(this.#cutPoint)); // validates a structured point too
    this.#readErrors = new Set(opts.readErrors ?? []);
    this.#writeErrors = new Set(opts.writeErrors ?? []);
    const fail = opts.failRequests ?? {};
    this.#failRequests = {
      read: new Set(fail.read ?? []),
      write: new Set(fail.write ?? []),
      flush: new Set(fail.flush ?? []),
    };
  }

  /** Requests failed on purpose so far (sector and numbered errors). */
  get injectedErrors(): number {
    return this.#injected;
  }

  /** Counts an attempt of `op`; throws IO_ERROR when it is one chosen to fail. */
  #numbered(op: RequestOp): void {
    const n = ++this.#attempts[op];
    if (this.#failRequests[op].has(n)) {
      this.#injected++;
      throw new StoreError("IO_ERROR", `injected I/O error on ${op} #${n}`);
    }
  }

  /** Number of 512-byte sectors. */
  get sectors(): number {
    return this.#inner.sectors;
  }

  /** Completed writes so far. */
  get writes(): number {
    return this.#writes;
  }

  /** Completed flushes so far. */
  get flushes(): number {
    return this.#flushes;
  }

  /** Writes in the volatile cache (issued since the last flush). */
  get cachedWrites(): number {
    return this.#cache.length;
  }

  /** The cut report once power was lost, else undefined. */
  get cut(): CutReport | undefined {
    return this.#cut;
  }

  /** True once power was lost: every further request fails with POWER_LOST. */
  get powerLost(): boolean {
    return this.#cut !== undefined;
  }

  #alive(): void {
    if (this.#cut) throw new StoreError("POWER_LOST", `power lost at ${this.#cut.id}`);
  }

  #hits(set: Set<number>, sector: number, count: number): number | undefined {
    if (set.size === 0) return undefined;
    for (let s = sector; s < sector + count; s++) if (set.has(s)) return s;
    return undefined;
  }

  /** Reads through the cache: the newest cached write of each sector wins over the medium. */
  read(sector: number, count: number): Uint8Array {
    this.#alive();
    checkSectorRange(this.sectors, sector, count);
    const out = new Uint8Array(count * BLK_SECTOR_SIZE);
    this.#readInto(sector, out);
    return out;
  }

  /** As {@link read}, into `out` (whole sectors, which may be guest memory): no buffer of its own. */
  readInto(sector: number, out: Uint8Array): void {
    this.#alive();
    checkSectorRange(this.sectors, sector, sectorCount(out));
    this.#readInto(sector, out);
  }

  #readInto(sector: number, out: Uint8Array): void {
    const count = out.length / BLK_SECTOR_SIZE;
    this.#numbered("read");
    const bad = this.#hits(this.#readErrors, sector, count);
    if (bad !== undefined) {
      this.#injected++;
      throw new StoreError("IO_ERROR", `injected read error at sector ${bad}`);
    }
    if (this.#inner.readInto) this.#inner.readInto(sector, out);
    else out.set(this.#inner.read(sector, count));
    const end = sector + count;
    for (const w of this.#cache) {
      const wEnd = w.sector + w.data.length / BLK_SECTOR_SIZE;
      const from = Math.max(sector, w.sector);
      const to = Math.min(end, wEnd);
      if (from >= to) continue;
      out.set(
        w.data.subarray((from - w.sector) * BLK_SECTOR_SIZE, (to - w.sector) * BLK_SECTOR_SIZE),
        (from - sector) * BLK_SECTOR_SIZE,
      );
    }
  }

  /** Caches a write; cuts power right after it when it is the chosen write. */
  write(sector: number, data: Uint8Array): void {
    this.#alive();
    const count = sectorCount(data);
    checkSectorRange(this.sectors, sector, count);
    this.#numbered("write");
    const bad = this.#hits(this.#writeErrors, sector, count);
    if (bad !== undefined) {
      this.#injected++;
      throw new StoreError("IO_ERROR", `injected write error at sector ${bad}`);
    }
    this.#cache.push({ sector, data: this.#keep(data) });
    this.#writes++;
    const cut = this.#cutPoint;
    if (cut && this.#writes === cut.write) this.#powerCut(cut.mode, cut.seed, formatCutId(cut));
  }

  /**
   * A copy of `data` (which may be guest memory) in the cache's arena. The arena's segments are
   * reused once the cache empties, so a run allocates about its largest cache, not every byte it
   * writes, and never copies a segment to grow it.
   */
  #keep(data: Uint8Array): Uint8Array {
    let seg = this.#arena[this.#segment];
    if (seg === undefined || this.#arenaUsed + data.length > seg.length) {
      // On to the next segment that can hold the write, or a new one: a segment holds several
      // writes, or one larger write whole, and stays for the next cache. Segments before the
      // current one hold cached writes; the ones skipped wait for the next cache.
      let next = this.#segment + 1;
      while (next < this.#arena.length && this.#arena[next].length < data.length) next++;
      if (next === this.#arena.length) {
        this.#arena.push(new Uint8Array(Math.max(ARENA_SEGMENT, data.length)));
      }
      this.#segment = next;
      this.#arenaUsed = 0;
      seg = this.#arena[next];
    }
    const copy = seg.subarray(this.#arenaUsed, this.#arenaUsed + data.length);
    copy.set(data);
    this.#arenaUsed += data.length;
    return copy;
  }

  /** Empties the cache (its writes reached the medium or were lost): the arena is free again. */
  #clearCache(): void {
    this.#cache = [];
    this.#segment = -1;
    this.#arenaUsed = 0;
  }

  /** Moves every cached write to the medium in issue order, then flushes the medium. */
  flush(): void {
    this.#alive();
    this.#numbered("flush");
    for (const w of this.#cache) this.#inner.write(w.sector, w.data);
    this.#clearCache();
    this.#inner.flush();
    this.#flushes++;
  }

  /**
   * Moves every cached write to the medium without counting a flush request (nor failing one):
   * the host keeping power on once a run is over. Does nothing after a power cut.
   */
  drain(): void {
    if (this.#cut) return;
    for (const w of this.#cache) this.#inner.write(w.sector, w.data);
    this.#clearCache();
    this.#inner.flush();
  }

  /**
   * Cuts power now: decides what of the cache reaches the medium (by `mode` and `seed`),
   * writes that to the inner store and flushes it, and kills this store. Returns the report.
   * A cut requested this way (not at a chosen write) is named
   * `cut-now:<writes so far>:<mode>:<seed>`.
   */
  powerCut(mode: CutMode, seed = 0): CutReport {
    return this.#powerCut(mode, seed, `cut-now:${this.#writes}:${mode}:${seed >>> 0}`);
  }

  #powerCut(mode: CutMode, seed: number, id: string): CutReport {
    this.#alive();
    const rng = new Prng(seed);
    let survivors: CachedWrite[];
    if (mode === "atomic") {
      survivors = this.#cache;
    } else {
      survivors = rng.shuffle(this.#cache.filter(() => rng.bool()));
      if (mode === "torn") {
        survivors = survivors.flatMap((w) => {
          const n = w.data.length / BLK_SECTOR_SIZE;
          if (n === 1) return [w];
          const parts: CachedWrite[] = [];
          for (let i = 0; i < n; i++) {
            if (!rng.bool()) continue;
            parts.push({
              sector: w.sector + i,
              data: w.data.subarray(i * BLK_SECTOR_SIZE, (i + 1) * BLK_SECTOR_SIZE),
            });
          }
          return parts;
        });
      }
    }
    let sectorsPersisted = 0;
    for (const w of survivors) {
      this.#inner.write(w.sector, w.data);
      sectorsPersisted += w.data.length / BLK_SECTOR_SIZE;
    }
    this.#inner.flush();
    this.#cut = {
      id,
      cached: this.#cache.length,
      persisted: survivors.length,
      sectorsPersisted,
    };
    this.#clearCache();
    return this.#cut;
  }
}
