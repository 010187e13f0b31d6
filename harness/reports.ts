/**
 * Files a run leaves behind: `<log-dir>/uart.log` (every console line, exactly as printed, so it
 * can be judged again with `nexus scan`), `<log-dir>/summary.json` (the verdict), the optional
 * JUnit XML, and the optional trace (JSON lines).
 *
 * @module
 */

import { HarnessError } from "./errors.ts";
import { renderJunit, renderJunitError } from "./junit.ts";
import { leadingCause, type RunInfo, type Verdict } from "./verdict.ts";

/**
 * Version of the shape of `summary.json` and the `--json` verdict. Raised when a field changes
 * meaning or goes away; new fields may appear without it.
 */
export const REPORT_SCHEMA_VERSION = 1;

const FLUSH_BYTES = 64 * 1024;

/** A line-oriented output file written as a run goes, buffered. */
export class LineFile {
  readonly #file: Deno.FsFile;
  readonly #enc = new TextEncoder();
  #chunks: Uint8Array[] = [];
  #size = 0;
  #closed = false;

  private constructor(file: Deno.FsFile, readonly path: string) {
    this.#file = file;
  }

  /**
   * Creates (or truncates) `path`, creating its directory. Throws {@link HarnessError}
   * `REPORT_UNWRITABLE` when it cannot.
   */
  static create(path: string): LineFile {
    return unwritable(path, () => {
      mkdirFor(path);
      return new LineFile(Deno.openSync(path, { write: true, create: true, truncate: true }), path);
    });
  }

  /** Appends `line` and a newline. */
  writeLine(line: string): void {
    if (this.#closed) return;
    const bytes = this.#enc.encode(line + "\n");
    this.#chunks.push(bytes);
    this.#size += bytes.length;
    if (this.#size >= FLUSH_BYTES) this.flush();
  }

  /** Writes out what is buffered. */
  flush(): void {
    if (this.#size === 0) return;
    const all = new Uint8Array(this.#size);
    let off = 0;
    for (const c of this.#chunks) {
      all.set(c, off);
      off += c.length;
    }
    let written = 0;
    while (written < all.length) written += this.#file.writeSync(all.subarray(written));
    this.#chunks = [];
    this.#size = 0;
  }

  /** Flushes and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#file.close();
    this.#closed = true;
  }
}

function mkdirFor(path: string): void {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (dir !== "") Deno.mkdirSync(dir, { recursive: true });
}

/** Runs `fn`, turning a file-system failure on `path` into a one-line REPORT_UNWRITABLE. */
function unwritable<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // Only file-system calls run in `fn`: any failure there is about the path.
    if (err instanceof Error) {
      throw new HarnessError("REPORT_UNWRITABLE", `cannot write ${path}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Checks up front that a report can be written at `path` (creating its directory), so a run is
 * not wasted on a report that cannot be saved. Leaves an existing file as it is.
 */
export function checkWritable(path: string): void {
  unwritable(path, () => {
    mkdirFor(path);
    Deno.openSync(path, { write: true, create: true }).close();
  });
}

/** Paths of the standard reports in `logDir`. */
export function reportPaths(logDir: string): { uart: string; summary: string } {
  const base = logDir.replace(/\/+$/, "") || "/";
  const join = (name: string) => base === "/" ? `/${name}` : `${base}/${name}`;
  return { uart: join("uart.log"), summary: join("summary.json") };
}

/** The verdict as reports carry it: schema and nexus version first, what the run was last. */
export function withRunInfo(v: Verdict, nexusVersion: string, run?: RunInfo): Verdict {
  const { schemaVersion: _s, nexusVersion: _n, run: _r, ...rest } = v;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    nexusVersion,
    ...rest,
    cause: leadingCause(v),
    ...(run ?? v.run ? { run: run ?? v.run } : {}),
  };
}

/** What `summary.json` says when a run ended in a usage or configuration error (exit 2). */
export interface ErrorReport {
  /** {@link REPORT_SCHEMA_VERSION}. */
  schemaVersion: number;
  /** The nexus version that wrote it. */
  nexusVersion: string;
  /** Always ERROR: there is no verdict. */
  status: "ERROR";
  /** Always 2. */
  exitCode: 2;
  /** The one-line error the command printed. */
  error: string;
  /** What the run was asked to do, as far as it got. */
  run: Partial<RunInfo> | null;
}

/** Options for {@link replaceWithError}. */
export interface ErrorReportOptions {
  /** The log dir whose summary.json is replaced. */
  logDir?: string;
  /** The JUnit file that is replaced. */
  junitPath?: string;
  /** The error message. */
  error: string;
  /** The nexus version. */
  nexusVersion: string;
  /** What the run was asked to do. */
  run?: Partial<RunInfo> | null;
}

/**
 * After a run that ended in exit 2, replaces an existing `summary.json` and JUnit file with an
 * error report, so no earlier verdict is left standing as if it were this run's. Files that do
 * not exist are not created and uart.log is left alone (it is only written once a run produces
 * console output). Never throws: the error itself is what the user must see.
 */
export function replaceWithError(opts: ErrorReportOptions): void {
  const report: ErrorReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    nexusVersion: opts.nexusVersion,
    status: "ERROR",
    exitCode: 2,
    error: opts.error,
    run: opts.run ?? null,
  };
  const replace = (path: string, text: string) => {
    try {
      if (!Deno.statSync(path).isFile) return;
      Deno.writeTextFileSync(path, text);
    } catch {
      // Missing or unwritable: nothing stale can be read there through nexus's own name.
    }
  };
  if (opts.logDir !== undefined) {
    replace(reportPaths(opts.logDir).summary, JSON.stringify(report, null, 2) + "\n");
  }
  if (opts.junitPath !== undefined) replace(opts.junitPath, renderJunitError(opts.error));
}

/** Writes `summary.json` (the verdict, pretty-printed) into `logDir`. */
export function writeSummary(logDir: string, v: Verdict): string {
  const { summary } = reportPaths(logDir);
  unwritable(summary, () => {
    mkdirFor(summary);
    Deno.writeTextFileSync(summary, JSON.stringify(v, null, 2) + "\n");
  });
  return summary;
}

/** Writes `text` to `path`, creating its directory; a failure is REPORT_UNWRITABLE. */
export function writeTextFileOrReport(path: string, text: string): void {
  unwritable(path, () => {
    mkdirFor(path);
    Deno.writeTextFileSync(path, text);
  });
}

/** Writes the JUnit XML report to `path`, creating its directory. */
export function writeJunit(path: string, v: Verdict): void {
  unwritable(path, () => {
    mkdirFor(path);
    Deno.writeTextFileSync(path, renderJunit(v));
  });
}

/** The status line shown on a terminal while a run goes: phase and markers seen / expected. */
export function progressLine(p: { seen: number; expected: number; phase: string }): string {
  return `[nexus] phase ${p.phase}: ${p.seen}/${p.expected} markers`;
}
