/**
 * `--trace FILE`: every syscall the kernel traces, one JSON object per line, in the order the
 * scheduler ran them (so two boots with the same seed give the same file).
 *
 * @module
 */

import type { TraceEvent, Tracer } from "../core/kernel/types.ts";
import { LineFile } from "./reports.ts";

/** A trace file being written. */
export class TraceFile {
  readonly #file: LineFile;
  #events = 0;

  private constructor(file: LineFile) {
    this.#file = file;
  }

  /** Creates (or truncates) `path`, creating its directory. */
  static create(path: string): TraceFile {
    return new TraceFile(LineFile.create(path));
  }

  /** The tracer to hand the kernel. */
  readonly tracer: Tracer = (event: TraceEvent) => {
    this.#events++;
    this.#file.writeLine(JSON.stringify(event));
  };

  /** Events written so far. */
  get events(): number {
    return this.#events;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.#file.close();
  }
}
