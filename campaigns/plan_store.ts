/**
 * The medium of a campaign boot: core/virtio/fault.ts's {@link FaultyStore} carrying out a
 * plan exactly as `nexus boot --seed S --faults PLAN` does (same options from the same seed), with
 * read and write requests counted so a fault-free run measures the range plans draw from.
 *
 * @module
 */

import { FaultyStore } from "../core/virtio/fault.ts";
import { faultOptions, type FaultPlan } from "../core/virtio/fault_plan.ts";
import type { BlockStore } from "../core/virtio/store.ts";

/** Runs a plan over an inner medium; after a cut the inner medium holds what a reboot finds. */
export class PlanStore implements BlockStore {
  readonly #faulty: FaultyStore;
  #reads = 0;
  #writes = 0;

  /** Wraps `inner` with the write cache and the faults `plan` injects in run `seed`. */
  constructor(inner: BlockStore, plan: FaultPlan, seed: number) {
    this.#faulty = new FaultyStore(inner, faultOptions(plan, seed));
  }

  /** Number of sectors. */
  get sectors(): number {
    return this.#faulty.sectors;
  }

  /** Read requests so far. */
  get reads(): number {
    return this.#reads;
  }

  /** Write requests so far. */
  get writes(): number {
    return this.#writes;
  }

  /** True once the plan's power cut happened. */
  get powerLost(): boolean {
    return this.#faulty.powerLost;
  }

  /** The cut's id, once it happened. */
  get cutId(): string | undefined {
    return this.#faulty.cut?.id;
  }

  /** Reads through the cache. */
  read(sector: number, count: number): Uint8Array {
    this.#reads++;
    return this.#faulty.read(sector, count);
  }

  /** Reads through the cache into `out` (the device's path into guest memory, no copy). */
  readInto(sector: number, out: Uint8Array): void {
    this.#reads++;
    this.#faulty.readInto(sector, out);
  }

  /** Writes into the cache. */
  write(sector: number, data: Uint8Array): void {
    this.#writes++;
    this.#faulty.write(sector, data);
  }

  /** Moves the cache to the medium. */
  flush(): void {
    this.#faulty.flush();
  }

  /** The end of a run without a cut: power stays on, the cache reaches the medium. */
  settle(): void {
    if (!this.#faulty.powerLost) this.#faulty.drain();
  }
}
