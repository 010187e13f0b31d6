/**
 * What the kernel's tracer reports: one typed event per thing that happened in the simulated
 * system, in the order it happened, stamped with virtual time (so two runs with the same inputs
 * give the same events, byte for byte once serialised).
 *
 * Every event is a plain JSON-safe object (numbers, strings, booleans; no bigint) with a `kind`:
 *
 * | kind | emitted when | links |
 * | --- | --- | --- |
 * | `syscall` | a syscall returns, fails, or parks its task (`outcome: "blocked"`); a parked call is reported again when it completes | `pid` |
 * | `block` | right after a `syscall` event with outcome `blocked`: what the task now waits for | `pid`, `endpointId`, `calling.msg` |
 * | `ipc-send` | a frame enters an endpoint's queue | `msg` (unique), `inReplyTo` |
 * | `ipc-recv` | a queued frame is handed to a receiver | `msg` (the `ipc-send`'s) |
 * | `mmio` | a task reads or writes a device register | `window` |
 * | `irq` | a device raises its interrupt line | `window` |
 * | `device` | a device model reports a request (virtio-blk: submit and complete) | `window`, `req` |
 * | `console` | a console line is written | `pid` |
 * | `task` | a task is spawned or exits (return, exit, panic, kill) | `pid` |
 * | `counter` | a task records a named value (`traceCounter`), e.g. statefsd its journal size | `pid` |
 *
 * Linking a request to its reply: the request/reply idiom (`rpc.ts`) moves a one-shot SEND cap
 * to the caller's reply inbox with the request. The kernel remembers which message a moved cap
 * arrived with; a frame later sent on that cap (or a cap derived from it) carries
 * `inReplyTo` = the request's `msg`. While a caller waits on its reply inbox, its `block` event
 * (and the task table's `blockedOn.calling`) names the request and the service it went to.
 *
 * A blocked span of a task runs from its `block` event to that task's next `syscall` event (the
 * parked call completing with `ok` or an error code).
 *
 * @example Collect a trace and keep only the IPC
 * ```ts
 * import { Kernel } from "./kernel.ts";
 * import type { TraceEvent } from "./trace_events.ts";
 *
 * const events: TraceEvent[] = [];
 * const kernel = new Kernel({ tracer: (e) => events.push(e) });
 * await kernel.run();
 * const ipc = events.filter((e) => e.kind === "ipc-send" || e.kind === "ipc-recv");
 * ```
 *
 * @module
 */

/** Fields every event carries. */
export interface TraceBase {
  /** Virtual time in ns. */
  time: number;
}

/** One syscall's outcome (the tracer's original event). */
export interface SyscallEvent extends TraceBase {
  /** Discriminator. */
  kind: "syscall";
  /** Calling task's pid. */
  pid: number;
  /** Calling task's name. */
  task: string;
  /** Syscall name, e.g. "send", "recv", "capTransfer". */
  op: string;
  /** Slot the call named, when it names one. */
  slot?: number;
  /** Frame size for send/recv; byte count for DMA calls. */
  size?: number;
  /** "ok" or a KernelErrorCode, or "blocked" when the call parked the task. */
  outcome: string;
}

/** An endpoint as events name it: its id and its owner. */
export interface EndpointRef {
  /** Endpoint id (unique for the kernel's lifetime). */
  endpointId: number;
  /** Owner's pid. */
  ownerPid: number;
  /** Owner's task (service) name. */
  owner: string;
}

/**
 * A request a task sent with a reply cap to an inbox it owns and whose reply it has not yet
 * received: what a caller blocked on its inbox is really waiting for.
 */
export interface CallRef extends EndpointRef {
  /** The request's message id (its `ipc-send` event). */
  msg: number;
  /** The request's label (see {@link IpcSendEvent.label}), when the frame has a header. */
  label?: string;
}

/** A frame entered an endpoint's queue. */
export interface IpcSendEvent extends TraceBase, EndpointRef {
  /** Discriminator. */
  kind: "ipc-send";
  /** Message id, unique for the kernel's lifetime, counting from 1. */
  msg: number;
  /** Sender's pid. */
  pid: number;
  /** Sender's name. */
  task: string;
  /** Frame size in bytes. */
  size: number;
  /**
   * The frame header as `MMMM:OO`: the two magic bytes and the op byte in hex (op bit 7 set on
   * replies), e.g. `"5346:01"`. Absent for frames shorter than the 4-byte header.
   */
  label?: string;
  /**
   * On a reply (`inReplyTo` set): the frame's first 16 bytes (fewer when shorter) in hex, so a
   * reader that knows the protocol can tell its status (the kernel does not know protocols).
   */
  head?: string;
  /** When a capability travels with the frame: its kind, and its endpoint for an endpoint cap. */
  cap?: { kind: string; endpointId?: number };
  /** When sent on a cap that arrived with an earlier message: that message's id (a reply). */
  inReplyTo?: number;
}

