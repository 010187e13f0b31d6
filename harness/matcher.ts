/**
 * One combined matcher for many fixed strings (Aho-Corasick): a single pass over a line finds
 * every pattern it contains, so judging a line costs the same with 5 or 500 markers pending. The
 * judge feeds it every console line; most lines of a chatty console contain no marker at all and
 * leave after one pass.
 *
 * Characters are folded to 7-bit classes (every non-ASCII character shares one), so a hit on a
 * pattern with non-ASCII characters is confirmed with `includes` before it is reported.
 *
 * @example
 * ```ts
 * import { FixedMatcher } from "./matcher.ts";
 * const m = new FixedMatcher(["init: start", "FAIL"]);
 * const hits: number[] = [];
 * m.scan("SELFTEST: ota FAIL", hits); // hits = [1]
 * ```
 *
 * @module
 */

/** A set of fixed strings searched for together. */
export class FixedMatcher {
  readonly #patterns: readonly string[];
  /** Character class per UTF-16 code (0 = a character no pattern holds; one class for non-ASCII). */
  readonly #cls = new Uint8Array(65536);
  readonly #classes: number;
  /** Per state: the patterns ending there (through failure links), or undefined. */
  readonly #out: (number[] | undefined)[];
  readonly #confirm: Uint8Array;
  /**
   * The complete transition table the scan uses: for state row `s * classes` and class `c`, the
   * next state's row, bitwise-negated when a pattern ends there (one load and one sign test per
   * character).
   */
  readonly #table: Int32Array;

  /** Builds the automaton for `patterns` (non-empty strings); pattern ids are their positions. */
  constructor(patterns: readonly string[]) {
    this.#patterns = patterns;
    this.#confirm = new Uint8Array(patterns.length);
    const cls = this.#cls;
    let classes = 1;
    let states = 1;
    for (const p of patterns) {
      states += p.length;
      for (let i = 0; i < p.length; i++) {
        const c = Math.min(p.charCodeAt(i), 127);
        if (cls[c] === 0) cls[c] = classes++;
      }
    }
    this.#classes = classes;
    // Every non-ASCII code shares DEL's class, so the scan needs no branch to fold it.
    if (cls[127] !== 0) cls.fill(cls[127], 128);
    const trie = this.#trie(patterns, states, classes);
    this.#out = trie.out;
    this.#table = completeTable(trie.edges, trie.out, classes);
  }

  /**
   * The trie of `patterns`: per state its edges as `[class, state, ...]`, and the patterns
   * ending there (state 0 is the root).
   */
  #trie(
    patterns: readonly string[],
    states: number,
    classes: number,
  ): { edges: number[][]; out: (number[] | undefined)[] } {
    const go = new Int32Array(states * classes);
    const edges: number[][] = [[]];
    const out: (number[] | undefined)[] = [undefined];
    patterns.forEach((p, id) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const code = p.charCodeAt(i);
        if (code >= 127) this.#confirm[id] = 1;
        const c = this.#cls[Math.min(code, 127)];
        let t = go[s * classes + c];
        if (t === 0) {
          t = edges.length;
          go[s * classes + c] = t;
          edges[s].push(c, t);
          edges.push([]);
          out.push(undefined);
        }
        s = t;
      }
      (out[s] ??= []).push(id);
    });
    return { edges, out };
  }

  /** The patterns, by id. */
  get patterns(): readonly string[] {
    return this.#patterns;
  }

  /**
   * Appends to `hits` the id of every pattern `text` contains (an id may repeat when the pattern
   * occurs more than once). Returns the number of ids appended.
   */
  scan(text: string, hits: number[]): number {
    const table = this.#table;
    const cls = this.#cls;
    const before = hits.length;
    let row = 0;
    for (let i = 0; i < text.length; i++) {
      row = table[row + cls[text.charCodeAt(i)]];
      if (row < 0) {
        row = ~row;
        this.#report(row / this.#classes, text, hits);
      }
    }
    return hits.length - before;
  }

  /**
   * False when the bytes `bytes[from, to)`, ASCII text, contain no pattern; true when they may:
   * they hold a pattern or a non-ASCII byte (then decode them and {@link scan} the text). Lets a
   * reader skip quiet lines without making strings of them.
   */
  mayMatch(bytes: Uint8Array, from: number, to: number): boolean {
    const table = this.#table;
    const cls = this.#cls;
    let row = 0;
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (b >= 0x80) return true;
      row = table[row + cls[b]];
      if (row < 0) return true;
    }
    return false;
  }

  /**
   * Passes over the newline-ended lines of `bytes` from `from` (a line start) up to `end` (just
   * past a newline) while {@link mayMatch} rules each out, in one loop over the bytes; returns
   * the start of the first line it does not rule out, or `end`. {@link passedLines} then holds how
   * many lines it passed over.
   */
  passQuiet(bytes: Uint8Array, from: number, end: number): number {
    const table = this.#table;
    const cls = this.#cls;
    let row = 0;
    let lineStart = from;
    let lines = 0;
    for (let i = from; i < end; i++) {
      const b = bytes[i];
      if (b === 10) {
        lines++;
        lineStart = i + 1;
        row = 0;
        continue;
      }
      if (b >= 0x80) break;
      row = table[row + cls[b]];
      if (row < 0) break;
    }
    this.passedLines = lines;
    // After a full pass the last byte was a newline, so the line start is `end`.
    return lineStart;
  }

  /** Lines passed over by the last {@link passQuiet}. */
  passedLines = 0;

  #report(s: number, text: string, hits: number[]): void {
    for (const id of this.#out[s]!) {
      if (this.#confirm[id] === 0 || text.includes(this.#patterns[id])) hits.push(id);
    }
  }
}

/**
 * The complete transition table of a {@link FixedMatcher}, breadth-first over its trie: a state's
 * row starts as a copy of its failure state's row (complete, being shallower) and its own edges
 * replace entries; a child's failure state is where that row goes on the child's class. Outputs
 * merge along failure links (`out` is completed in place). Rows are copied natively, so building
 * costs little even before V8 has optimised this code (a process builds one matcher).
 */
function completeTable(
  edges: readonly number[][],
  out: (number[] | undefined)[],
  classes: number,
): Int32Array {
  const table = new Int32Array(edges.length * classes);
  const fail = new Int32Array(edges.length);
  const entry = (t: number) => (out[t] !== undefined ? ~(t * classes) : t * classes);
  const queue: number[] = [];
  const root = edges[0];
  for (let k = 0; k < root.length; k += 2) {
    table[root[k]] = entry(root[k + 1]);
    queue.push(root[k + 1]);
  }
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head];
    const row = s * classes;
    const frow = fail[s] * classes;
    table.copyWithin(row, frow, frow + classes);
    const own = edges[s];
    for (let k = 0; k < own.length; k += 2) {
      const c = own[k];
      const t = own[k + 1];
      const via = table[frow + c];
      const f = (via < 0 ? ~via : via) / classes;
      fail[t] = f;
      if (out[f] !== undefined) out[t] = [...(out[t] ?? []), ...out[f]!];
      table[row + c] = entry(t);
      queue.push(t);
    }
  }
  return table;
}
