/**
 * The child-process source for `nexus scan --run -- CMD ARGS...`: runs a command, judges its
 * stdout live, and stops that command, and only it, when the judge is done or the run is cut.
 *
 * The command is started in a session and process group of its own (setsid, via `detached`), so
 * whatever it starts itself (a wrapper script's emulator) is in that group: stopping signals the
 * group the runner created, never any other process on the host. SIGTERM first, SIGKILL after a
 * grace period; the runner waits until the command is reaped before it returns.
 *
 * @module
 */

import { HarnessError } from "./errors.ts";
import { LineSplitter } from "./lines.ts";
import { deliverLines, type LineSource, type SourceEnd } from "./live.ts";

/** Options for {@link childSource}. */
export interface ChildOptions {
  /** Working directory of the command. */
  cwd?: string;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** How long the command gets to end after SIGTERM before SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** How long to keep reading the tail after a failure line before stopping. Default 300 ms. */
  tailGraceMs?: number;
  /** Called with the pid right after the spawn (tests check it is gone afterwards). */
  onSpawn?: (pid: number) => void;
}

/**
 * True while the process `pid` is running: it exists and is not a zombie waiting to be reaped.
 * Reads /proc where there is one; elsewhere a zombie counts as running.
 */
export function processRunning(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The state follows the parenthesised command name, which may itself hold spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    try {
      Deno.statSync("/proc/self");
      return false;
    } catch {
      // No /proc: ask the kernel with a harmless signal.
    }
  }
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    if (err instanceof Deno.errors.PermissionDenied) return true;
    throw err;
  }
}

function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    // A negative pid addresses the process group the child leads (it was created by setsid).
    Deno.kill(-pgid, signal);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

function describeStatus(status: Deno.CommandStatus, killed: boolean): string {
  if (killed) return `command stopped (${status.signal ?? `exit ${status.code}`})`;
  return status.signal
    ? `command killed by ${status.signal}`
    : `command exited with code ${status.code}`;
}

/** Resolves true when `p` settles within `ms` (or before `signal` aborts), false otherwise; leaves no timer behind. */
function within(p: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const t = setTimeout(() => finish(false), ms);
    signal?.addEventListener("abort", onAbort);
    p.then(() => finish(true), () => finish(true));
  });
}

/**
 * A source running `cmd args...`. Throws {@link HarnessError} `SPAWN_FAILED` when the command
 * cannot be started (not found, not executable).
 */
export function childSource(
  cmd: string,
  args: readonly string[],
  opts: ChildOptions = {},
): LineSource {
  return async (sink): Promise<SourceEnd> => {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(cmd, {
        args: [...args],
        cwd: opts.cwd,
        env: opts.env,
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
        detached: true,
      }).spawn();
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound
        ? "command not found"
        : err instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : err instanceof Error
        ? err.message
        : String(err);
      throw new HarnessError("SPAWN_FAILED", `cannot run ${cmd}: ${why}`);
    }
    const pid = child.pid;
    opts.onSpawn?.(pid);
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    let killed = false;
    const stop = async (): Promise<Deno.CommandStatus> => {
      if (!exited) {
        killed = true;
        signalGroup(pid, "SIGTERM");
        if (!await within(status, opts.killGraceMs ?? 2000)) signalGroup(pid, "SIGKILL");
      } else {
        // The leader is gone; anything it left in its group holding our pipe goes too.
        signalGroup(pid, "SIGKILL");
      }
      return await status;
    };

    const reader = child.stdout.getReader();
    const onCut = () => reader.cancel().catch(() => {});
    sink.signal.addEventListener("abort", onCut);
    const splitter = new LineSplitter();
    let tailDeadline: number | undefined;
    const deliver = (lines: string[]) => deliverLines(sink, lines);
    try {
      while (!sink.signal.aborted) {
        let next: ReadableStreamReadResult<Uint8Array>;
        if (sink.shouldStop()) {
          // After a failure line: keep what the command prints right after it, briefly.
          tailDeadline ??= performance.now() + (opts.tailGraceMs ?? 300);
          const left = tailDeadline - performance.now();
          if (left <= 0) break;
          const read = reader.read();
          if (!await within(read, left)) break;
          next = await read;
        } else {
          next = await reader.read();
        }
        if (next.done) {
          deliver(splitter.flush());
          if (sink.shouldStop()) break;
          // stdout closed: wait for the command itself, unless the run is cut meanwhile.
          await within(status, 2 ** 31 - 1, sink.signal);
          break;
        }
        if (deliver(splitter.push(next.value))) break;
      }
    } finally {
      sink.signal.removeEventListener("abort", onCut);
      await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
    const done = exited && !sink.shouldStop() && !sink.signal.aborted;
    const final = done ? await status : await stop();
    return { reason: done ? "exited" : "stopped", detail: describeStatus(final, killed) };
  };
}
