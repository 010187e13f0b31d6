/**
 * The world one `nexus` run talks to: its output streams, standard input, environment, the
 * directory relative paths resolve against, and its exit code. The process entry point uses the
 * real ones; {@link run} in `main.ts` can be handed others, so the CLI's error paths run
 * in-process (tests) without a new Deno process each.
 *
 * @example
 * ```ts
 * import { captureIo, run } from "./main.ts";
 * const io = captureIo({ cwd: "/tmp" });
 * const code = await run(["slots", "show", "--json"], io);
 * console.log(code, io.stdoutText());
 * ```
 *
 * @module
 */

import { isAbsolute, join } from "../images/host_path.ts";

/** A synchronous output stream (Deno.stdout / Deno.stderr, or a buffer). */
export interface CliOut {
  /** Writes some of `p`; returns the bytes written. */
  writeSync(p: Uint8Array): number;
  /** True when the stream is a terminal. */
  isTerminal(): boolean;
}

/** What a run reads and writes besides files. */
export interface CliIo {
  /** Standard output. */
  stdout: CliOut;
  /** Standard error. */
  stderr: CliOut;
  /** Standard input as a stream, taken once. */
  stdin(): ReadableStream<Uint8Array>;
  /** True when standard input is a terminal. */
  stdinIsTerminal(): boolean;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The directory relative paths given by the user resolve against. */
  cwd: string;
  /** The exit code the command chose (undefined: 0). */
  exitCode?: number;
  /** The arguments of the run (after the program name), for reports. */
  argv?: string[];
}

/** The process's own streams and environment; relative paths against the user's directory. */
export function processIo(): CliIo {
  return {
    stdout: Deno.stdout,
    stderr: Deno.stderr,
    stdin: () => Deno.stdin.readable,
    stdinIsTerminal: () => Deno.stdin.isTerminal(),
    env: (name) => Deno.env.get(name),
    cwd: Deno.cwd(),
  };
}

let current: CliIo | undefined;

/** The io of the run in progress (the process's own outside a run). */
export function io(): CliIo {
  current ??= processIo();
  return current;
}

/** Runs `fn` with `next` as the current io, restoring the previous one afterwards. */
export async function withIo<T>(next: CliIo, fn: () => Promise<T>): Promise<T> {
  const before = current;
  current = next;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

/** Sets the exit code of the run in progress. */
export function setExitCode(code: number): void {
  io().exitCode = code;
}

/**
 * Resolves a path the user typed against the run's directory. When that is the process's own
 * directory the path is returned as typed, so messages show it the way the user wrote it.
 */
export function userPath(path: string): string {
  const base = io().cwd;
  if (isAbsolute(path) || base === Deno.cwd()) return path;
  return join(base, path);
}

const encoder = new TextEncoder();

/** Writes all of `text` to `out`; a reader that went away (`| head`) ends output quietly. */
export function writeAll(out: CliOut, text: string | Uint8Array): void {
  const data = typeof text === "string" ? encoder.encode(text) : text;
  let done = 0;
  try {
    while (done < data.length) done += out.writeSync(data.subarray(done));
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
}

/** Prints `text` on the run's standard output, with a final newline. */
export function printOut(text: string): void {
  writeAll(io().stdout, text.endsWith("\n") ? text : text + "\n");
}

/** Prints `text` on the run's standard error, with a final newline. */
export function printErr(text: string): void {
  writeAll(io().stderr, text.endsWith("\n") ? text : text + "\n");
}

/** An output buffer for in-process runs. */
export class BufferOut implements CliOut {
  readonly #chunks: Uint8Array[] = [];
  /** Creates a buffer that reports itself as a terminal or not. */
  constructor(readonly terminal = false) {}
  /** Appends `p`. */
  writeSync(p: Uint8Array): number {
    this.#chunks.push(p.slice());
    return p.length;
  }
  /** Whether the buffer stands for a terminal. */
  isTerminal(): boolean {
    return this.terminal;
  }
  /** Everything written so far. */
  bytes(): Uint8Array {
    const total = this.#chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
  /** Everything written so far, as text. */
  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}

/** Options for {@link captureIo}. */
export interface CaptureOptions {
  /** Directory relative paths resolve against (default: the process's). */
  cwd?: string;
  /** The whole environment the run sees (default: NO_COLOR=1 only). */
  env?: Record<string, string>;
  /** Standard input bytes (default: none, not a terminal). */
  stdin?: Uint8Array | string;
}

/** An io whose output is kept in memory: for running the CLI in-process. */
export interface CapturedIo extends CliIo {
  /** Standard output written so far. */
  stdout: BufferOut;
  /** Standard error written so far. */
  stderr: BufferOut;
}

/** Creates an io that captures output and feeds `stdin` (isolated from the process's). */
export function captureIo(opts: CaptureOptions = {}): CapturedIo {
  const env = opts.env ?? { NO_COLOR: "1" };
  const input = typeof opts.stdin === "string"
    ? encoder.encode(opts.stdin)
    : opts.stdin ?? new Uint8Array();
  return {
    stdout: new BufferOut(),
    stderr: new BufferOut(),
    stdin: () =>
      new ReadableStream({
        start(c) {
          if (input.length > 0) c.enqueue(input);
          c.close();
        },
      }),
    stdinIsTerminal: () => false,
    env: (name) => env[name],
    cwd: opts.cwd ?? Deno.cwd(),
  };
}
