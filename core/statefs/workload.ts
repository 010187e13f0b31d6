/**
 * The seeded random StateFS workload: puts, deletes (of keys that are live), batches (some
 * aborted, some deleting what they put), syncs, compactions and reopens. One generator for every
 * place that drives the engine at random: the engine's crash tests and `nexus torture power`.
 * The steps come from the simulation PRNG, so a seed always gives the same workload.
 *
 * Values are 0 to 1,200 bytes, about a third of them several hundred bytes long so a small device
 * fills and compacts. With `distinct`, every value starts with a 4-byte serial number, so a
 * durability oracle can tell which write a surviving value came from.
 *
 * @example
 * ```ts
 * import { workloadSteps } from "./workload.ts";
 *
 * const steps = workloadSteps(7, 40, { distinct: true });
 * steps.length; // 40
 * ```
 *
 * @module
 */

import { Prng } from "../simulation/prng.ts";
import type { BatchOp } from "./engine.ts";

/** One workload step. */
export type WorkloadStep =
  | { kind: "put"; key: string; value: Uint8Array }
  | { kind: "delete"; key: string }
  | { kind: "batch"; ops: BatchOp[]; abort: boolean }
  | { kind: "sync" }
  | { kind: "compact" }
  | { kind: "reopen" };

/** Keys the workload writes: flat and nested, ASCII and not. */
export const WORKLOAD_KEYS: readonly string[] = [
  ..."abcdefgh",
  "d/x",
  "dir/x",
  "dir/y",
  "é",
].map((k) => `/state/${k}`);

/** Options of {@link workloadSteps}. */
export interface WorkloadOptions {
  /** Keys to draw from (default {@link WORKLOAD_KEYS}). */
  keys?: readonly string[];
  /** Prefix every value with a 4-byte serial number so no two values are equal. */
  distinct?: boolean;
}

/** `n` steps of the workload for `seed`. */
export function workloadSteps(
  seed: number,
  n: number,
  opts: WorkloadOptions = {},
): WorkloadStep[] {
  const rng = new Prng(seed);
  const keys = opts.keys ?? WORKLOAD_KEYS;
  const pick = <T>(xs: readonly T[]): T => xs[rng.below(xs.length)];
  let serial = 0;
  const value = (): Uint8Array => {
    const r = rng.below(100);
    const len = r < 10 ? 0 : r < 60 ? 1 + rng.below(40) : r < 95 ? 300 + rng.below(400) : 1200;
    if (!opts.distinct) return rng.fill(new Uint8Array(len));
    const v = rng.fill(new Uint8Array(len + 4));
    new DataView(v.buffer).setUint32(0, ++serial);
    return v;
  };
  // Which keys exist after the steps so far, so deletes mostly hit something.
  const live = new Set<string>();
  const steps: WorkloadStep[] = [];
  while (steps.length < n) {
    const r = rng.below(100);
    if (r < 40) {
      const key = pick(keys);
      steps.push({ kind: "put", key, value: value() });
      live.add(key);
    } else if (r < 55 && live.size > 0) {
      const key = pick([...live]);
      steps.push({ kind: "delete", key });
      live.delete(key);
    } else if (r < 75) {
      const after = new Set(live);
      const ops: BatchOp[] = [];
      for (let i = 0, count = 1 + rng.below(4); i < count; i++) {
        if (rng.below(10) < 3 && after.size > 0) {
          const key = pick([...after]);
          ops.push({ op: "delete", key });
          after.delete(key);
        } else {
          const key = pick(keys);
          ops.push({ op: "put", key, value: value() });
          after.add(key);
        }
      }
      const abort = rng.below(4) === 0;
      steps.push({ kind: "batch", ops, abort });
      if (!abort) {
        live.clear();
        for (const k of after) live.add(k);
      }
    } else if (r < 88) steps.push({ kind: "sync" });
    else if (r < 94) steps.push({ kind: "compact" });
    else steps.push({ kind: "reopen" });
  }
  return steps;
}
