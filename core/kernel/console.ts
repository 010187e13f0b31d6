/**
 * The simulated UART: an append-only list of lines that tasks write and the host reads or
 * streams.
 *
 * @module
 */

/** One console line. */
export interface ConsoleLine {
  /** Virtual time (ns) at which the line was written. */
  time: number;
  /** Writer's pid; 0 for lines the kernel itself prints (panics). */
  pid: number;
  /** The line, without a trailing newline. */
  text: string;
}

/** The host's view of the console. */
export interface ConsoleView {
  /** Every line written so far (a copy). */
  lines(): ConsoleLine[];
  /** Calls `fn` for each new line as it is written; returns an unsubscribe function. */
  subscribe(fn: (line: ConsoleLine) => void): () => void;
}

/** The console the kernel writes to. */
export class KernelConsole implements ConsoleView {
  #lines: ConsoleLine[] = [];
  #subscribers: Array<(line: ConsoleLine) => void> = [];

  /**
   * Appends `text` as one line per `\n`-separated part, so a multi-line print (a table) still
   * yields whole lines to the harness.
   */
  write(time: number, pid: number, text: string): void {
    const parts = text.split("\n");
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    for (const part of parts) {
      const line: ConsoleLine = { time, pid, text: part };
      this.#lines.push(line);
      // Snapshot: a subscriber may unsubscribe while being called.
      for (const fn of [...this.#subscribers]) fn({ ...line });
    }
  }

  /** Every line written so far (a copy). */
  lines(): ConsoleLine[] {
    return this.#lines.map((l) => ({ ...l }));
  }

  /** Calls `fn` for each new line; returns an unsubscribe function. */
  subscribe(fn: (line: ConsoleLine) => void): () => void {
    this.#subscribers.push(fn);
    return () => {
      const i = this.#subscribers.indexOf(fn);
      if (i >= 0) this.#subscribers.splice(i, 1);
    };
  }
}
