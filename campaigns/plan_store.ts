/**
 * A medium that carries out a {@link FaultPlan}: it counts read and write requests, fails the
 * chosen ones with an I/O error, and cuts the power right after the chosen write through
 * core/virtio/fault.ts's volatile write cache (so what survives follows the same model the rest
 * of nexus tests against).
 *
 * @module
 */

import { FaultyStore } from "../core/virtio/fault.ts";
import { type BlockStore, StoreError } from "../core/virtio/store.ts";
import type { FaultPlan } from "./plan.ts";

/** Runs a plan over an inner medium; after a cut the inner medium holds what a reboot finds. */
export class PlanStore implements BlockStore {
  readonly #cache: FaultyStore;
  readonly #plan: FaultPlan;
  readonly #seed: number;
  readonly #readErr: Set<number>;
  readonly #writeErr: Set<number>;
  readonly #cutAt: number | undefined;
  #reads = 0;
  #writes = 0;
  #flushes = 0;
  #cutId: string | undefined;

  /** Wraps `inner` (the medium) with a write cache and the plan's faults; `seed` picks survivors. */
  constructor(inner: BlockStore, plan: FaultPlan, seed: number) {
    this.#cache = new FaultyStore(inner);
    this.#plan = plan;
    this.#seed = seed >>> 0;
    this.#readErr = new Set();
    this.#writeErr = new Set();
    for (const f of plan.faults) {
      if (f.kind === "ioerr") (f.on === "r" ? this.#readErr : this.#writeErr).add(f.n);
    }
    const p = plan.faults.find((f) => f.kind === "power");
    this.#cutAt = p?.kind === "power" ? p.write : undefined;
  }

  /** Number of sectors. */
  get sectors(): number {
    return this.#cache.sectors;
  }

  /** Read requests so far. */
  get reads(): number {
    return this.#reads;
  }

  /** Write requests so far. */
  get writes(): number {
    return this.#writes;
  }

  /** Flushes so far. */
  get flushes(): number {
    return this.#flushes;
  }

  /** True once the plan's power cut happened. */
  get powerLost(): boolean {
    return this.#cache.powerLost;
  }

  /** The cut's id, once it happened. */
  get cutId(): string | undefined {
    return this.#cutId;
  }

  /** Reads through the cache; the plan's chosen read fails. */
  read(sector: number, count: number): Uint8Array {
    const n = ++this.#reads;
    if (this.#readErr.has(n) && !this.#cache.powerLost) {
      throw new StoreError("IO_ERROR", `planned read error (read #${n})`);
    }
    return this.#cache.read(sector, count);
  }

  /** Writes into the cache; the chosen write fails, and the power goes after the cut's write. */
  write(sector: number, data: Uint8Array): void {
    const n = ++this.#writes;
    if (this.#writeErr.has(n) && !this.#cache.powerLost) {
      throw new StoreError("IO_ERROR", `planned write error (write #${n})`);
    }
    this.#cache.write(sector, data);
    if (n === this.#cutAt) {
      const p = this.#plan.faults.find((f) => f.kind === "power")!;
      if (p.kind === "power") this.#cutId = this.#cache.powerCut(p.mode, this.#seed ^ n).id;
    }
  }

  /** Moves the cache to the medium. */
  flush(): void {
    this.#cache.flush();
    this.#flushes++;
  }

  /** Cuts the power now with every cached write surviving in order (the end of a clean run). */
  settle(): void {
    if (!this.#cache.powerLost) this.#cache.flush();
  }
}
