/**
 * An indexed binary min-heap: push, pop and remove of any member in O(log n). Each member
 * remembers its own position (`heapIndex`), so a timer can be cancelled without a search.
 *
 * @module
 */

/** What the heap needs of a member: a slot for its position (-1 when not in the heap). */
export interface HeapMember {
  /** Position in the heap, or -1 when not in it. */
  heapIndex: number;
}

/** A min-heap ordered by `before` (true when `a` must come out before `b`). */
export class IndexedHeap<T extends HeapMember> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** Creates an empty heap ordered by `before`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** Members in the heap. */
  get size(): number {
    return this.#items.length;
  }

  /** The first member, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds `item` (which must not be in a heap). */
  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  /** Removes and returns the first member. */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` when it is in this heap; does nothing otherwise. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.#items[i] !== item) return;
    const last = this.#items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  #swap(i: number, j: number): void {
    const a = this.#items[i];
    const b = this.#items[j];
    this.#items[i] = b;
    this.#items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(this.#items[i], this.#items[parent])) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#before(this.#items[l], this.#items[m])) m = l;
      if (r < n && this.#before(this.#items[r], this.#items[m])) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
