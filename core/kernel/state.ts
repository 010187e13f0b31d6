/**
 * The kernel's objects (tasks, capabilities, endpoints, MMIO windows, waits) and the one record
 * that holds them all. Every other kernel file is a set of functions over {@link KernelState};
 * only `kernel.ts` (the host's face) creates one.
 *
 * @module
 */

import { KernelConsole } from "./console.ts";
import { type HeapMember, IndexedHeap } from "./heap.ts";
import type { SimSchedule } from "./schedule.ts";
import type { TraceEvent, Tracer } from "./trace_events.ts";
import {
  KernelError,
  type KernelErrorCode,
  type MmioDevice,
  type PhysMemory,
  RIGHTS_ALL,
  type Syscalls,
  type TaskEntry,
  type TaskState,
} from "./types.ts";

/** A capability as it sits in a slot (and as the host places one). */
export type Cap =
  | { kind: "endpoint"; endpointId: number; rights: number }
  | { kind: "endpoint-factory"; rights: number }
  | { kind: "mmio"; window: number; rights: number };

/**
 * A cap in a table. `via` is the id of the message it arrived with (kept by copies): a frame
 * sent on it is a reply to that message.
 */
export type HeldCap = Cap & { via?: number };

/** A frame in an endpoint's queue. */
export interface Queued {
  /** Message id (trace). */
  msg: number;
  data: Uint8Array;
  senderPid: number;
  senderServiceId: bigint;
  cap?: HeldCap;
  /** The message this one answers, when sent on a cap that arrived with it. */
  inReplyTo?: number;
}

/** A bounded message queue owned by a task. */
export interface Endpoint {
  id: number;
  owner: Task;
  depth: number;
  queue: Queued[];
  closed: boolean;
  /** Tasks blocked sending, in the order they blocked. */
  senders: Task[];
  /** Tasks blocked receiving, in the order they blocked. */
  receivers: Task[];
}

/** An MMIO window with its device and interrupt line. */
export interface Window {
  index: number;
  device: MmioDevice;
  pending: boolean;
  waiters: Task[];
}

/** What a blocked task waits for. */
export type WaitOp = "send" | "recv" | "sleep" | "irq";

