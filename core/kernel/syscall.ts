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
import { never, sysExit, sysPrint, sysSpawn, sysTaskList } from "./task.ts";
import { SYSCALL_COST_NS } from "./timers.ts";
import { emit, traceOwn, traceSyscall } from "./tracing.ts";
import {
  KernelError,
  type Message,
  type RecvOptions,
  type SendOptions,
  type Syscalls,
  type TaskState,
} from "./types.ts";

/**
 * Async syscalls a task may complete in a row without parking before the kernel makes it yield;
 * keeps a task that polls with NONBLOCK from starving the others (and the host's stop checks).
 */
export const SYSCALL_QUANTUM = 256;

/** Shared empty options: a call without options allocates none. */
const NO_OPTIONS = Object.freeze({});
/** The result of every call that completes at once with nothing: one shared settled promise. */
const RESOLVED: Promise<undefined> = Promise.resolve(undefined);
/** What irqWait accepts. */
type IrqWaitOptions = { deadline?: number; nonblock?: boolean };
/** Every yield is the same step. */
const YIELD_STEP: Step<void> = Object.freeze({ yieldNow: true as const });

/**
 * The body of an async syscall: a module-level function taking the call's arguments, so that a
 * call allocates no closure.
 */
type Body<A, B, C, T> = (
  k: KernelState,
  task: Task,
  a: A,
  b: B,
  c: C,
) => Step<T> | Promise<Step<T>>;

const sleepBody: Body<number, void, void, void> = (k, _task, ns) => sleepStep(k, ns);
const yieldBody: Body<void, void, void, void> = () => YIELD_STEP;
const sendBody: Body<number, Uint8Array, SendOptions, void> = (k, task, slot, data, opts) =>
  sysSend(k, task, slot, data, opts);
const recvBody: Body<number, RecvOptions, void, Message> = (k, task, slot, opts) =>
  sysRecv(k, task, slot, opts);
const mmioRead32Body: Body<number, number, void, number> = (k, task, slot, offset) =>
  sysMmioRead32(k, task, slot, offset);
const mmioWrite32Body: Body<number, number, number, void> = (k, task, slot, offset, value) =>
  sysMmioWrite32(k, task, slot, offset, value);
const irqWaitBody: Body<number, IrqWaitOptions, void, void> = (k, task, slot, opts) =>
  sysIrqWait(k, task, slot, opts);

/**
 * The syscall table of `task`. Synchronous calls run their body between {@link syncEnter} and
 * {@link syncOk}/{@link syncFail}; asynchronous ones hand a static body and its arguments to
 * {@link runAsync}. Neither allocates a closure per call.
 */
