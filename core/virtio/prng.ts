/**
 * A small seeded PRNG for fault injection and tests: a Weyl sequence finished with the
 * MurmurHash3 mixer (a 32-bit SplitMix). Deterministic for a seed on every platform; never
 * used for anything secret.
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
