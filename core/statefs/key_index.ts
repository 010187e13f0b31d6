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
  #count = 0;
  /**
   * The dense arrays, allocated at their capacity (half the table) and replaced when the table
   * doubles, rather than grown by `push`: a growing array is reallocated at every 1.5x, and in
   * a replay of a large journal those allocations (fresh memory to fault in) cost more than
   * the inserts.
   */
  #hashes = new Int32Array(MIN_SLOTS / 2);
  #keys: string[] = new Array(MIN_SLOTS / 2);
  #values: V[] = new Array(MIN_SLOTS / 2);

  /** Keys held. */
  get size(): number {
    return this.#count;
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
    const h = hash < 0 ? keyHash(key) : hash;
    const slots = this.#slots;
    const mask = this.#mask;
    const hashes = this.#hashes;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === EMPTY) break;
      if (hashes[e] === h && this.#keys[e] === key) {
        this.#values[e] = value;
        return this;
      }
    }
    const e = this.#count++;
    slots[i] = e;
    hashes[e] = h;
    this.#keys[e] = key;
    this.#values[e] = value;
    if (2 * (e + 1) > mask) this.#resize(2 * (mask + 1));
    return this;
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
    const last = --this.#count;
    if (e !== last) {
      let p = hashes[last] & mask;
      while (slots[p] !== last) p = (p + 1) & mask;
      slots[p] = e;
      hashes[e] = hashes[last];
      this.#keys[e] = this.#keys[last];
      this.#values[e] = this.#values[last];
    }
    // Drop the references, so a removed value can be collected.
    this.#keys[last] = undefined as unknown as string;
    this.#values[last] = undefined as V;
    return true;
  }

  /** Removes every key. */
  clear(): void {
    this.#slots = new Int32Array(MIN_SLOTS).fill(EMPTY);
    this.#mask = MIN_SLOTS - 1;
    this.#count = 0;
    this.#hashes = new Int32Array(MIN_SLOTS / 2);
    this.#keys = new Array(MIN_SLOTS / 2);
    this.#values = new Array(MIN_SLOTS / 2);
  }

  /** Rebuilds the table with `size` positions (a power of two, more than twice the keys). */
  #resize(size: number): void {
    const slots = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    const n = this.#count;
    const hashes = new Int32Array(size / 2);
    hashes.set(this.#hashes.subarray(0, n));
    const keys: string[] = new Array(size / 2);
    const values: V[] = new Array(size / 2);
    for (let e = 0; e < n; e++) {
      let i = hashes[e] & mask;
      while (slots[i] !== EMPTY) i = (i + 1) & mask;
      slots[i] = e;
      keys[e] = this.#keys[e];
      values[e] = this.#values[e];
    }
    this.#slots = slots;
    this.#mask = mask;
    this.#hashes = hashes;
    this.#keys = keys;
    this.#values = values;
  }

  /** Calls `fn` with every value and key (no pairs are made, unlike iterating). */
  forEach(fn: (value: V, key: string) => void): void {
    const keys = this.#keys;
    const values = this.#values;
    for (let e = 0; e < this.#count; e++) fn(values[e], keys[e]);
  }

  /** The keys (a snapshot). */
  keys(): IterableIterator<string> {
    return this.#keys.slice(0, this.#count)[Symbol.iterator]();
  }

  /** Every key with its value (a snapshot). */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.#keys.slice(0, this.#count).map((k, e): [string, V] => [k, this.#values[e]])[
      Symbol.iterator
    ]();
  }
}
