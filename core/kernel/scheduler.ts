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
import { setState, takeHead, yieldToScheduler } from "./wake.ts";
import { wallInterval } from "./wall_timer.ts";

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

/**
 * Runs tasks until nothing can progress, all exited, the host stops, or the steps run out.
 *
 * There is no loop that awaits each step: when the running task parks (or ends), it calls the
 * scheduler's `next` directly, which picks the next task and resumes it. A step therefore costs
 * no promise of its own; the returned promise settles once, when the run ends.
 */
export function runLoop(k: KernelState, opts: RunOptions): Promise<RunResult> {
  if (k.running) return Promise.reject(new Error("Kernel.run is already running"));
  k.running = true;
  return new Promise<RunResult>((resolve, reject) => {
    const stop = opts.shouldStop;
    let steps = 0;
    let ended = false;
    let ticksThisStep = 0;
    let waitingUnfinished = false;
    const end = (reason: RunResult["reason"]): void => {
      if (ended) return;
      ended = true;
      stopPoll?.();
      k.running = false;
      resolve({ reason, time: k.time, steps });
    };
    const fail = (err: unknown): void => {
      if (ended) return;
      ended = true;
      stopPoll?.();
      k.running = false;
      reject(err);
    };
    /** Called with no task running: resumes the next one, or ends the run. */
    const next = (): void => {
      if (ended) return;
      try {
        if (stop?.()) return end("stopped");
        if (opts.maxSteps !== undefined && steps >= opts.maxSteps) return end("max-steps");
        fireExpired(k);
        let task = pickReady(k);
        if (!task) {
          if (k.live === 0) return end("all-exited");
          const deadline = earliestDeadline(k);
          if (deadline === undefined) return end("idle");
          if (deadline > k.time) k.time = deadline;
          fireExpired(k);
          task = pickReady(k);
          if (!task) return end("idle");
        }
        steps++;
        ticksThisStep = 0;
        k.parked = next;
        resumeTask(k, task);
      } catch (err) {
        fail(err);
      }
    };
    // A task stuck awaiting something that never settles would hang the run; when the host can
    // stop us, poll shouldStop on the wall clock, but only once a single step has lasted two
    // polls, so a normal step (a few ms of crypto or file I/O) is never cut. The stuck step is
    // left unfinished: the next run waits for it first. This only guards the host; it never
    // changes what a run that completes its steps does.
    const stopPoll = stop
      ? wallInterval(STUCK_POLL_MS, () => {
        ticksThisStep++;
        if (ended || ticksThisStep < 2 || !stop()) return;
        if (!waitingUnfinished) {
          k.unfinishedStep = new Promise<void>((r) => (k.parked = r));
        }
        end("stopped");
      })
      : undefined;
    const unfinished = k.unfinishedStep;
    if (!unfinished) return next();
    if (stop?.()) return end("stopped");
    waitingUnfinished = true;
    unfinished.then(() => {
      if (ended) return;
      waitingUnfinished = false;
      k.unfinishedStep = undefined;
      next();
    });
  });
}

/** Takes the task to run next off the ready queue: the head, or the schedule's pick. */
function pickReady(k: KernelState): Task | undefined {
  const n = k.ready.length;
  if (n <= 1 || !k.schedule) return takeHead(k.ready);
  const i = k.schedule.pickReady(n);
  return i === 0 ? takeHead(k.ready) : k.ready.splice(i, 1)[0];
}

/** Resumes `task`; it runs until it parks in a syscall or finishes, then calls `k.parked`. */
function resumeTask(k: KernelState, task: Task): void {
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
  } else if (task.woken) {
    // Settles the parked call with what the waker left.
    const w = task.woken;
    task.woken = undefined;
    const value = task.wakeValue;
    task.wakeValue = undefined;
    if (task.wakeOk) w.resolve(value);
    else w.reject(value);
  } else {
    const resume = task.resume;
    task.resume = undefined;
    resume?.();
  }
}

/** Parks the running task on `block`; the promise settles when it is woken. */
export function park<T>(
  k: KernelState,
  task: Task,
  call: string,
  block: Omit<Wait, "call" | "resolve" | "reject">,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // The block description becomes the wait record (it is fresh per call).
    const wait = block as Wait;
    wait.call = call;
    wait.resolve = resolve as (v: unknown) => void;
    wait.reject = reject;
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
