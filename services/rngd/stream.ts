/**
 * rngd's generator: SHA-256 in counter mode over the boot seed. Block `i` of the stream is
 * `SHA-256("nexus.rngd.v1" || seed u64 LE || i u64 LE)`; the stream is those blocks back to back
 * and each request takes the next bytes of it. Same seed and same request sequence => the same
 * bytes, which is what makes a boot reproducible. (It is a deterministic stand-in for a hardware
 * entropy source, not a secret: anyone who knows the seed knows the stream.)
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";

const DOMAIN = new TextEncoder().encode("nexus.rngd.v1");

/** Encodes a boot seed as the generator's 8-byte key (two's complement for negatives). */
export function seedBytes(seed: number): Uint8Array {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(seed)), true);
  return out;
}

/** The deterministic byte stream of one boot seed. */
export class EntropyStream {
  #input: Uint8Array;
  #inputView: DataView;
  #counter = 0n;
  #block: Uint8Array = new Uint8Array(0);
  #used = 0;
  #produced = 0;

  /** Starts the stream of `seed` at its first byte. */
  constructor(seed: number) {
    const key = seedBytes(seed);
    this.#input = new Uint8Array(DOMAIN.length + 16);
    this.#input.set(DOMAIN);
    this.#input.set(key, DOMAIN.length);
    this.#inputView = new DataView(this.#input.buffer);
  }

  /** Bytes handed out so far. */
  get produced(): number {
    return this.#produced;
  }

  /** The next `len` bytes of the stream. */
  next(len: number): Uint8Array {
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`bad length ${len}`);
    const out = new Uint8Array(len);
    let filled = 0;
    while (filled < len) {
      if (this.#used === this.#block.length) {
        this.#inputView.setBigUint64(DOMAIN.length + 8, this.#counter++, true);
        // A synchronous hash keeps each answer within one scheduling step (WebCrypto's is async).
        this.#block = sha256(this.#input);
        this.#used = 0;
      }
      const take = Math.min(len - filled, this.#block.length - this.#used);
      out.set(this.#block.subarray(this.#used, this.#used + take), filled);
      this.#used += take;
      filled += take;
    }
    this.#produced += len;
    return out;
  }
}
