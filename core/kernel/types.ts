/**
 * The kernel's public contract: constants (docs/architecture.md), the syscall
 * surface a task (service) sees, and the device-model interface the MMIO bus dispatches to.
 *
 * Services receive a {@link Syscalls} object and nothing else; every interaction with the rest of
 * the system goes through it. Calls that may block return a Promise and are the only points at
 * which the scheduler switches tasks.
 *
 * @module
 */

import type { CallRef, DeviceReport } from "./trace_events.ts";

/** Capability slots per task. */
export const CAP_SLOTS = 96;
/** Slot 0: the bootstrap endpoint. */
export const SLOT_BOOTSTRAP = 0;
/** Slot 1: control channel to init (SEND). */
export const SLOT_CTRL_SEND = 1;
/** Slot 2: control channel from init (RECV). */
export const SLOT_CTRL_RECV = 2;
/** The first slot a service's own caps may use; 0..2 are reserved. */
export const FIRST_SERVICE_SLOT = 3;

/** Right to send on an endpoint. */
export const RIGHT_SEND = 1;
/** Right to receive on an endpoint. */
export const RIGHT_RECV = 2;
/** Right to map an MMIO window. */
export const RIGHT_MAP = 4;
/** Right to manage (derive for others, create endpoints from a factory). */
export const RIGHT_MANAGE = 8;
/** Every right. */
export const RIGHTS_ALL = RIGHT_SEND | RIGHT_RECV | RIGHT_MAP | RIGHT_MANAGE;

/** Largest frame an endpoint accepts, in bytes. */
export const MAX_FRAME = 8192;
/** Smallest endpoint queue depth. */
export const MIN_ENDPOINT_DEPTH = 1;
/** Largest endpoint queue depth. */
export const MAX_ENDPOINT_DEPTH = 256;

/** Guest-physical base of MMIO window 0. */
export const MMIO_BASE = 0x10001000;
/** Size of one MMIO window. */
export const MMIO_WINDOW_SIZE = 0x1000;

/** What a capability refers to. */
export type CapKind = "endpoint" | "endpoint-factory" | "mmio";

/** Description of the capability held in a slot, as `capQuery` reports it. */
export interface CapInfo {
  /** The slot queried. */
  slot: number;
  /** Kind of object. */
  kind: CapKind;
  /** Rights bitmask (RIGHT_*). */
  rights: number;
  /** For endpoint caps: the endpoint and its owner (unlike the original OS, endpoints are described). */
  endpoint?: {
    id: number;
    ownerPid: number;
    ownerName: string;
    depth: number;
    queued: number;
    closed: boolean;
  };
  /** For MMIO caps: the window index and its guest-physical base. */
  mmio?: { window: number; base: number };
}

/** Stable kernel error codes. */
export type KernelErrorCode =
  | "INVALID_SLOT"
  | "EMPTY_SLOT"
  | "SLOT_OCCUPIED"
  | "NO_FREE_SLOT"
  | "WRONG_KIND"
  | "PERMISSION_DENIED"
  | "WOULD_BLOCK"
  | "TIMED_OUT"
  | "CLOSED"
  | "FRAME_TOO_LARGE"
  | "INVALID_ARGUMENT"
  | "NO_SUCH_TASK"
  | "NO_DEVICE"
  | "BAD_ADDRESS";

/**
 * A syscall failure with a stable code. Syscalls reject (or throw) with this type only.
 *
 * The routine outcomes of a correct program (WOULD_BLOCK, TIMED_OUT, CLOSED: a poll that found
 * nothing, a deadline, a peer gone) come from {@link KernelError.routine} and carry no stack
 * trace: capturing one costs the runtime microseconds, more than the whole failed syscall.
 * Every other code still records where it was raised.
 */
export class KernelError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: KernelErrorCode, message: string) {
    super(message);
    this.name = "KernelError";
  }

  /**
   * The same error without a stack trace (its `stack` is the `KernelError: message` line):
   * still `instanceof KernelError` and `instanceof Error`, with the same code, name and message.
   *
   * @example
   * ```ts
   * const e = KernelError.routine("WOULD_BLOCK", "endpoint 3 is empty");
   * e instanceof KernelError; // true
   * e.stack; // "KernelError: endpoint 3 is empty"
   * ```
   */
  static routine(code: KernelErrorCode, message: string): KernelError {
    const e = Object.create(ROUTINE_PROTO) as { code: KernelErrorCode; message: string };
    e.code = code;
    e.message = message;
    return e as KernelError;
  }
}

/**
 * The prototype of {@link KernelError.routine}'s errors: a KernelError whose `stack` is made
 * from the message when read (and becomes an own property when written).
 */
