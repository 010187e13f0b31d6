/**
 * samgrd's registry: one namespace per caller identity, because a slot number only means
 * something in the cap table of the task that registered it. Bounded in callers and in names
 * per caller, so no client can grow it without limit.
 *
 * @module
 */

import { MAX_CALLERS, MAX_NAMES_PER_CALLER, type SlotPair } from "./protocol.ts";

/** Outcome of {@link Registry.register}. */
export type RegisterOutcome = "ok" | "full";

/** Name -> slot pair maps, one per caller identity. */
export class Registry {
  #spaces = new Map<bigint, Map<string, SlotPair>>();

  /** Creates a registry with the given bounds (defaults from the protocol). */
  constructor(
    readonly maxCallers: number = MAX_CALLERS,
    readonly maxNamesPerCaller: number = MAX_NAMES_PER_CALLER,
  ) {}

  /** Stores (or replaces) `name` in `caller`'s namespace. */
  register(caller: bigint, name: string, pair: SlotPair): RegisterOutcome {
    let space = this.#spaces.get(caller);
    if (space === undefined) {
      if (this.#spaces.size >= this.maxCallers) return "full";
      space = new Map();
      this.#spaces.set(caller, space);
    }
    if (!space.has(name) && space.size >= this.maxNamesPerCaller) return "full";
    space.set(name, { send: pair.send, recv: pair.recv });
    return "ok";
  }

  /** The pair `caller` registered under `name`, or undefined. */
  lookup(caller: bigint, name: string): SlotPair | undefined {
    const pair = this.#spaces.get(caller)?.get(name);
    return pair === undefined ? undefined : { ...pair };
  }

  /** Number of names `caller` holds. */
  count(caller: bigint): number {
    return this.#spaces.get(caller)?.size ?? 0;
  }
}
