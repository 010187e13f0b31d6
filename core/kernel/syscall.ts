/**
 * Syscall dispatch: the table of every syscall a task sees, in one place, and the two ways a
 * call runs. A synchronous call (cap and memory operations, print, spawn) runs to completion and
 * is traced. An asynchronous call (send, recv, sleep, yield, MMIO, irqWait) costs
 * {@link SYSCALL_COST_NS} of virtual time and is the only point where the running task may park
 * or yield. The bodies live with their concern: captable.ts, ipc.ts, mmio.ts, task.ts.
 *
 * @module
 */

import { sysCapClone, sysCapClose, sysCapDerive, sysCapQuery, sysCapTransfer } from "./captable.ts";
import { sysEndpointCreate, sysRecv, sysSend } from "./ipc.ts";
import {
  sysDmaAlloc,
  sysIrqWait,
  sysMemRead,
  sysMemReadInto,
  sysMemWrite,
  sysMmioRead32,
  sysMmioWrite32,
} from "./mmio.ts";
import { park, requeue } from "./scheduler.ts";
import { type KernelState, kerr, type Step, type Task } from "./state.ts";
import { sysExit, sysPrint, sysSpawn, sysTaskList } from "./task.ts";
import { SYSCALL_COST_NS } from "./timers.ts";
import { emit, traceOwn, traceSyscall } from "./tracing.ts";
import { KernelError, type Message, type Syscalls, type TaskState } from "./types.ts";

/**
 * Async syscalls a task may complete in a row without parking before the kernel makes it yield;
 * keeps a task that polls with NONBLOCK from starving the others (and the host's stop checks).
 */
export const SYSCALL_QUANTUM = 256;

const NEVER: Promise<never> = new Promise<never>(() => {});
/** Shared empty options: a call without options allocates none. */
const NO_OPTIONS = Object.freeze({});

/** The syscall table of `task`. */
export function syscallsFor(k: KernelState, task: Task): Syscalls {
  const sync = <T>(op: string, slot: number | undefined, fn: () => T, size?: (v: T) => number) =>
    runSync(k, task, op, slot, fn, size);
  const async = <T>(op: string, slot: number | undefined, fn: () => Step<T> | Promise<Step<T>>) =>
    runAsync(k, task, op, slot, fn);
  return {
    get pid() {
      return task.pid;
    },
    get name() {
      return task.name;
    },
    get serviceId() {
      return task.serviceId;
    },
    now: () => k.time,
    print: (line) => sync("print", undefined, () => sysPrint(k, task, line)),
    traceCounter: (name, value) => {
      if (k.tracer && task.state !== "exited") {
        emit(k, { kind: "counter", time: k.time, pid: task.pid, task: task.name, name, value });
      }
    },
    sleep: (ns) => async<void>("sleep", undefined, () => sleepStep(k, ns)),
    yield: () => async<void>("yield", undefined, () => ({ yieldNow: true })),
    exit: (code = 0) => {
      if (task.state !== "exited") sysExit(k, task, code);
      return NEVER;
    },
    send: (slot, data, opts = NO_OPTIONS) =>
      async<void>("send", slot, () => sysSend(k, task, slot, data, opts)),
    recv: (slot, opts = NO_OPTIONS) =>
      async<Message>("recv", slot, () => sysRecv(k, task, slot, opts)),
    capQuery: (slot) => sync("capQuery", slot, () => sysCapQuery(k, task, slot)),
    capDerive: (slot, rights, toSlot) =>
      sync("capDerive", slot, () => sysCapDerive(task, slot, rights, toSlot)),
    capClone: (slot) => sync("capClone", slot, () => sysCapClone(task, slot)),
    capClose: (slot) => sync("capClose", slot, () => sysCapClose(task, slot)),
    capTransfer: (slot, pid, rights, toSlot) =>
      sync("capTransfer", slot, () => sysCapTransfer(k, task, slot, pid, rights, toSlot)),
    endpointCreate: (factorySlot, depth, toSlot, ownerPid) =>
      sync(
        "endpointCreate",
        factorySlot,
        () => sysEndpointCreate(k, task, factorySlot, depth, toSlot, ownerPid),
      ),
    spawn: (name, entry) => sync("spawn", undefined, () => sysSpawn(k, task, name, entry)),
    taskList: () => sync("taskList", undefined, () => sysTaskList(k, task)),
    mmioRead32: (slot, offset) =>
      async<number>("mmioRead32", slot, () => sysMmioRead32(k, task, slot, offset)),
    mmioWrite32: (slot, offset, value) =>
      async<void>("mmioWrite32", slot, () => sysMmioWrite32(k, task, slot, offset, value)),
    irqWait: (slot, opts = NO_OPTIONS) =>
      async<void>("irqWait", slot, () => sysIrqWait(k, task, slot, opts)),
    dmaAlloc: (size, align = 16) =>
      sync("dmaAlloc", undefined, () => sysDmaAlloc(k, task, size, align), () => size),
    memRead: (addr, len) =>
      sync("memRead", undefined, () => sysMemRead(k, task, addr, len), () => len),
    memReadInto: (addr, out) =>
      sync("memRead", undefined, () => sysMemReadInto(k, task, addr, out), () => out.length),
    memWrite: (addr, data) =>
      sync("memWrite", undefined, () => sysMemWrite(k, task, addr, data), () => data.length),
  };
}