/** A queued frame was handed to a receiver. */
export interface IpcRecvEvent extends TraceBase, EndpointRef {
  /** Discriminator. */
  kind: "ipc-recv";
  /** The message id of the matching {@link IpcSendEvent}. */
  msg: number;
  /** Receiver's pid. */
  pid: number;
  /** Receiver's name. */
  task: string;
  /** Sender's pid. */
  senderPid: number;
  /** Sender's name. */
  sender: string;
  /** Bytes delivered. */
  size: number;
  /** As in {@link IpcSendEvent.label}. */
  label?: string;
  /** As in {@link IpcSendEvent.head}. */
  head?: string;
  /** True when the frame was cut to the receive buffer. */
  truncated: boolean;
  /** Slot where a moved capability landed. */
  capSlot?: number;
  /** As in {@link IpcSendEvent.inReplyTo}. */
  inReplyTo?: number;
}

/** A task parked in a syscall: what it waits for. */
export interface BlockEvent extends TraceBase {
  /** Discriminator. */
  kind: "block";
  /** The blocked task's pid. */
  pid: number;
  /** The blocked task's name. */
  task: string;
  /** What it waits for. */
  op: "send" | "recv" | "sleep" | "irq";
  /** The syscall that parked it. */
  call: string;
  /** The slot the call named. */
  slot?: number;
  /** Absolute virtual time at which the wait times out. */
  deadline?: number;
  /** For send/recv: the endpoint waited on. */
  endpoint?: EndpointRef;
  /** For irq: the MMIO window waited on. */
  window?: number;
  /** For a receive on a reply inbox: the outstanding request and the service it went to. */
  calling?: CallRef;
}

/** A task accessed a device register. */
export interface MmioEvent extends TraceBase {
  /** Discriminator. */
  kind: "mmio";
  /** Accessing task's pid. */
  pid: number;
  /** Accessing task's name. */
  task: string;
  /** MMIO window index. */
  window: number;
  /** Read or write. */
  access: "read" | "write";
  /** Register offset in the window. */
  offset: number;
  /** Register name, when the device model names its registers. */
  register?: string;
  /** The value read or written (u32). */
  value: number;
}

/** A device raised its interrupt line. */
export interface IrqEvent extends TraceBase {
  /** Discriminator. */
  kind: "irq";
  /** MMIO window index. */
  window: number;
  /** Pid of the task the interrupt woke, or absent when it stays pending. */
  woke?: number;
}

/**
 * A device model's own report, passed through unchanged (see the device's documentation);
 * virtio-blk reports `phase` "submit" and "complete" per request with `req`, `op`, `sector`,
 * `count` and, on completion, `status`.
 */
export interface DeviceEvent extends TraceBase {
  /** Discriminator. */
  kind: "device";
  /** MMIO window index of the device. */
  window: number;
  /** Device model name, e.g. "virtio-blk". */
  device: string;
  /** "submit" when the device takes a request, "complete" when it returns it. */
  phase: "submit" | "complete";
  /** Request id, unique per device, linking submit and complete. */
  req: number;
  /** Request type, e.g. "in", "out", "flush", "get-id". */
  op: string;
  /** First sector. */
  sector?: number;
  /** Sectors transferred. */
  count?: number;
  /** On completion: "ok", "ioerr" or "unsupp". */
  status?: string;
}

/** A console line. */
export interface ConsoleEvent extends TraceBase {
  /** Discriminator. */
  kind: "console";
  /** Writer's pid (0: the kernel itself). */
  pid: number;
  /** Writer's name ("kernel" for pid 0). */
  task: string;
  /** The line. */
  text: string;
}

/** A task was created or ended. */
export interface TaskEvent extends TraceBase {
  /** Discriminator. */
  kind: "task";
  /** The task's pid. */
  pid: number;
  /** The task's name. */
  task: string;
  /** "spawn" or the way it ended. */
  event: "spawn" | "exit" | "return" | "panic" | "kill";
  /** Spawner's pid (0: the host), on spawn. */
  parent?: number;
  /** Exit code, when it ended. */
  code?: number;
}

/**
 * A value a task chose to record (`Syscalls.traceCounter`): one sample of a named counter,
 * e.g. statefsd's journal size after a request. Samples cost no virtual time.
 */
export interface CounterEvent extends TraceBase {
  /** Discriminator. */
  kind: "counter";
  /** Recording task's pid. */
  pid: number;
  /** Recording task's name. */
  task: string;
  /** Counter name, e.g. "statefs journal bytes". */
  name: string;
  /** The sample. */
  value: number;
}

/** Everything the tracer reports, told apart by `kind`. */
export type TraceEvent =
  | SyscallEvent
  | BlockEvent
  | IpcSendEvent
  | IpcRecvEvent
  | MmioEvent
  | IrqEvent
  | DeviceEvent
  | ConsoleEvent
  | TaskEvent
  | CounterEvent;

/** A device event as a device model hands it to the kernel (the kernel adds time and window). */
export type DeviceReport = Omit<DeviceEvent, "kind" | "time" | "window">;

/** Receives every event, in the order it happened. */
export type Tracer = (event: TraceEvent) => void;