const ROUTINE_PROTO: KernelError = Object.create(KernelError.prototype, {
  name: { value: "KernelError", writable: true, configurable: true },
  stack: {
    get(this: KernelError) {
      return `KernelError: ${this.message}`;
    },
    set(this: KernelError, v: unknown) {
      Object.defineProperty(this, "stack", { value: v, writable: true, configurable: true });
    },
    configurable: true,
  },
});

/** Options for {@link Syscalls.send}. */
export interface SendOptions {
  /** Fail with WOULD_BLOCK instead of waiting when the queue is full. */
  nonblock?: boolean;
  /** Absolute virtual time (ns) after which a blocked send fails with TIMED_OUT. */
  deadline?: number;
  /** Slot of a capability to move with the message (CAP_MOVE); it leaves the sender only if the message is queued. */
  moveCap?: number;
}

/** Options for {@link Syscalls.recv}. */
export interface RecvOptions {
  /** Fail with WOULD_BLOCK instead of waiting when the queue is empty. */
  nonblock?: boolean;
  /** Absolute virtual time (ns) after which a blocked receive fails with TIMED_OUT. */
  deadline?: number;
  /** Receive buffer size; a longer frame fails with FRAME_TOO_LARGE (and stays queued) unless `truncate`. */
  maxLen?: number;
  /** Deliver a frame longer than `maxLen` cut to `maxLen`, with `truncated` set (TRUNCATE). */
  truncate?: boolean;
}

/** A received message. */
export interface Message {
  /** Frame bytes. */
  data: Uint8Array;
  /** True when the frame was cut to the receive buffer (TRUNCATE). */
  truncated: boolean;
  /** Kernel-reported sender pid. */
  senderPid: number;
  /** Kernel-reported sender identity, FNV-1a-64 of the sender's name. Never taken from the payload. */
  senderServiceId: bigint;
  /** Slot in the receiver's table where a moved capability landed, if one travelled. */
  capSlot?: number;
}

/** Scheduling state of a task, as the task table reports it. */
export type TaskState = "ready" | "running" | "blocked" | "exited";

/** A row of the task table (watchdog diagnostics, tracing). */
export interface TaskInfo {
  /** Task id. */
  pid: number;
  /** Task name. */
  name: string;
  /** FNV-1a-64 of the name. */
  serviceId: bigint;
  /** Scheduling state. */
  state: TaskState;
  /** What the task waits on when blocked. */
  blockedOn?: {
    op: "send" | "recv" | "sleep" | "irq";
    slot?: number;
    endpointId?: number;
    /** Owner (service name) of the endpoint waited on. */
    peer?: string;
    /**
     * For a receive on a reply inbox: the request the task sent and the service it went to
     * (waiting on its own inbox means waiting for that service).
     */
    calling?: CallRef;
  };
  /** Virtual time (ns) since which the task is in its current state. */
  since: number;
  /** Exit code once exited. */
  exitCode?: number;
}

/** A task body: an async function that blocks only in syscalls. */
export type TaskEntry = (sys: Syscalls) => Promise<void>;

/** The syscall surface a task sees. */
export interface Syscalls {
  /** This task's pid. */
  readonly pid: number;
  /** This task's name. */
  readonly name: string;
  /** FNV-1a-64 of the name. */
  readonly serviceId: bigint;

  /** Current virtual time in ns. */
  now(): number;
  /** Writes one line to the console (UART). */
  print(line: string): void;
  /**
   * Records one sample of a named counter in the trace (a trace marker: it costs no virtual time,
   * is not a scheduling point and does nothing when no tracer listens).
   */
  traceCounter(name: string, value: number): void;
  /** Blocks for `ns` virtual nanoseconds. */
  sleep(ns: number): Promise<void>;
  /** Gives up the CPU; the task is runnable again after every other runnable task ran once. */
  yield(): Promise<void>;
  /** Ends the task. Endpoints it owns close; waiters wake with CLOSED. */
  exit(code?: number): Promise<never>;

  /** Sends a frame on the endpoint in `slot` (needs SEND). */
  send(slot: number, data: Uint8Array, opts?: SendOptions): Promise<void>;
  /** Receives a frame from the endpoint in `slot` (needs RECV). */
  recv(slot: number, opts?: RecvOptions): Promise<Message>;

