/**
 * The child-process source for `nexus scan --run -- CMD ARGS...`: runs a command, judges its
 * stdout live, and stops that command, and only it, when the judge is done or the run is cut.
 *
 * The command is started in a session and process group of its own (setsid, via `detached`), so
 * whatever it starts itself (a wrapper script's emulator) is in that group: stopping signals the
 * group the runner created, never any other process on the host. The group is stopped at the end
 * of every run, also when the command exited on its own: whatever it left behind (a background
 * job, a grandchild) gets SIGTERM, and what is still there after the grace period gets SIGKILL,
 * whether the command itself is alive or not. The verdict names every process that had to be
 * stopped. The group's members are read from /proc, or from `ps` where /proc cannot be read
 * (Deno grants /proc only with full permissions); with neither, the group is signalled blindly.
 *
 * @module
 */

import { wallTimer } from "../core/kernel/wall_timer.ts";
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
  /**
   * How long to keep reading after the command exited while something it left behind still holds
   * its output open (late lines). Default 500 ms.
   */
  lateGraceMs?: number;
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

/** A process of the command's group. */
export interface Member {
  pid: number;
  name: string;
}

/** The live (not zombie) processes of group `pgid` from /proc; throws where /proc cannot be read. */
function groupFromProc(pgid: number): Member[] {
  const found: Member[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // gone meanwhile
      throw err;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const [state, , pgrp] = stat.slice(close + 2).split(" ");
    if (Number(pgrp) !== pgid || state === "Z" || state === "X") continue;
    found.push({ pid: Number(e.name), name: stat.slice(stat.indexOf("(") + 1, close) });
  }
  return found;
}

/** The same from `ps` (no /proc, or /proc not readable without full permissions). */
async function groupFromPs(pgid: number): Promise<Member[] | undefined> {
  try {
    const out = await new Deno.Command("ps", {
      args: ["-e", "-o", "pid=", "-o", "pgid=", "-o", "stat=", "-o", "comm="],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    const found: Member[] = [];
    for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
      const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
      if (m === null || Number(m[2]) !== pgid || m[3].startsWith("Z")) continue;
      found.push({ pid: Number(m[1]), name: m[4].trim() });
    }
    return found;
  } catch {
    return undefined;
  }
}

/**
 * The live (not zombie) processes of process group `pgid`, from /proc or else `ps`; undefined
 * when neither can tell.
 */
export async function groupMembers(pgid: number): Promise<Member[] | undefined> {
  try {
    return groupFromProc(pgid);
  } catch {
    return await groupFromPs(pgid);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => wallTimer(ms, r));

/** Polls until group `pgid` is empty or `ms` passed; returns who is still there. */
async function waitEmpty(pgid: number, ms: number): Promise<Member[]> {
  const end = performance.now() + ms;
  for (;;) {
    const left = await groupMembers(pgid) ?? [];
    if (left.length === 0 || performance.now() >= end) return left;
    await sleep(Math.min(20, Math.max(1, end - performance.now())));
  }
}

/**
 * Stops every process of group `pgid`: SIGTERM, then SIGKILL after `graceMs` for what remains,
 * alive leader or not. Returns a sentence naming what had to be stopped, or undefined when the
 * group was already empty.
 */
async function stopGroup(
  pgid: number,
  graceMs: number,
  leader: Promise<unknown>,
): Promise<string | undefined> {
  const members = await groupMembers(pgid);
  if (members === undefined) {
    // No /proc: signal blindly, escalating after the grace period.
    signalGroup(pgid, "SIGTERM");
    await within(leader, graceMs);
    signalGroup(pgid, "SIGKILL");
    return undefined;
  }
  if (members.length === 0) return undefined;
  signalGroup(pgid, "SIGTERM");
  const stubborn = await waitEmpty(pgid, graceMs);
  if (stubborn.length > 0) {
    signalGroup(pgid, "SIGKILL");
    await waitEmpty(pgid, 2000);
  }
  const name = (m: Member) => `${m.name} (pid ${m.pid})`;
  const termed = members.filter((m) => !stubborn.some((s) => s.pid === m.pid));
  const parts: string[] = [];
  if (termed.length > 0) parts.push(`stopped with SIGTERM: ${termed.map(name).join(", ")}`);
  if (stubborn.length > 0) {
    parts.push(`killed with SIGKILL: ${stubborn.map(name).join(", ")}`);
  }
  return parts.join("; ");
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
      cancelTimer();
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const cancelTimer = wallTimer(ms, () => finish(false));
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
    const grace = opts.killGraceMs ?? 2000;
    const reader = child.stdout.getReader();
    const onCut = () => reader.cancel().catch(() => {});
    sink.signal.addEventListener("abort", onCut);
    const splitter = new LineSplitter();
    let tailDeadline: number | undefined;
    let lateDeadline: number | undefined;
    const deliver = (lines: string[]) => deliverLines(sink, lines);
    // Reading must also notice the command's exit while a leftover keeps stdout open.
    const exit = status.then(() => {});
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    try {
      while (!sink.signal.aborted) {
        let deadline: number | undefined;
        if (sink.shouldStop()) {
          // After a failure line: keep what the command prints right after it, briefly.
          deadline = tailDeadline ??= performance.now() + (opts.tailGraceMs ?? 300);
        } else if (exited) {
          // The command is gone but its output is still open: late lines, briefly.
          deadline = lateDeadline ??= performance.now() + (opts.lateGraceMs ?? 500);
        }
        const read = pending ??= reader.read();
        if (deadline !== undefined) {
          const left = deadline - performance.now();
          if (left <= 0 || !await within(read, left)) break;
        } else {
          await Promise.race([read, exit]);
          if (exited && !await within(read, 0)) continue;
        }
        pending = undefined;
        const next = await read;
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
    // Every run ends with the group stopped: the command if it still runs, and anything it left.
    const killedLeader = !exited;
    const cleanup = await stopGroup(pid, grace, status);
    const final = await status;
    return {
      reason: done ? "exited" : "stopped",
      detail: describeStatus(final, killedLeader),
      ...(cleanup !== undefined ? { cleanup } : {}),
    };
  };
}
