/**
 * The scheduler: one task runs at a time. The run loop fires expired deadlines, resumes the task
 * at the head of the ready queue and waits until it parks in a syscall (or ends) before it picks
 * the next; when nothing is ready, virtual time jumps to the earliest deadline. Parking and
 * requeueing the running task are here too.
 *
 * @module
 */

import type { KernelState, Task, Wait } from "./state.ts";
import { earliestDeadline, fireExpired } from "./timers.ts";
import { emit, endpointRef, traceOwn } from "./tracing.ts";
import { callOf } from "./ipc.ts";
import { finishTask, panicTask } from "./task.ts";
import type { BlockEvent } from "./trace_events.ts";
import { setState, yieldToScheduler } from "./wake.ts";

/** Wall-clock poll period (ms) for stopping a run whose current task is stuck outside syscalls. */
export const STUCK_POLL_MS = 100;

/** Why {@link runLoop} returned. */
export interface RunResult {
  /**
   * "idle": every live task is blocked with no deadline pending, nothing can progress;
   * "all-exited": no live task left; "stopped": `shouldStop()` returned true;
   * "max-steps": the step budget ran out.
   */
  reason: "idle" | "all-exited" | "stopped" | "max-steps";
  /** Virtual time (ns) at return. */
  time: number;
  /** Scheduling steps (task resumptions) taken by this call. */
  steps: number;
}

/** Options for {@link runLoop}. */
export interface RunOptions {
  /** Polled between steps; true ends the run with "stopped". */
  shouldStop?: () => boolean;
  /** Most task resumptions this call may make. */
  maxSteps?: number;
}

/** Runs tasks until nothing can progress, all exited, the host stops, or the steps run out. */
export async function runLoop(k: KernelState, opts: RunOptions): Promise<RunResult> {
  if (k.running) throw new Error("Kernel.run is already running");
  k.running = true;
  // A task stuck awaiting something that never settles would hang the run loop; when the host
  // can stop us, poll shouldStop on the wall clock, but only once a single step has lasted
  // two polls, so a normal step (a few ms of crypto or file I/O) is never cut. This only
  // guards the host; it never changes what a run that completes its steps does.
  let stopRequested: (() => void) | undefined;
  let ticksThisStep = 0;
  const stop = opts.shouldStop;
  const poll = stop
    ? setInterval(() => {
      ticksThisStep++;
      if (ticksThisStep >= 2 && stopRequested && stop()) stopRequested();
    }, STUCK_POLL_MS)
    : undefined;
  let steps = 0;
  const result = (reason: RunResult["reason"]): RunResult => ({ reason, time: k.time, steps });
  try {
    for (;;) {
      if (k.unfinishedStep) {
        if (stop?.()) return result("stopped");
        const stopped = await awaitStep(k.unfinishedStep, (f) => (stopRequested = f));
        ticksThisStep = 0;
        if (stopped) return result("stopped");
        k.unfinishedStep = undefined;
      }
      if (stop?.()) return result("stopped");
      if (opts.maxSteps !== undefined && steps >= opts.maxSteps) return result("max-steps");
      fireExpired(k);
      let task = k.ready.shift();
      if (!task) {
        if (k.live === 0) return result("all-exited");
        const next = earliestDeadline(k);
        if (next === undefined) return result("idle");
        if (next > k.time) k.time = next;
        fireExpired(k);
        task = k.ready.shift();
        if (!task) return result("idle");
      }
      steps++;
      const step = resumeTask(k, task);
      ticksThisStep = 0;
      const stopped = await awaitStep(step, (f) => (stopRequested = f));
      if (stopped) {
        k.unfinishedStep = step;
        return result("stopped");
      }
    }
  } finally {
    if (poll !== undefined) clearInterval(poll);
    k.running = false;
  }
}

/** Awaits a step; resolves true when the host asked to stop before the step finished. */
async function awaitStep(
  step: Promise<void>,
  setStopper: (f: (() => void) | undefined) => void,
): Promise<boolean> {
  let stopper: (() => void) | undefined;
  const stopped = new Promise<boolean>((resolve) => (stopper = () => resolve(true)));
  setStopper(stopper);
  try {
    return await Promise.race([step.then(() => false), stopped]);
  } finally {
    setStopper(undefined);
  }
}

/** Resumes `task`; the promise settles when it parks in a syscall or finishes. */
function resumeTask(k: KernelState, task: Task): Promise<void> {
  const parked = new Promise<void>((resolve) => (k.parked = resolve));
  k.current = task;
  setState(k, task, "running");
  if (!task.started) {
    task.started = true;
    let body: Promise<void>;
    try {
      body = Promise.resolve(task.entry(task.sys));
    } catch (err) {
      body = Promise.reject(err);
    }
    body.then(
      () => finishTask(k, task),
      (err) => panicTask(k, task, err),
    );
  } else {
    const resume = task.resume;
    task.resume = undefined;
    resume?.();
  }
  return parked;
}

/** Parks the running task on `block`; the promise settles when it is woken. */
export function park<T>(
  k: KernelState,
  task: Task,
  call: string,
  block: Omit<Wait, "call" | "resolve" | "reject">,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const wait: Wait = { ...block, call, resolve: resolve as (v: unknown) => void, reject };
    task.wait = wait;
    task.burst = 0;
    if (wait.endpoint) {
      (wait.op === "send" ? wait.endpoint.senders : wait.endpoint.receivers).push(task);
    }
    if (wait.window) wait.window.waiters.push(task);
    if (wait.deadline !== undefined) k.timers.push(task);
    setState(k, task, "blocked");
    traceOwn(k, task, call, wait.slot, wait.data?.length, "blocked");
    if (k.tracer) traceBlock(k, task, wait);
    yieldToScheduler(k);
  });
}

function traceBlock(k: KernelState, task: Task, wait: Wait): void {
  const ev: BlockEvent = {
    kind: "block",
    time: k.time,
    pid: task.pid,
    task: task.name,
    op: wait.op,
    call: wait.call,
  };
  if (wait.slot !== undefined) ev.slot = wait.slot;
  if (wait.deadline !== undefined) ev.deadline = wait.deadline;
  if (wait.endpoint) {
    ev.endpoint = endpointRef(wait.endpoint);
    if (wait.op === "recv") {
      const calling = callOf(task, wait.endpoint.id);
      if (calling) ev.calling = calling;
    }
  }
  if (wait.window) ev.window = wait.window.index;
  emit(k, ev);
}

/** Puts the running task at the back of the ready queue and hands control back. */
export function requeue(k: KernelState, task: Task): Promise<void> {
  return new Promise<void>((resolve) => {
    task.burst = 0;
    task.resume = resolve;
    setState(k, task, "ready");
    k.ready.push(task);
    yieldToScheduler(k);
  });
}
