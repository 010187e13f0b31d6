/**
 * The MMIO bus and DMA: device models attached at windows, register reads and writes through a
 * MAP cap, interrupt lines (irqWait), and the guest-physical memory a task allocates for DMA
 * and may then read and write.
 *
 * @module
 */

import { capOf } from "./captable.ts";
import { type KernelState, kerr, type Step, type Task, type Window } from "./state.ts";
import { checkDeadline, checkNotPast } from "./timers.ts";
import type { DeviceReport } from "./trace_events.ts";
import { emit } from "./tracing.ts";
import {
  MMIO_WINDOW_SIZE,
  type MmioDevice,
  type MmioHost,
  type PhysMemory,
  RIGHT_MAP,
} from "./types.ts";
import { runAt, wakeValue } from "./wake.ts";

/** Attaches `device` at `window` and hands it the window's host interface. */
export function attachDevice(k: KernelState, window: number, device: MmioDevice): void {
  if (!Number.isInteger(window) || window < 0) {
    throw kerr("INVALID_ARGUMENT", `bad MMIO window ${window}`);
  }
  if (k.windows.has(window)) {
    throw kerr("SLOT_OCCUPIED", `MMIO window ${window} already has a device`);
  }
  const w: Window = { index: window, device, pending: false, waiters: [] };
  k.windows.set(window, w);
  const host: MmioHost = {
    raiseIrq: () => raiseIrq(k, w),
    get memory(): PhysMemory {
      return guestMemory(k);
    },
    now: () => k.time,
    completionDelay: () => k.schedule?.completionDelay() ?? 0,
    after: (ns: number, run: () => void) => runAt(k, k.time + Math.max(0, ns), run),
    trace: (report: DeviceReport) => {
      if (k.tracer) emit(k, { kind: "device", time: k.time, window, ...report });
    },
  };
  device.attach(host);
}

function windowOf(k: KernelState, task: Task, slot: number): Window {
  const cap = capOf(task, slot, "mmio", RIGHT_MAP);
  const w = k.windows.get(cap.window);
  if (!w) throw kerr("NO_DEVICE", `no device at MMIO window ${cap.window}`);
  return w;
}

function checkOffset(offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset >= MMIO_WINDOW_SIZE || offset % 4 !== 0) {
    throw kerr("INVALID_ARGUMENT", `bad MMIO offset ${offset}`);
  }
}

function raiseIrq(k: KernelState, w: Window): void {
  const waiter = w.waiters[0];
  if (k.tracer) {
    emit(k, {
      kind: "irq",
      time: k.time,
      window: w.index,
      ...(waiter ? { woke: waiter.pid } : {}),
    });
  }
  if (waiter) wakeValue(k, waiter, undefined);
  else w.pending = true;
}

function guestMemory(k: KernelState): PhysMemory {
  if (!k.memory) throw kerr("NO_DEVICE", "the kernel has no guest memory");
  return k.memory;
}

function checkOwned(task: Task, addr: number, len: number): void {
  if (!Number.isInteger(addr) || !Number.isInteger(len) || len < 0) {
    throw kerr("BAD_ADDRESS", `bad range 0x${Number(addr).toString(16)}+${len}`);
  }
  if (!task.dma.some((r) => addr >= r.start && addr + len <= r.end)) {
    throw kerr(
      "BAD_ADDRESS",
      `0x${addr.toString(16)}+${len} is not memory ${task.name} allocated`,
    );
  }
}

function traceAccess(
  k: KernelState,
  task: Task,
  w: Window,
  access: "read" | "write",
  offset: number,
  value: number,
): void {
  const register = w.device.registerName?.(offset);
  emit(k, {
    kind: "mmio",
    time: k.time,
    pid: task.pid,
    task: task.name,
    window: w.index,
    access,
    offset,
    ...(register !== undefined ? { register } : {}),
    value,
  });
}

// ---- the MMIO and DMA syscalls ----

/** mmioRead32: a register read. */
export function sysMmioRead32(
  k: KernelState,
  task: Task,
  slot: number,
  offset: number,
): Step<number> {
  const w = windowOf(k, task, slot);
  checkOffset(offset);
  const value = w.device.read32(offset) >>> 0;
  if (k.tracer) traceAccess(k, task, w, "read", offset, value);
  return { value };
}

/** mmioWrite32: a register write, awaited when the device completes it asynchronously. */
export async function sysMmioWrite32(
  k: KernelState,
  task: Task,
  slot: number,
  offset: number,
  value: number,
): Promise<Step<void>> {
  const w = windowOf(k, task, slot);
  checkOffset(offset);
  if (!Number.isInteger(value)) {
    throw kerr("INVALID_ARGUMENT", `bad register value ${value}`);
  }
  if (k.tracer) traceAccess(k, task, w, "write", offset, value >>> 0);
  await w.device.write32(offset, value >>> 0);
  return { value: undefined };
}

/** irqWait: consumes a pending interrupt or parks until one is raised. */
export function sysIrqWait(
  k: KernelState,
  task: Task,
  slot: number,
  opts: { deadline?: number; nonblock?: boolean },
): Step<void> {
  const w = windowOf(k, task, slot);
  checkDeadline(opts.deadline);
  if (w.pending) {
    w.pending = false;
    return { value: undefined };
  }
  if (opts.nonblock) throw kerr("WOULD_BLOCK", `no interrupt pending on window ${w.index}`);
  checkNotPast(k, opts.deadline);
  return { block: { op: "irq", slot, deadline: opts.deadline, window: w } };
}

/** dmaAlloc: guest memory the task may then read and write. */
export function sysDmaAlloc(k: KernelState, task: Task, size: number, align: number): number {
  const mem = guestMemory(k);
  if (!Number.isInteger(size) || size <= 0) {
    throw kerr("INVALID_ARGUMENT", `bad DMA size ${size}`);
  }
  if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) {
    throw kerr("INVALID_ARGUMENT", `DMA alignment must be a power of two: ${align}`);
  }
  let addr: number;
  try {
    addr = mem.alloc(size, align);
  } catch (err) {
    throw kerr("INVALID_ARGUMENT", `DMA allocation failed: ${(err as Error).message}`);
  }
  task.dma.push({ start: addr, end: addr + size });
  return addr;
}

/** memRead: reads memory the task allocated. */
export function sysMemRead(k: KernelState, task: Task, addr: number, len: number): Uint8Array {
  const mem = guestMemory(k);
  checkOwned(task, addr, len);
  return mem.read(addr, len);
}

/** memReadInto: reads memory the task allocated into the caller's buffer. */
export function sysMemReadInto(k: KernelState, task: Task, addr: number, out: Uint8Array): void {
  const mem = guestMemory(k);
  if (!(out instanceof Uint8Array)) {
    throw kerr("INVALID_ARGUMENT", "out must be a Uint8Array");
  }
  checkOwned(task, addr, out.length);
  if (mem.readInto) mem.readInto(addr, out);
  else out.set(mem.read(addr, out.length));
}

/** memWrite: writes memory the task allocated. */
export function sysMemWrite(k: KernelState, task: Task, addr: number, data: Uint8Array): void {
  const mem = guestMemory(k);
  if (!(data instanceof Uint8Array)) {
    throw kerr("INVALID_ARGUMENT", "data must be a Uint8Array");
  }
  checkOwned(task, addr, data.length);
  mem.write(addr, data);
}
