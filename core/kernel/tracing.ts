/**
 * Emitting trace events: the syscall event of a call (deferring the events of tasks it woke until
 * its own is out, so a trace reads cause before effect) and the typed events of the other
 * kernel files. Without a tracer only the task's syscall count is kept.
 *
 * @module
 */

import type { KernelState, Task } from "./state.ts";
import type { EndpointRef, SyscallEvent, TraceEvent } from "./trace_events.ts";
import type { Endpoint } from "./state.ts";

/** Hands `event` to the tracer (the caller checked that there is one). */
export function emit(k: KernelState, event: TraceEvent): void {
  k.tracer!(event);
}

/** Reports a syscall's outcome, or queues it on `defer` (a woken task's completed call). */
export function traceSyscall(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  size: number | undefined,
  outcome: string,
  defer?: TraceEvent[],
): void {
  task.counts.syscalls++;
  if (!k.tracer) return;
  const ev: SyscallEvent = {
    kind: "syscall",
    time: k.time,
    pid: task.pid,
    task: task.name,
    op,
    outcome,
  };
  if (slot !== undefined) ev.slot = slot;
  if (size !== undefined) ev.size = size;
  if (defer) defer.push(ev);
  else k.tracer(ev);
}

/** Reports the running task's own syscall outcome, then the wake-ups it caused. */
export function traceOwn(
  k: KernelState,
  task: Task,
  op: string,
  slot: number | undefined,
  size: number | undefined,
  outcome: string,
): void {
  traceSyscall(k, task, op, slot, size, outcome);
  const pending = k.wakeTraces;
  k.wakeTraces = undefined;
  if (pending && k.tracer) { for (const ev of pending) k.tracer(ev); }
}

/** An endpoint as events name it. */
export function endpointRef(ep: Endpoint): EndpointRef {
  return { endpointId: ep.id, ownerPid: ep.owner.pid, owner: ep.owner.name };
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** A frame's label, `MMMM:OO` (magic bytes, op byte), or undefined without a 4-byte header. */
export function frameLabel(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined;
  return `${hex2(data[0])}${hex2(data[1])}:${hex2(data[3])}`;
}

/** Bytes of a reply frame a trace event keeps (`head` of the IPC events). */
export const REPLY_HEAD_BYTES = 16;

/** The first {@link REPLY_HEAD_BYTES} bytes of `data` in hex. */
export function frameHead(data: Uint8Array): string {
  return data.subarray(0, REPLY_HEAD_BYTES).toHex();
}
