/**
 * The simulation's one source of randomness: a small seeded PRNG (a Weyl sequence finished with
 * the MurmurHash3 mixer, a 32-bit SplitMix). Deterministic for a seed on every platform; never
 * used for anything secret. {@link Prng.stream} derives an independent generator per consumer
 * (scheduling, latencies, power cuts) from one run seed, so drawing more numbers in one place
 * never shifts what another place draws.
 *
 * @example Two consumers of one run seed
 * ```ts
 * import { Prng } from "./prng.ts";
 *
 * const sched = Prng.stream(12345, "sched");
 * const disk = Prng.stream(12345, "disk");
 * sched.below(4); // which of 4 ready tasks runs next
 * disk.below(50_000); // a completion latency in ns
 * ```
 *
 * @module
 */

/** Deterministic 32-bit pseudo-random generator. */
export class Prng {
  #state: number;

  /** Seeds the generator; only the low 32 bits of `seed` matter. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /**
   * A generator for the consumer named `name`, derived from `seed`: the same pair always gives
   * the same sequence, different names give unrelated ones.
   */
  static stream(seed: number, name: string): Prng {
    // FNV-1a over the name, mixed with the seed, then once through the finaliser.
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
    const mixer = new Prng((h ^ Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca6b)) >>> 0);
    return new Prng((mixer.nextU32() ^ lo) >>> 0);
  }

  /** Next uniformly distributed u32. */
  nextU32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Integer in `[0, n)` for `n >= 1`. */
  below(n: number): number {
    return Math.floor((this.nextU32() / 0x1_0000_0000) * n);
  }

  /** A fair coin. */
  bool(): boolean {
    return (this.nextU32() & 1) === 1;
  }

  /** Fills `out` with pseudo-random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array {
    for (let i = 0; i < out.length; i += 4) {
      let v = this.nextU32();
      for (let j = i; j < Math.min(i + 4, out.length); j++) {
        out[j] = v & 0xff;
        v >>>= 8;
      }
    }
    return out;
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
