/**
 * Tasks: creating one (its cap table with the bootstrap endpoint in slot 0), ending one (exit,
 * return, panic, kill: off every queue, endpoints closed, waiters woken), the task table, and
 * the task syscalls (print, exit, spawn, taskList).
 *
 * @module
 */

import { requirePrivilege } from "./captable.ts";
import { callOf, closeEndpointsOf, newEndpoint } from "./ipc.ts";
import { type HeldCap, type KernelState, kerr, type Task } from "./state.ts";
import type { TaskEvent } from "./trace_events.ts";
import { emit, traceSyscall } from "./tracing.ts";
import {
  CAP_SLOTS,
  KernelError,
  RIGHT_MANAGE,
  RIGHT_RECV,
  RIGHT_SEND,
  SLOT_BOOTSTRAP,
  type TaskEntry,
  type TaskInfo,
} from "./types.ts";
import { fnv1a64 } from "./fnv.ts";
import { setState, unlinkWait, yieldToScheduler } from "./wake.ts";

/** Queue depth of the bootstrap endpoint each task gets in slot 0. */
export const BOOTSTRAP_DEPTH = 64;
/** Slot where a privileged task (init) finds its endpoint-factory cap (MANAGE). */
export const PRIVILEGED_FACTORY_SLOT = 3;
/** Exit code of a task whose body threw. */
export const PANIC_EXIT_CODE = 1;
/** Exit code of a task killed by the host. */
export const KILLED_EXIT_CODE = 137;
/** Pid the kernel's own console lines carry. */
export const KERNEL_PID = 0;

/**
 * Creates a ready task: slot 0 holds a bootstrap endpoint it owns (SEND|RECV, plus MANAGE when
 * privileged), and a privileged task gets an endpoint factory at {@link PRIVILEGED_FACTORY_SLOT}.
 * `parent` is the spawning task's pid (0: the host). Returns the pid (pids count from 1).
 */
export function spawnTask(
  k: KernelState,
  name: string,
  entry: TaskEntry,
  privileged: boolean,
  parent: number,
): number {
  if (typeof name !== "string" || name.length === 0) {
    throw kerr("INVALID_ARGUMENT", "task name must be a non-empty string");
  }
  if (typeof entry !== "function") {
    throw kerr("INVALID_ARGUMENT", "task entry must be a function");
  }
  const pid = k.tasks.length === 0 ? 1 : k.tasks.length;
  const task: Task = {
    pid,
    name,
    serviceId: fnv1a64(name),
    entry,
    sys: undefined as unknown as Task["sys"],
    table: new Array<HeldCap | null>(CAP_SLOTS).fill(null),
    state: "ready",
    since: k.time,
    started: false,
    inSyscall: false,
    burst: 0,
    dma: [],
    bootEndpointId: 0,
    heapIndex: -1,
    wakeOk: false,
    wakeValue: undefined,
    counts: { syscalls: 0, sent: 0, received: 0 },
  };
  task.sys = k.makeSyscalls(task);
  k.tasks[pid] = task;
  k.live++;
  const boot = newEndpoint(k, task, BOOTSTRAP_DEPTH);
  task.bootEndpointId = boot.id;
  task.table[SLOT_BOOTSTRAP] = {
    kind: "endpoint",
    endpointId: boot.id,
    rights: RIGHT_SEND | RIGHT_RECV | (privileged ? RIGHT_MANAGE : 0),
  };
  if (privileged) {
    task.table[PRIVILEGED_FACTORY_SLOT] = { kind: "endpoint-factory", rights: RIGHT_MANAGE };
  }
  k.ready.push(task);
  if (k.tracer) {
    emit(k, { kind: "task", time: k.time, pid, task: name, event: "spawn", parent });
  }
  return pid;
}

/**
 * What a syscall of an exited task returns: a promise that never settles, new for each call. A
 * shared one would hold every task that ever awaited it (and through it its kernel, guest memory
 * and disk) for the life of the process: a campaign worker that crashes services grew by
 * megabytes per case. A fresh one is collected with the task.
 */
export function never(): Promise<never> {
  return new Promise<never>(() => {});
}