export function syscallsFor(k: KernelState, task: Task): Syscalls {
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
    print: (line) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "print", undefined, sysPrint(k, task, line), undefined);
      } catch (err) {
        throw syncFail(k, task, "print", undefined, err);
      }
    },
    traceCounter: (name, value) => {
      if (k.tracer && task.state !== "exited") {
        emit(k, { kind: "counter", time: k.time, pid: task.pid, task: task.name, name, value });
      }
    },
    sleep: (ns) => runAsync(k, task, "sleep", undefined, sleepBody, ns, undefined, undefined),
    yield: () => runAsync(k, task, "yield", undefined, yieldBody, undefined, undefined, undefined),
    exit: (code = 0) => {
      if (task.state !== "exited") sysExit(k, task, code);
      return never();
    },
    send: (slot, data, opts = NO_OPTIONS) =>
      runAsync(k, task, "send", slot, sendBody, slot, data, opts),
    recv: (slot, opts = NO_OPTIONS) =>
      runAsync(k, task, "recv", slot, recvBody, slot, opts, undefined),
    capQuery: (slot) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "capQuery", slot, sysCapQuery(k, task, slot), undefined);
      } catch (err) {
        throw syncFail(k, task, "capQuery", slot, err);
      }
    },
    capDerive: (slot, rights, toSlot) => {
      syncEnter(task);
      try {
        return syncOk(
          k,
          task,
          "capDerive",
          slot,
          sysCapDerive(task, slot, rights, toSlot),
          undefined,
        );
      } catch (err) {
        throw syncFail(k, task, "capDerive", slot, err);
      }
    },
    capClone: (slot) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "capClone", slot, sysCapClone(task, slot), undefined);
      } catch (err) {
        throw syncFail(k, task, "capClone", slot, err);
      }
    },
    capClose: (slot) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "capClose", slot, sysCapClose(task, slot), undefined);
      } catch (err) {
        throw syncFail(k, task, "capClose", slot, err);
      }
    },
    capTransfer: (slot, pid, rights, toSlot) => {
      syncEnter(task);
      try {
        const v = sysCapTransfer(k, task, slot, pid, rights, toSlot);
        return syncOk(k, task, "capTransfer", slot, v, undefined);
      } catch (err) {
        throw syncFail(k, task, "capTransfer", slot, err);
      }
    },
    endpointCreate: (factorySlot, depth, toSlot, ownerPid) => {
      syncEnter(task);
      try {
        const v = sysEndpointCreate(k, task, factorySlot, depth, toSlot, ownerPid);
        return syncOk(k, task, "endpointCreate", factorySlot, v, undefined);
      } catch (err) {
        throw syncFail(k, task, "endpointCreate", factorySlot, err);
      }
    },
    spawn: (name, entry) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "spawn", undefined, sysSpawn(k, task, name, entry), undefined);
      } catch (err) {
        throw syncFail(k, task, "spawn", undefined, err);
      }
    },
    taskList: () => {
      syncEnter(task);
      try {
        return syncOk(k, task, "taskList", undefined, sysTaskList(k, task), undefined);
      } catch (err) {
        throw syncFail(k, task, "taskList", undefined, err);
      }
    },
    mmioRead32: (slot, offset) =>
      runAsync(k, task, "mmioRead32", slot, mmioRead32Body, slot, offset, undefined),
    mmioWrite32: (slot, offset, value) =>
      runAsync(k, task, "mmioWrite32", slot, mmioWrite32Body, slot, offset, value),
    irqWait: (slot, opts = NO_OPTIONS) =>
      runAsync(k, task, "irqWait", slot, irqWaitBody, slot, opts, undefined),
    dmaAlloc: (size, align = 16) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "dmaAlloc", undefined, sysDmaAlloc(k, task, size, align), size);
      } catch (err) {
        throw syncFail(k, task, "dmaAlloc", undefined, err);
      }
    },
    memRead: (addr, len) => {
      syncEnter(task);
      try {
        return syncOk(k, task, "memRead", undefined, sysMemRead(k, task, addr, len), len);
      } catch (err) {
        throw syncFail(k, task, "memRead", undefined, err);
      }
    },
    memReadInto: (addr, out) => {
      syncEnter(task);
      try {
        const v = sysMemReadInto(k, task, addr, out);
        return syncOk(k, task, "memRead", undefined, v, out.length);
      } catch (err) {
        throw syncFail(k, task, "memRead", undefined, err);
      }
    },
    memWrite: (addr, data) => {
      syncEnter(task);
      try {
        const v = sysMemWrite(k, task, addr, data);
        return syncOk(k, task, "memWrite", undefined, v, data.length);
      } catch (err) {
        throw syncFail(k, task, "memWrite", undefined, err);
      }
    },
  };
}

/** sleep: parks until `ns` from now; sleep(0) (or less) is a yield. */
function sleepStep(k: KernelState, ns: number): Step<void> {
  if (typeof ns !== "number" || Number.isNaN(ns)) {
    throw kerr("INVALID_ARGUMENT", `bad sleep ${ns}`);
  }
  if (ns <= 0) return YIELD_STEP;
  return { block: { op: "sleep", deadline: k.time + ns } };
}

/** A synchronous syscall may not start once its task has exited. */
function syncEnter(task: Task): void {
  if (task.state === "exited") throw kerr("NO_SUCH_TASK", `${task.name} has exited`);
}

/** A synchronous syscall's body returned `v`: traced (with `size` when given), `v` returned. */
function syncOk<T>(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  v: T,
  size: number | undefined,
): T {
  traceSyscall(k, task, op, slot, size, "ok");
  return v;
}

/** A synchronous syscall's body threw `err`: a KernelError is traced; `err` is rethrown. */
function syncFail(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  err: unknown,
): unknown {
  if (err instanceof KernelError) traceSyscall(k, task, op, slot, undefined, err.code);
  return err;
}

/**
 * An async syscall: checks that the caller is the running task with no syscall in flight,
 * charges the syscall cost, runs `fn`, then returns its result, parks the task, or (after
 * {@link SYSCALL_QUANTUM} calls without parking) makes it yield first. A body that completes at
 * once costs no extra promise: the call is done when this returns, and only a parked call or a
 * device still working on a write counts as in flight.
 */
function runAsync<A, B, C, T>(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  body: Body<A, B, C, T>,
  a: A,
  b: B,
  c: C,
): Promise<T> {
  if (task.state === "exited") return never();
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
    step = body(k, task, a, b, c);
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
    return never();
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
  const value = step.value;
  return value === undefined ? (RESOLVED as Promise<T>) : Promise.resolve(value);
}
