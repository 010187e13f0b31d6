/**
 * Turning byte streams (a log file, stdin, a child's stdout) into console lines. Serial consoles
 * end lines with CRLF, so a trailing CR is dropped; a line that never ends is cut at a bound so a
 * runaway producer cannot exhaust memory.
 *
 * @module
 */

/** Longest line kept whole; longer runs without a newline are split. */
export const MAX_LINE_CHARS = 65536;

/** Splits decoded text chunks into lines. */
export class LineSplitter {
  readonly #decoder = new TextDecoder();
  readonly #maxChars: number;
  #buf = "";

  /** Creates a splitter cutting lines longer than `maxChars`. */
  constructor(maxChars = MAX_LINE_CHARS) {
    this.#maxChars = maxChars;
  }

  /** Adds a chunk of bytes; returns the lines it completed. */
  push(chunk: Uint8Array): string[] {
    this.#buf += this.#decoder.decode(chunk, { stream: true });
    const out: string[] = [];
    let nl: number;
    while ((nl = this.#buf.indexOf("\n")) >= 0) {
      out.push(stripCr(this.#buf.slice(0, nl)));
      this.#buf = this.#buf.slice(nl + 1);
    }
    while (this.#buf.length > this.#maxChars) {
      out.push(this.#buf.slice(0, this.#maxChars));
      this.#buf = this.#buf.slice(this.#maxChars);
    }
    return out;
  }

  /** Ends the stream; returns the last line when it had no final newline. */
  flush(): string[] {
    this.#buf += this.#decoder.decode();
    const rest = this.#buf;
    this.#buf = "";
    return rest.length > 0 ? [stripCr(rest)] : [];
  }
}

function stripCr(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

/** Splits a whole text into lines the way {@link LineSplitter} would. */
export function splitLines(text: string): string[] {
  const sp = new LineSplitter(Infinity);
  return [...sp.push(new TextEncoder().encode(text)), ...sp.flush()];
}
