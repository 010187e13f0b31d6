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
  // Deno's streaming decoder drops a U+FEFF at the start of every chunk, not only the stream's:
  // it keeps them all, and one that starts the stream is dropped here.
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  readonly #maxChars: number;
  #buf = "";
  /** True until the first character was decoded (a byte-order mark there is dropped). */
  #atStart: boolean;

  /**
   * Creates a splitter cutting lines longer than `maxChars`. A byte-order mark that starts the
   * bytes is dropped unless `ignoreBOM` (for a splitter taking over in the middle of a stream).
   */
  constructor(maxChars = MAX_LINE_CHARS, opts: { ignoreBOM?: boolean } = {}) {
    this.#maxChars = maxChars;
    this.#atStart = opts.ignoreBOM !== true;
  }

  #decode(chunk?: Uint8Array): string {
    let text = chunk === undefined
      ? this.#decoder.decode()
      : this.#decoder.decode(chunk, { stream: true });
    if (this.#atStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.#atStart = false;
    }
    return text;
  }

  /** Adds a chunk of bytes; returns the lines it completed. */
  push(chunk: Uint8Array): string[] {
    const text = this.#buf + this.#decode(chunk);
    const out: string[] = [];
    // One pass over the chunk; the unfinished tail is kept once, not re-sliced per line.
    let from = 0;
    let nl: number;
    while ((nl = text.indexOf("\n", from)) >= 0) {
      // A CR before the newline (serial consoles) is cut with the same slice.
      out.push(text.slice(from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      from = nl + 1;
    }
    this.#buf = from === 0 ? text : text.slice(from);
    while (this.#buf.length > this.#maxChars) {
      out.push(this.#buf.slice(0, this.#maxChars));
      this.#buf = this.#buf.slice(this.#maxChars);
    }
    return out;
  }

  /** Ends the stream; returns the last line when it had no final newline. */
  flush(): string[] {
    this.#buf += this.#decode();
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

/**
 * A stream over an open file in large chunks (1 MiB by default): a file read through its own
 * `readable` comes in small pieces, and reading a long log then costs more than judging it.
 * Closes the file at the end or when cancelled.
 *
 * Two buffers take turns and nothing is read ahead of a pending read, so a chunk is valid until
 * the read after next: a fresh buffer per chunk cost more system time than judging the lines
 * (each is new memory for the kernel to map and zero). Readers must take a chunk's bytes before
 * reading on, as the line splitters do.
 */
export function fileStream(file: Deno.FsFile, chunkBytes = 1 << 20): ReadableStream<Uint8Array> {
  const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
  let turn = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const buf = buffers[turn];
      turn ^= 1;
      let n: number | null;
      try {
        n = await file.read(buf);
      } catch (err) {
        file.close();
        throw err;
      }
      if (n === null) {
        file.close();
        ctl.close();
      } else {
        ctl.enqueue(buf.subarray(0, n));
      }
    },
    cancel() {
      try {
        file.close();
      } catch {
        // already closed
      }
    },
  }, { highWaterMark: 0 });
}