/** sleep: parks until `ns` from now; sleep(0) (or less) is a yield. */
function sleepStep(k: KernelState, ns: number): Step<void> {
  if (typeof ns !== "number" || Number.isNaN(ns)) {
    throw kerr("INVALID_ARGUMENT", `bad sleep ${ns}`);
  }
  if (ns <= 0) return { yieldNow: true };
  return { block: { op: "sleep", deadline: k.time + ns } };
}

/** A synchronous syscall: traced, errors thrown as KernelError. */
function runSync<T>(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  fn: () => T,
  size?: (v: T) => number,
): T {
  if (task.state === "exited") throw kerr("NO_SUCH_TASK", `${task.name} has exited`);
  try {
    const v = fn();
    traceSyscall(k, task, op, slot, size?.(v), "ok");
    return v;
  } catch (err) {
    if (err instanceof KernelError) traceSyscall(k, task, op, slot, undefined, err.code);
    throw err;
  }
}

/**
 * An async syscall: checks that the caller is the running task with no syscall in flight,
 * charges the syscall cost, runs `fn`, then returns its result, parks the task, or (after
 * {@link SYSCALL_QUANTUM} calls without parking) makes it yield first. A body that completes at
 * once costs no extra promise: the call is done when this returns, and only a parked call or a
 * device still working on a write counts as in flight.
 */
function runAsync<T>(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  fn: () => Step<T> | Promise<Step<T>>,
): Promise<T> {
  if (task.state === "exited") return NEVER;
  if (k.current !== task || task.inSyscall) {
    const err = kerr("INVALID_ARGUMENT", `${op}: ${task.name} has another syscall in flight`);
    traceSyscall(k, task, op, slot, undefined, err.code);
    return Promise.reject(err);
  }
  task.inSyscall = true;
  k.wakeTraces = k.tracer ? [] : undefined;
  k.time += SYSCALL_COST_NS;
  let step: Step<T> | Promise<Step<T>>;
  try {
    step = fn();
  } catch (err) {
    if (!(err instanceof KernelError)) {
      done(k, task);
      return Promise.reject(err);
    }
    step = { error: err };
  }
  if (step instanceof Promise) {
    // The body awaits a device: the task stays in its syscall until the device is done.
    return step.then(
      (s) => complete(k, task, op, slot, s),
      (err) => {
        if (err instanceof KernelError) return complete<T>(k, task, op, slot, { error: err });
        done(k, task);
        throw err;
      },
    );
  }
  return complete(k, task, op, slot, step);
}

function done(k: KernelState, task: Task): void {
  task.inSyscall = false;
  k.wakeTraces = undefined;
}

/** Finishes an async syscall whose body produced `step`. */
function complete<T>(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  step: Step<T>,
): Promise<T> {
  // The state may have changed while the body awaited a device.
  if ((task.state as TaskState) === "exited") {
    done(k, task);
    return NEVER;
  }
  if ("block" in step) {
    task.inSyscall = false;
    return park<T>(k, task, op, step.block);
  }
  if ("yieldNow" in step) {
    traceOwn(k, task, op, slot, undefined, "ok");
    done(k, task);
    return requeue(k, task) as Promise<T>;
  }
  if ("error" in step) {
    traceOwn(k, task, op, slot, undefined, step.error.code);
    done(k, task);
    if (++task.burst >= SYSCALL_QUANTUM) {
      const err = step.error;
      return requeue(k, task).then(() => Promise.reject(err));
    }
    return Promise.reject(step.error);
  }
  traceOwn(k, task, op, slot, step.size, "ok");
  done(k, task);
  if (++task.burst >= SYSCALL_QUANTUM) return requeue(k, task).then(() => step.value);
  return Promise.resolve(step.value);
}
