/**
 * The seeded schedule: the kernel's {@link SimSchedule} with every choice drawn from the run
 * seed. Which ready task runs next is uniform over the ready queue; a receiver woken by a message
 * waits out a delivery latency of 0..{@link MAX_DELIVERY_DELAY_NS}; a device completes a
 * notification's requests after 1..{@link MAX_COMPLETION_DELAY_NS}. Each choice has its own
 * stream, so the same seed gives the same run byte for byte.
 *
 * @module
 */

import type { SimSchedule } from "../kernel/schedule.ts";
import { Prng } from "./prng.ts";

/** Longest delivery latency, in virtual ns (a few syscalls' worth). */
export const MAX_DELIVERY_DELAY_NS = 5_000;
/** Longest completion latency of a device, in virtual ns (a fast SSD's write). */
export const MAX_COMPLETION_DELAY_NS = 200_000;

/** A {@link SimSchedule} whose every choice comes from `seed`. */
export class SeededSchedule implements SimSchedule {
  readonly #pick: Prng;
  readonly #delivery: Prng;
  readonly #completion: Prng;

  /** Creates the schedule of run `seed` (a non-negative safe integer). */
  constructor(readonly seed: number) {
    this.#pick = Prng.stream(seed, "schedule");
    this.#delivery = Prng.stream(seed, "delivery");
    this.#completion = Prng.stream(seed, "completion");
  }

  /** Uniform over the ready tasks. */
  pickReady(ready: number): number {
    return this.#pick.below(ready);
  }

  /** Half the deliveries are immediate; the others take up to the bound. */
  deliveryDelay(): number {
    const r = this.#delivery.nextU32();
    return (r & 1) === 0 ? 0 : (r >>> 1) % (MAX_DELIVERY_DELAY_NS + 1);
  }

  /** 1 ns up to the bound: a device is never instantaneous in a seeded run. */
  completionDelay(): number {
    return 1 + this.#completion.below(MAX_COMPLETION_DELAY_NS);
  }
}