  /** Describes the cap in `slot`, or null when the slot is empty. Throws INVALID_SLOT out of range. */
  capQuery(slot: number): CapInfo | null;
  /** Copies the cap in `slot` within this table with `rights` (a subset); to `toSlot` or the first free slot. */
  capDerive(slot: number, rights: number, toSlot?: number): number;
  /** Copies the cap in `slot` with the same rights to the first free slot. */
  capClone(slot: number): number;
  /** Empties `slot`. */
  capClose(slot: number): void;
  /**
   * Copies the cap in `slot` with `rights` (a subset) into another task's table, at `toSlot`
   * (fails with SLOT_OCCUPIED when taken) or the first free slot. Privileged: needs MANAGE on slot 0.
   */
  capTransfer(slot: number, pid: number, rights: number, toSlot?: number): number;
  /**
   * Creates an endpoint from the factory cap in `factorySlot` and places a SEND|RECV|MANAGE cap to
   * it in the caller's table (at `toSlot` or the first free slot). The owner is the caller, or
   * `ownerPid` when given (privileged: init creates each service's endpoints owned by that service,
   * so they close when it exits).
   */
  endpointCreate(factorySlot: number, depth: number, toSlot?: number, ownerPid?: number): number;

  /** Spawns a task. Privileged: needs MANAGE on slot 0. Returns the new pid. */
  spawn(name: string, entry: TaskEntry): number;
  /** Every task's row, in pid order. Privileged: needs MANAGE on slot 0. */
  taskList(): TaskInfo[];

  /** Reads a 32-bit register at `offset` of the MMIO window in `slot` (needs MAP). */
  mmioRead32(slot: number, offset: number): Promise<number>;
  /** Writes a 32-bit register at `offset` of the MMIO window in `slot` (needs MAP). */
  mmioWrite32(slot: number, offset: number, value: number): Promise<void>;
  /**
   * Waits for the interrupt of the MMIO window in `slot`; returns at once when one is pending.
   * Rejects with TIMED_OUT at `deadline` or WOULD_BLOCK with `nonblock`.
   */
  irqWait(slot: number, opts?: { deadline?: number; nonblock?: boolean }): Promise<void>;
  /** Allocates `size` bytes of guest-physical DMA memory aligned to `align` (default 16); returns the address. */
  dmaAlloc(size: number, align?: number): number;
  /** Reads guest-physical memory this task allocated. */
  memRead(addr: number, len: number): Uint8Array;
  /**
   * Reads `out.length` bytes of guest-physical memory this task allocated into `out`: a driver
   * copying a completion into its caller's buffer needs no buffer of its own (traced as memRead).
   */
  memReadInto(addr: number, out: Uint8Array): void;
  /** Writes guest-physical memory this task allocated. */
  memWrite(addr: number, data: Uint8Array): void;
}

/** Simulated guest-physical memory as the kernel needs it (implemented in core/virtio). */
export interface PhysMemory {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads `len` bytes at `addr`; throws on out-of-range access. */
  read(addr: number, len: number): Uint8Array;
  /** Optional: reads `out.length` bytes at `addr` into `out`; throws on out-of-range access. */
  readInto?(addr: number, out: Uint8Array): void;
  /** Writes `data` at `addr`; throws on out-of-range access. */
  write(addr: number, data: Uint8Array): void;
  /** Allocates `size` bytes aligned to `align`; returns the address. */
  alloc(size: number, align: number): number;
}

/** What a device model may ask of the kernel. */
export interface MmioHost {
  /** Raises the window's interrupt line (wakes an `irqWait`er). */
  raiseIrq(): void;
  /** Guest-physical memory the device reads and writes by DMA. */
  readonly memory: PhysMemory;
  /** Current virtual time in ns. */
  now(): number;
  /**
   * How long (virtual ns) the device should take to complete the requests it was just handed:
   * 0 outside a seeded simulation, where a device completes at once.
   */
  completionDelay(): number;
  /** Runs `run` once `ns` of virtual time have passed (between scheduler steps). */
  after(ns: number, run: () => void): void;
  /** Reports a device event to the kernel's tracer (a no-op without one). */
  trace(report: DeviceReport): void;
}

/** A device model behind one MMIO window. Writes may complete asynchronously (device I/O). */
export interface MmioDevice {
  /** Called once when the device is attached to a window. */
  attach(host: MmioHost): void;
  /** Reads a 32-bit register. */
  read32(offset: number): number;
  /** Writes a 32-bit register; the kernel awaits the result before the task resumes. */
  write32(offset: number, value: number): void | Promise<void>;
  /** The register's name at `offset`, for traces (optional). */
  registerName?(offset: number): string | undefined;
  /** The device model's name, for traces (optional). */
  readonly model?: string;
}

export type {
  BlockEvent,
  CallRef,
  ConsoleEvent,
  DeviceEvent,
  DeviceReport,
  EndpointRef,
  IpcRecvEvent,
  IpcSendEvent,
  IrqEvent,
  MmioEvent,
  SyscallEvent,
  TaskEvent,
  TraceBase,
  TraceEvent,
  Tracer,
} from "./trace_events.ts";
