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
  /** Trie edges, sparse: state * classes + class -> state, -1 when absent. */
  readonly #goto: Int32Array;
  readonly #fail: Int32Array;
  /** The automaton's transitions, filled on first use (most are never taken). */
  readonly #delta: Int32Array;
  /** Per state: the patterns ending there (through failure links), or undefined. */
  readonly #out: (number[] | undefined)[];
  readonly #confirm: Uint8Array;
  /** 1 for states where some pattern ends. */
  readonly #hasOut: Uint8Array;
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
    const fold = (code: number) => (code >= 127 ? 127 : code);
    let classes = 1;
    let states = 1;
    for (const p of patterns) {
      states += p.length;
      for (let i = 0; i < p.length; i++) {
        const c = fold(p.charCodeAt(i));
        if (this.#cls[c] === 0) this.#cls[c] = classes++;
      }
    }
    this.#classes = classes;
    // Every non-ASCII code shares DEL's class, so the scan needs no branch to fold it.
    if (this.#cls[127] !== 0) this.#cls.fill(this.#cls[127], 128);
    const go = new Int32Array(states * classes).fill(-1);
    const out: (number[] | undefined)[] = [undefined];
    let used = 1;
    patterns.forEach((p, id) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const code = p.charCodeAt(i);
        if (code >= 127) this.#confirm[id] = 1;
        const at = s * classes + this.#cls[fold(code)];
        if (go[at] < 0) {
          go[at] = used++;
          out.push(undefined);
        }
        s = go[at];
      }
      (out[s] ??= []).push(id);
    });
    this.#goto = go;
    this.#fail = new Int32Array(used);
    this.#delta = new Int32Array(used * classes).fill(-1);
    this.#out = out;
    this.#hasOut = new Uint8Array(used);
    // Breadth-first over the trie: failure links, and outputs merged along them.
    const queue: number[] = [];
    for (let c = 0; c < classes; c++) if (go[c] > 0) queue.push(go[c]);
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q];
      const f = this.#fail[s];
      if (out[f] !== undefined) out[s] = [...(out[s] ?? []), ...out[f]!];
      if (out[s] !== undefined) this.#hasOut[s] = 1;
      for (let c = 0; c < classes; c++) {
        const t = go[s * classes + c];
        if (t < 0) continue;
        this.#fail[t] = this.#step(f, c);
        queue.push(t);
      }
    }
    const table = new Int32Array(used * classes);
    for (const s of [0, ...queue]) {
      for (let c = 0; c < classes; c++) {
        const t = this.#step(s, c);
        table[s * classes + c] = this.#hasOut[t] === 1 ? ~(t * classes) : t * classes;
      }
    }
    this.#table = table;
  }

  /** The transition from state `s` on class `c`, computed once and remembered. */
  #step(s: number, c: number): number {
    const at = s * this.#classes + c;
    let t = this.#delta[at];
    if (t >= 0) return t;
    t = this.#goto[at];
    if (t < 0) t = s === 0 ? 0 : this.#step(this.#fail[s], c);
    this.#delta[at] = t;
    return t;
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