/** A parked syscall: what it waits on and how to continue it. */
export interface Wait {
  /** What the task waits for (task table). */
  op: WaitOp;
  /** The syscall that parked it (trace), e.g. "irqWait" for op "irq". */
  call: string;
  slot?: number;
  deadline?: number;
  endpoint?: Endpoint;
  window?: Window;
  /** send: the frame (a private copy) and the slot of the cap to move. */
  data?: Uint8Array;
  moveCap?: number;
  /** send: the message the frame answers (the send cap arrived with it). */
  inReplyTo?: number;
  /** recv: buffer size and TRUNCATE. */
  maxLen?: number;
  truncate?: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** A task: its body, its cap table, its scheduling state. */
export interface Task {
  pid: number;
  name: string;
  serviceId: bigint;
  entry: TaskEntry;
  sys: Syscalls;
  table: (HeldCap | null)[];
  state: TaskState;
  since: number;
  exitCode?: number;
  started: boolean;
  /** True between an async syscall's entry and its return to the task. */
  inSyscall: boolean;
  /** Async syscalls completed since the task last parked. */
  burst: number;
  wait?: Wait;
  /** Set when the task was requeued: continues it when the scheduler picks it. */
  resume?: () => void;
  /** Set when the task was woken: the wait whose call to settle when the scheduler picks it. */
  woken?: Wait;
  /** With `woken`: settle with `wakeValue` as the result (true) or as the error (false). */
  wakeOk: boolean;
  wakeValue: unknown;
  dma: Array<{ start: number; end: number }>;
  /** The endpoint created for slot 0 at spawn. */
  bootEndpointId: number;
  /** Position in the deadline heap (-1: not in it). */
  heapIndex: number;
  /** The request this task sent with a reply cap to its own inbox and has no answer to yet. */
  call?: PendingCall;
  /** Set while the task, woken, waits out a delivery delay before it becomes ready. */
  later?: Later;
  /** Counted as it happens, so snapshot.json needs no tracer on every boot. */
  counts: TaskCounts;
}

/** What a task did, counted as it happens (see {@link Task.counts}). */
export interface TaskCounts {
  /** Syscalls completed (one per syscall trace event). */
  syscalls: number;
  /** Messages sent (one per ipc-send trace event). */
  sent: number;
  /** Messages received (one per ipc-recv trace event). */
  received: number;
}

/** Something due at a virtual time: a delayed wake-up, or a device's deferred work. */
export interface Later extends HeapMember {
  /** Virtual time at which it is due. */
  at: number;
  /** Creation order, breaking ties. */
  seq: number;
  /** A woken task to make ready. */
  task?: Task;
  /** Work to run (device completions). */
  run?: () => void;
}

/** A request sent with a reply cap to the sender's own inbox, not yet answered. */
export interface PendingCall {
  /** The request's message id. */
  msg: number;
  /** Where the request went. */
  endpoint: Endpoint;
  /** The sender's reply inbox (endpoint id). */
  inbox: number;
  /** The request frame (for its label). */
  frame: Uint8Array;
}

/** Every kernel object, the clock and the scheduler's queues. */
export class KernelState {
  /** Guest-physical memory for DMA and devices, when the kernel has one. */
  readonly memory?: PhysMemory;
  /** Receives every trace event, when set. */
  readonly tracer?: Tracer;
  /** The choices a seed drives, when simulating; the canonical choices otherwise. */
  readonly schedule?: SimSchedule;
  /** The UART. */
  readonly console = new KernelConsole();
  /** Tasks indexed by pid (index 0 unused). */
  readonly tasks: Task[] = [];
  /** Tasks not yet exited. */
  live = 0;
  readonly endpoints = new Map<number, Endpoint>();
  readonly windows = new Map<number, Window>();
  /** Runnable tasks, in the order they became runnable. */
  readonly ready: Task[] = [];
  /** Blocked tasks with a deadline, earliest (then lowest pid) first. */
  readonly timers = new IndexedHeap<Task>((a, b) => {
    const da = a.wait!.deadline!;
    const db = b.wait!.deadline!;
    return da < db || (da === db && a.pid < b.pid);
  });
  /** Delayed wake-ups and device work, earliest (then oldest) first. */
  readonly later = new IndexedHeap<Later>((a, b) =>
    a.at < b.at || (a.at === b.at && a.seq < b.seq)
  );
  laterSeq = 0;
  /** Virtual time in ns. */
  time = 0;
  nextEndpointId = 1;
  nextMsgId = 1;
  /** The task running now. */
  current?: Task;
  /** Wakes the run loop when the current task parks or finishes. */
  parked?: () => void;
  /** A step a stopped run left unfinished (a task stuck in a non-syscall await). */
  unfinishedStep?: Promise<void>;
  running = false;
  /**
   * Syscall events of tasks woken during the running task's async syscall: emitted after that
   * syscall's own event, so a trace reads cause before effect.
   */
  wakeTraces?: TraceEvent[];
  /** Builds the syscall surface of a new task (set by the kernel). */
  makeSyscalls!: (task: Task) => Syscalls;

  /** Creates an empty kernel state. */
  constructor(memory?: PhysMemory, tracer?: Tracer, schedule?: SimSchedule) {
    this.memory = memory;
    this.tracer = tracer;
    this.schedule = schedule;
  }
}

/** The outcome of a syscall's body: a result now, an error now, a park, or a yield. */
export type Step<T> =
  | { value: T; size?: number }
  | { error: KernelError }
  | { block: Omit<Wait, "call" | "resolve" | "reject"> }
  | { yieldNow: true };

/** Outcomes a correct program meets routinely: their errors skip the stack trace. */
const ROUTINE: ReadonlySet<KernelErrorCode> = new Set(["WOULD_BLOCK", "TIMED_OUT", "CLOSED"]);

/** A {@link KernelError}; a routine outcome's carries no stack ({@link KernelError.routine}). */
export function kerr(code: KernelErrorCode, message: string): KernelError {
  return ROUTINE.has(code) ? KernelError.routine(code, message) : new KernelError(code, message);
}

/** True for a valid rights mask. */
export function isRights(r: unknown): r is number {
  return Number.isInteger(r) && (r as number) >= 0 && ((r as number) & ~RIGHTS_ALL) === 0;
}

/** The live task with `pid`; NO_SUCH_TASK otherwise. */
export function liveTask(k: KernelState, pid: number): Task {
  const task = Number.isInteger(pid) ? k.tasks[pid] : undefined;
  if (!task || task.state === "exited") throw kerr("NO_SUCH_TASK", `no live task ${pid}`);
  return task;
}
