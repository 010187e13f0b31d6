/**
 * The engine's key index: string keys to values, the subset of `Map` the engine uses, as an
 * open-addressing hash table (linear probing, at most half full) over dense arrays. Replay
 * inserts every key of a journal into a fresh index, and `Map` spends most of a replay growing:
 * this table inserts about twice as fast (see `engine_bench.ts`, "open + replay").
 *
 * Iteration order is not insertion order (a delete moves the last entry into the hole); the
 * engine sorts keys wherever order matters.
 *
 * @example
 * ```ts
 * import { KeyIndex } from "./key_index.ts";
 * const index = new KeyIndex<number>();
 * index.set("/state/a", 1);
 * index.get("/state/a"); // 1
 * index.delete("/state/a"); // true
 * ```
 *
 * @module
 */

const EMPTY = -1;

/**
 * FNV-1a over a string's UTF-16 code units, cut to 30 bits: a small integer V8 keeps unboxed in
 * an array (a full 32-bit hash would be a heap number per key, and garbage).
 */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 2;
}

/** Fewest table positions (a power of two). */
const MIN_SLOTS = 16;

/** String keys to values of type `V` (see the module notes). */
export class KeyIndex<V> implements Iterable<[string, V]> {
  /** Per table position: the entry's place in the dense arrays, or {@link EMPTY}. */
  #slots = new Int32Array(MIN_SLOTS).fill(EMPTY);
  #mask = MIN_SLOTS - 1;
  /**
   * The dense arrays. Hashes sit in a typed array at the table's capacity (half the table),
   * copied natively when it doubles; keys and values are plain arrays that `push` grows.
   */
  #hashes = new Int32Array(MIN_SLOTS / 2);
  readonly #keys: string[] = [];
  readonly #values: V[] = [];

  /** Keys held. */
  get size(): number {
    return this.#keys.length;
  }

  /** The table position holding `key`, or -1. */
  #find(key: string, h: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === EMPTY) return -1;
      if (this.#hashes[e] === h && this.#keys[e] === key) return i;
    }
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    const i = this.#find(key, keyHash(key));
    return i < 0 ? undefined : this.#values[this.#slots[i]];
  }

  /** True when `key` is held. */
  has(key: string): boolean {
    return this.#find(key, keyHash(key)) >= 0;
  }

  /** Sets `key` to `value`; `hash` is {@link keyHash}`(key)` when the caller has it already. */
  set(key: string, value: V, hash = -1): this {
    this.swap(key, value, hash);
    return this;
  }

  /**
   * Sets `key` to `value` and returns the value it replaced (undefined when the key is new), in
   * one probe: replay keeps the live byte count with it.
   */
  swap(key: string, value: V, hash = -1): V | undefined {
    const h = hash < 0 ? keyHash(key) : hash;
    const slots = this.#slots;
    const mask = this.#mask;
    const hashes = this.#hashes;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === EMPTY) break;
      if (hashes[e] === h && this.#keys[e] === key) {
        const old = this.#values[e];
        this.#values[e] = value;
        return old;
      }
    }
    const e = this.#keys.length;
    slots[i] = e;
    hashes[e] = h;
    this.#keys.push(key);
    this.#values.push(value);
    if (2 * (e + 1) > mask) this.#grow();
    return undefined;
  }

  /** Removes `key`; true when it was held. */
  delete(key: string): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    const hashes = this.#hashes;
    let i = this.#find(key, keyHash(key));
    if (i < 0) return false;
    const e = slots[i];
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    slots[i] = EMPTY;
    for (let j = (i + 1) & mask; slots[j] !== EMPTY; j = (j + 1) & mask) {
      const home = hashes[slots[j]] & mask;
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[i] = slots[j];
        slots[j] = EMPTY;
        i = j;
      }
    }
    // Keep the dense arrays dense: the last entry moves into the removed one's place.
    const last = this.#keys.length - 1;
    if (e !== last) {
      let p = hashes[last] & mask;
      while (slots[p] !== last) p = (p + 1) & mask;
      slots[p] = e;
      hashes[e] = hashes[last];
      this.#keys[e] = this.#keys[last];
      this.#values[e] = this.#values[last];
    }
    this.#keys.pop();
    this.#values.pop();
    return true;
  }

  /** Removes every key. */
  clear(): void {
    this.#slots = new Int32Array(MIN_SLOTS).fill(EMPTY);
    this.#mask = MIN_SLOTS - 1;
    this.#hashes = new Int32Array(MIN_SLOTS / 2);
    this.#keys.length = 0;
    this.#values.length = 0;
  }

  /** Doubles the table (and the hashes' capacity with it). */
  #grow(): void {
    const size = (this.#mask + 1) * 2;
    const slots = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    const n = this.#keys.length;
    const hashes = new Int32Array(size / 2);
    hashes.set(this.#hashes.subarray(0, n));
    for (let e = 0; e < n; e++) {
      let i = hashes[e] & mask;
      while (slots[i] !== EMPTY) i = (i + 1) & mask;
      slots[i] = e;
    }
    this.#slots = slots;
    this.#mask = mask;
    this.#hashes = hashes;
  }

  /** Calls `fn` with every value and key (no pairs are made, unlike iterating). */
  forEach(fn: (value: V, key: string) => void): void {
    const keys = this.#keys;
    const values = this.#values;
    for (let e = 0; e < keys.length; e++) fn(values[e], keys[e]);
  }

  /** The keys (a snapshot). */
  keys(): IterableIterator<string> {
    return [...this.#keys][Symbol.iterator]();
  }

  /** Every key with its value (a snapshot). */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.#keys.map((k, e): [string, V] => [k, this.#values[e]])[Symbol.iterator]();
  }
}