/** How a task ended, for the trace. */
export type ExitHow = Exclude<TaskEvent["event"], "spawn">;

/** Marks `task` exited, drops it from every queue, closes the endpoints it owns. */
export function exitTask(k: KernelState, task: Task, code: number, how: ExitHow): void {
  const wasCurrent = task === k.current;
  if (task.wait) unlinkWait(k, task, task.wait);
  task.wait = undefined;
  task.resume = undefined;
  task.woken = undefined;
  task.wakeValue = undefined;
  task.call = undefined;
  const i = k.ready.indexOf(task);
  if (i >= 0) k.ready.splice(i, 1);
  if (task.later) {
    k.later.remove(task.later);
    task.later = undefined;
  }
  task.exitCode = code;
  setState(k, task, "exited");
  k.live--;
  task.table.fill(null);
  if (k.tracer) {
    emit(k, { kind: "task", time: k.time, pid: task.pid, task: task.name, event: how, code });
  }
  closeEndpointsOf(k, task);
  if (wasCurrent) yieldToScheduler(k);
}

/** The task body returned. */
export function finishTask(k: KernelState, task: Task): void {
  if (task.state === "exited") return;
  exitTask(k, task, 0, "return");
}

/** The task body threw: a panic line on the console, exit code {@link PANIC_EXIT_CODE}. */
export function panicTask(k: KernelState, task: Task, err: unknown): void {
  if (task.state === "exited") return;
  const message = err instanceof KernelError
    ? `${err.code}: ${err.message}`
    : err instanceof Error
    ? err.message
    : String(err);
  writeConsole(k, KERNEL_PID, "kernel", `panic: ${task.name}: ${message}`);
  exitTask(k, task, PANIC_EXIT_CODE, "panic");
}

/** Writes a console line (one per `\n`-separated part) and reports it. */
export function writeConsole(k: KernelState, pid: number, name: string, text: string): void {
  k.console.write(k.time, pid, text);
  if (!k.tracer) return;
  const parts = text.split("\n");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  for (const part of parts) {
    emit(k, { kind: "console", time: k.time, pid, task: name, text: part });
  }
}

/** Every task's row, in pid order. */
export function taskRows(k: KernelState): TaskInfo[] {
  const rows: TaskInfo[] = [];
  for (const task of k.tasks) {
    if (!task) continue;
    const row: TaskInfo = {
      pid: task.pid,
      name: task.name,
      serviceId: task.serviceId,
      state: task.state,
      since: task.since,
    };
    if (task.state === "blocked" && task.wait) {
      const w = task.wait;
      const blockedOn: NonNullable<TaskInfo["blockedOn"]> = { op: w.op };
      if (w.slot !== undefined) blockedOn.slot = w.slot;
      if (w.endpoint) {
        blockedOn.endpointId = w.endpoint.id;
        blockedOn.peer = w.endpoint.owner.name;
        if (w.op === "recv") {
          const calling = callOf(task, w.endpoint.id);
          if (calling) blockedOn.calling = calling;
        }
      }
      row.blockedOn = blockedOn;
    }
    if (task.exitCode !== undefined) row.exitCode = task.exitCode;
    rows.push(row);
  }
  return rows;
}

// ---- the task syscalls ----

/** print: a console line. */
export function sysPrint(k: KernelState, task: Task, line: string): void {
  writeConsole(k, task.pid, task.name, String(line));
}

/** exit: ends the calling task (its syscall event comes first). */
export function sysExit(k: KernelState, task: Task, code: number): void {
  traceSyscall(k, task, "exit", undefined, undefined, "ok");
  exitTask(k, task, Number.isInteger(code) ? code : 0, "exit");
}

/** spawn: a new unprivileged task (the caller must be privileged). */
export function sysSpawn(k: KernelState, task: Task, name: string, entry: TaskEntry): number {
  requirePrivilege(task, "spawn");
  return spawnTask(k, name, entry, false, task.pid);
}

/** taskList: every task's row (the caller must be privileged). */
export function sysTaskList(k: KernelState, task: Task): TaskInfo[] {
  requirePrivilege(task, "taskList");
  return taskRows(k);
}
