/**
 * Runs the `nexus` CLI for end-to-end tests: in-process through `run(args, io)` with captured
 * output ({@link nexusIn}, most tests), or spawned as a user would ({@link nexus}) where a real
 * process matters (signals, process groups, stdin, the entry point itself).
 *
 * @module
 */

import { captureIo, run } from "../cli/main.ts";
import { nexusProcessArgs } from "./nexus_process.ts";

/** The outcome of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Raw stdout bytes (for commands that print binary values). */
  stdoutBytes: Uint8Array;
}

/** Options for {@link nexus}. */
export interface NexusOptions {
  /** Bytes fed to standard input. */
  stdin?: Uint8Array | string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/** Runs `nexus ...args` in a child Deno process and collects its output. */
export async function nexus(args: string[], opts: NexusOptions = {}): Promise<CliResult> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: nexusProcessArgs(args),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    // `deno task` exports INIT_CWD, which nexus prefers over its own cwd; a child started in
    // another directory must resolve relative paths there, as a user's run would.
    env: { NO_COLOR: "1", ...(opts.cwd === undefined ? {} : { INIT_CWD: opts.cwd }), ...opts.env },
    cwd: opts.cwd,
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}

/**
 * Runs `nexus ...args` in this process: relative paths resolve against `opts.cwd`, the
 * environment is only NO_COLOR=1 plus `opts.env`, and output is captured.
 */
export function nexusIn(args: string[], opts: NexusOptions = {}): Promise<CliResult> {
  // One run at a time: a run's io is the module's current one while it goes.
  const result = queue.then(() => runCaptured(args, opts));
  queue = result.then(() => {}, () => {});
  return result;
}

let queue: Promise<void> = Promise.resolve();

async function runCaptured(args: string[], opts: NexusOptions): Promise<CliResult> {
  const io = captureIo({
    cwd: opts.cwd,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: opts.stdin,
  });
  const code = await run(args, io);
  return {
    code,
    stdout: io.stdout.text(),
    stderr: io.stderr.text(),
    stdoutBytes: io.stdout.bytes(),
  };
}

/** Runs `nexus boot ...args` in-process with `dir` as the user's directory (build/ lands there). */
export function bootIn(dir: string, args: string[], opts: NexusOptions = {}): Promise<CliResult> {
  return nexusIn(["boot", ...args], { cwd: dir, ...opts });
}

/**
 * Runs `nexus ...args` inside this process (no Deno start-up): the exit code and the bytes it
 * wrote to stdout. For commands whose behaviour does not need a process of its own.
 */
export async function nexusInProcess(args: string[]): Promise<{ code: number; out: Uint8Array }> {
  const { captureIo, run } = await import("../cli/main.ts");
  const io = captureIo();
  const code = await run(args, io);
  return { code, out: io.stdout.bytes() };
}
