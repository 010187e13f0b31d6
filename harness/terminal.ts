/**
 * What a run shows on the terminal: console lines as they come (optionally prefixed with virtual
 * time), a progress line on stderr when it is a terminal, notices, and the verdict last. Colour
 * only on a terminal and never with NO_COLOR set.
 *
 * @module
 */

import { progressLine } from "./reports.ts";
import { colorEnabled, type Painter, painter } from "./style.ts";
import { ANSI, PLAIN, renderJson, renderText, type Verdict } from "./verdict.ts";

/** A synchronous output stream (Deno.stdout / Deno.stderr, or a test double). */
export interface OutStream {
  /** Writes some of `p`; returns the bytes written. */
  writeSync(p: Uint8Array): number;
  /** True when the stream is a terminal. */
  isTerminal(): boolean;
}

/** Options for {@link Terminal}. */
export interface TerminalOptions {
  /** Where console lines and the verdict go. */
  out: OutStream;
  /** Where notices and the progress line go. */
  err: OutStream;
  /** Value of NO_COLOR (any non-empty value turns colour off). */
  noColor?: string;
  /** Prefix streamed lines with their virtual time. */
  timePrefix?: boolean;
  /** Stream console lines at all (off for --json and plain log scans). */
  stream?: boolean;
}

/** Formats virtual nanoseconds as a console prefix, `[    1.234567]` seconds. */
export function timeStamp(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.floor((ns % 1e9) / 1e3);
  return `[${String(s).padStart(5)}.${String(us).padStart(6, "0")}]`;
}

/** Terminal output of one run. */
export class Terminal {
  readonly #o: TerminalOptions;
  readonly #enc = new TextEncoder();
  readonly #progress: boolean;
  readonly #color: boolean;
  readonly #paint: Painter;
  #progressShown = false;

  /** Creates the output for one run. */
  constructor(opts: TerminalOptions) {
    this.#o = opts;
    this.#color = colorEnabled(opts.out.isTerminal(), opts.noColor);
    this.#paint = painter(this.#color);
    this.#progress = opts.err.isTerminal();
  }

  #write(s: OutStream, text: string): void {
    const bytes = this.#enc.encode(text);
    let off = 0;
    while (off < bytes.length) off += s.writeSync(bytes.subarray(off));
  }

  /** Streams one console line. */
  line(text: string, timeNs?: number): void {
    if (this.#o.stream === false) return;
    this.clearProgress();
    const prefix = this.#o.timePrefix && timeNs !== undefined ? `${timeStamp(timeNs)} ` : "";
    this.#write(this.#o.out, `${prefix}${text}\n`);
  }

  /** True when {@link progress} draws anything (standard error is a terminal). */
  get showsProgress(): boolean {
    return this.#progress;
  }

  /** True when {@link line} or {@link progress} write anything (false: lines may go unseen). */
  get takesLines(): boolean {
    return this.#o.stream !== false || this.#progress;
  }

  /** Redraws the progress line (terminals only). */
  progress(p: { seen: number; expected: number; phase: string }): void {
    if (!this.#progress) return;
    const text = progressLine(p);
    this.#write(this.#o.err, `\r\x1b[2K${this.#paint("dim", text)}`);
    this.#progressShown = true;
  }

  /** Removes the progress line so other output starts on a clean line. */
  clearProgress(): void {
    if (!this.#progressShown) return;
    this.#write(this.#o.err, "\r\x1b[2K");
    this.#progressShown = false;
  }

  /** Prints a one-line notice on stderr (`nexus: ...`). */
  notice(text: string): void {
    this.clearProgress();
    this.#write(this.#o.err, `nexus: ${text}\n`);
  }

  /** Prints the verdict: text, or one JSON object with `json`. */
  verdict(v: Verdict, json: boolean): void {
    this.clearProgress();
    this.#write(this.#o.out, json ? renderJson(v) : renderText(v, this.#color ? ANSI : PLAIN));
  }
}
