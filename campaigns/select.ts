/**
 * Which cases a campaign runs: seed ranges (`1..10000`, `7`, `1..5,9`), `--count N` from a base
 * seed, and `--shard i/n`, which keeps every n-th case from the i-th (0-based, so a Kubernetes
 * Indexed Job passes `JOB_COMPLETION_INDEX` as i): the shards of a campaign are disjoint, cover it,
 * and do not depend on how many jobs run them.
 *
 * @example
 * ```ts
 * import { applyShard, parseSeeds, parseShard } from "./select.ts";
 * applyShard(parseSeeds("1..10"), parseShard("1/3")); // [2, 5, 8]
 * ```
 *
 * @module
 */

/** A selection the user got wrong; the CLI prints it as one line (exit 2). */
export class SelectError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SelectError";
  }
}

/** Most cases one campaign may list. */
export const MAX_CASES = 10_000_000;

/** Parses `A..B`, `N`, or a comma list of them into seeds (u32, in the order given, no repeats). */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d{1,10})\s*(?:\.\.\s*(\d{1,10})\s*)?$/.exec(part);
    if (!m) throw new SelectError(`--seeds "${text}": expected A..B, N or a comma list of them`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > 0xffffffff || b > 0xffffffff) {
      throw new SelectError(`--seeds "${text}": seeds are 0..4294967295`);
    }
    if (b < a) throw new SelectError(`--seeds "${text}": range ${a}..${b} is empty`);
    if (out.length + (b - a + 1) > MAX_CASES) {
      throw new SelectError(`--seeds "${text}": more than ${MAX_CASES} seeds`);
    }
    for (let s = a; s <= b; s++) if (!seen.has(s)) seen.add(s), out.push(s);
  }
  return out;
}

/** `count` consecutive seeds from `base`. */
export function countSeeds(base: number, count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_CASES) {
    throw new SelectError(`--count must be 1..${MAX_CASES}, got ${count}`);
  }
  if (!Number.isSafeInteger(base) || base < 0 || base + count - 1 > 0xffffffff) {
    throw new SelectError(`--count ${count} from seed ${base} runs past 4294967295`);
  }
  return Array.from({ length: count }, (_, i) => base + i);
}

/** One shard of a campaign: index `i` of `n` (0 <= i < n). */
export interface Shard {
  /** 0-based shard index. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** Parses `i/n` (0-based i). */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new SelectError(`--shard "${text}": expected i/n with 0 <= i < n (e.g. 0/4)`);
  }
  return { index, count };
}

/** The cases of shard `s`: every `count`-th case starting at position `index`. */
export function applyShard<T>(cases: readonly T[], s: Shard | undefined): T[] {
  if (!s || s.count === 1) return [...cases];
  return cases.filter((_, i) => i % s.count === s.index);
}
