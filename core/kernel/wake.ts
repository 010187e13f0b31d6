/**
 * Parking and waking: the state changes every blocking object (endpoint, interrupt line, timer)
 * shares. A woken task goes to the back of the ready queue with a continuation that settles
 * its parked syscall.
 *
 * @module
 */

import type { KernelState, Later, Task, Wait } from "./state.ts";
import { traceSyscall } from "./tracing.ts";
import type { KernelError, TaskState } from "./types.ts";

/** Sets `task`'s state, stamping the time of the change. */
export function setState(k: KernelState, task: Task, state: TaskState): void {
  if (task.state !== state) {
    task.state = state;
    task.since = k.time;
  }
}

/**
 * Removes the head of `list`. A last element goes by `pop`: `shift` of a one-element array let
 * go of its backing store, so the next push (the next message, the next wake-up) allocated a new
 * one, a quarter of what an IPC round trip allocated.
 */
export function takeHead<T>(list: T[]): T | undefined {
  return list.length === 1 ? list.pop() : list.shift();
}

function drop(list: Task[], task: Task): void {
  const i = list.indexOf(task);
  // The woken task is usually the only one or the head (see takeHead); splice makes an array.
  if (i === 0) takeHead(list);
  else if (i > 0) list.splice(i, 1);
}

/** Takes `task` off every queue its wait put it on (endpoint, window, timers). */
export function unlinkWait(k: KernelState, task: Task, w: Wait): void {
  // park queued the task on one side of one endpoint, so only that list can hold it.
  if (w.endpoint) drop(w.op === "send" ? w.endpoint.senders : w.endpoint.receivers, task);
  if (w.window) drop(w.window.waiters, task);
  if (w.deadline !== undefined) k.timers.remove(task);
}

/** Makes a blocked task runnable; its parked call settles with `value` when it runs. */
function wake(
  k: KernelState,
  task: Task,
  outcome: string,
  size: number | undefined,
  ok: boolean,
  value: unknown,
  delayNs: number,
): void {
  const w = task.wait!;
  unlinkWait(k, task, w);
  task.wait = undefined;
  traceSyscall(k, task, w.call, w.slot, size, outcome, k.wakeTraces);
  task.woken = w;
  task.wakeOk = ok;
  task.wakeValue = value;
  setState(k, task, "ready");
  if (delayNs > 0) {
    const later: Later = { at: k.time + delayNs, seq: k.laterSeq++, heapIndex: -1, task };
    task.later = later;
    k.later.push(later);
  } else k.ready.push(task);
}

/** Wakes `task` with its call's result, runnable now or after `delayNs` of virtual time. */
export function wakeValue(
  k: KernelState,
  task: Task,
  value: unknown,
  size?: number,
  delayNs = 0,
): void {
  wake(k, task, "ok", size, true, value, delayNs);
}

/** Wakes `task` with its call failing. */
export function wakeError(k: KernelState, task: Task, err: KernelError): void {
  wake(k, task, err.code, undefined, false, err, 0);
}

/** Runs `run` once virtual time reaches `at` (between scheduler steps). */
export function runAt(k: KernelState, at: number, run: () => void): void {
  k.later.push({ at, seq: k.laterSeq++, heapIndex: -1, run });
}

/**
 * Hands control back to the scheduler (the running task parked or ended). The scheduler runs
 * in a microtask, so whatever the task does synchronously after parking still comes first.
 */
export function yieldToScheduler(k: KernelState): void {
  const parked = k.parked;
  k.parked = undefined;
  k.current = undefined;
  if (parked) queueMicrotask(parked);
}
