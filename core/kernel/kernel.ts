/**
 * The deterministic capability microkernel: tasks, 96-slot capability tables, bounded IPC
 * endpoints, a cooperative scheduler over virtual time, the console, the MMIO bus and the
 * syscall tracer.
 *
 * Scheduling model. Tasks are async functions; exactly one runs at a time. The run loop resumes
 * the task at the head of a FIFO ready queue and waits until that task parks in a syscall (or
 * finishes) before it picks the next one. A task may await other promises (WebCrypto, device file
 * I/O) while it runs: nothing else is resumed meanwhile, so the order of events depends only on
 * the inputs. Every async syscall costs {@link SYSCALL_COST_NS} of virtual time; when every task
 * is blocked, time jumps to the earliest deadline.
 *
 * @module
 */

import { type ConsoleView, KernelConsole } from "./console.ts";
import { fnv1a64 } from "./fnv.ts";
import {
  CAP_SLOTS,
  type CapInfo,
  type CapKind,
  KernelError,
  type KernelErrorCode,
  MAX_ENDPOINT_DEPTH,
  MAX_FRAME,
  type Message,
  MIN_ENDPOINT_DEPTH,
  MMIO_BASE,
  MMIO_WINDOW_SIZE,
  type MmioDevice,
  type MmioHost,
  type PhysMemory,
  type RecvOptions,
  RIGHT_MANAGE,
  RIGHT_MAP,
  RIGHT_RECV,
  RIGHT_SEND,
  RIGHTS_ALL,
  type SendOptions,
  type Syscalls,
  type TaskEntry,
  type TaskInfo,
  type TaskState,
  type TraceEvent,
  type Tracer,
} from "./types.ts";

export type { ConsoleLine, ConsoleView } from "./console.ts";

/** Virtual time every async syscall costs, in ns (1 µs), so time advances deterministically. */
export const SYSCALL_COST_NS = 1000;
/** Queue depth of the bootstrap endpoint each task gets in slot 0. */
export const BOOTSTRAP_DEPTH = 64;
/** Slot where a privileged task (init) finds its endpoint-factory cap (MANAGE). */
export const PRIVILEGED_FACTORY_SLOT = 3;
/**
 * Async syscalls a task may complete in a row without parking before the kernel makes it yield;
 * keeps a task that polls with NONBLOCK from starving the others (and the host's stop checks).
 */
export const SYSCALL_QUANTUM = 256;
/** Wall-clock poll period (ms) for stopping a run whose current task is stuck outside syscalls. */
export const STUCK_POLL_MS = 100;
/** Exit code of a task whose body threw. */
export const PANIC_EXIT_CODE = 1;
/** Exit code of a task killed by the host. */
export const KILLED_EXIT_CODE = 137;
/** Pid the kernel's own console lines carry. */
export const KERNEL_PID = 0;

/** A capability as it sits in a slot (and as the host places one). */
export type Cap =
  | { kind: "endpoint"; endpointId: number; rights: number }
  | { kind: "endpoint-factory"; rights: number }
  | { kind: "mmio"; window: number; rights: number };

/** Why {@link Kernel.run} returned. */
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

/** Options for {@link Kernel.run}. */
export interface RunOptions {
  /** Polled between steps; true ends the run with "stopped". */
  shouldStop?: () => boolean;
  /** Most task resumptions this call may make. */
  maxSteps?: number;
}

/** Options for the {@link Kernel} constructor. */
export interface KernelOptions {
  /** Guest-physical memory for DMA and device models; DMA syscalls fail with NO_DEVICE without it. */
  memory?: PhysMemory;
  /** Receives every syscall. */
  tracer?: Tracer;
}

interface Endpoint {
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

interface Queued {
  data: Uint8Array;
  senderPid: number;
  senderServiceId: bigint;
  cap?: Cap;
}

interface Window {
  index: number;
  device: MmioDevice;
  pending: boolean;
  waiters: Task[];
}

type WaitOp = "send" | "recv" | "sleep" | "irq";

interface Wait {
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
  /** recv: buffer size and TRUNCATE. */
  maxLen?: number;
  truncate?: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Task {
  pid: number;
  name: string;
  serviceId: bigint;
  entry: TaskEntry;
  sys: Syscalls;
  table: (Cap | null)[];
  state: TaskState;
  since: number;
  exitCode?: number;
  started: boolean;
  /** True between an async syscall's entry and its return to the task. */
  inSyscall: boolean;
  /** Async syscalls completed since the task last parked. */
  burst: number;
  wait?: Wait;
  /** Set when the task was made ready: continues it when the scheduler picks it. */
  resume?: () => void;
  dma: Array<{ start: number; end: number }>;
  /** The endpoint created for slot 0 at spawn. */
  bootEndpointId: number;
}

/** The outcome of a syscall's body: a result now, an error now, or a park. */
type Step<T> =
  | { value: T; size?: number }
  | { error: KernelError }
  | { block: Omit<Wait, "call" | "resolve" | "reject"> }
  | { yieldNow: true };

const NEVER: Promise<never> = new Promise<never>(() => {});

function kerr(code: KernelErrorCode, message: string): KernelError {
  return new KernelError(code, message);
}

function isRights(r: unknown): r is number {
  return Number.isInteger(r) && (r as number) >= 0 && ((r as number) & ~RIGHTS_ALL) === 0;
}

/** The simulated kernel. See the module documentation for the scheduling model. */
export class Kernel {
  readonly #memory?: PhysMemory;
  readonly #tracer?: Tracer;
  readonly #console = new KernelConsole();
  /** Tasks indexed by pid (index 0 unused). */
  readonly #tasks: Task[] = [];
  readonly #endpoints = new Map<number, Endpoint>();
  readonly #windows = new Map<number, Window>();
  readonly #ready: Task[] = [];
  #time = 0;
  #nextEndpointId = 1;
  #current?: Task;
  /** Wakes the run loop when the current task parks or finishes. */
  #parked?: () => void;
  /** A step a stopped run left unfinished (a task stuck in a non-syscall await). */
  #unfinishedStep?: Promise<void>;
  #running = false;
  /**
   * Trace events of tasks woken during the running task's async syscall: emitted after that
   * syscall's own event, so a trace reads cause before effect.
   */
  #wakeTraces?: TraceEvent[];

  /** Creates a kernel with no tasks at virtual time 0. */
  constructor(opts: KernelOptions = {}) {
    this.#memory = opts.memory;
    this.#tracer = opts.tracer;
  }

  /** The console: every line written, and a live stream of new ones. */
  get console(): ConsoleView {
    return this.#console;
  }

  /** Current virtual time in ns. */
  now(): number {
    return this.#time;
  }

  /**
   * Creates a task, ready to run. Slot 0 holds a bootstrap endpoint it owns (SEND|RECV, plus
   * MANAGE when `privileged`: MANAGE on slot 0 is what makes a task privileged); slots 1..2 stay
   * empty for init to fill. A privileged task also gets an endpoint-factory cap (MANAGE) at
   * {@link PRIVILEGED_FACTORY_SLOT}. Returns the pid (pids count from 1).
   */
  spawn(name: string, entry: TaskEntry, opts: { privileged?: boolean } = {}): number {
    if (typeof name !== "string" || name.length === 0) {
      throw kerr("INVALID_ARGUMENT", "task name must be a non-empty string");
    }
    if (typeof entry !== "function") {
      throw kerr("INVALID_ARGUMENT", "task entry must be a function");
    }
    const pid = this.#tasks.length === 0 ? 1 : this.#tasks.length;
    const task: Task = {
      pid,
      name,
      serviceId: fnv1a64(name),
      entry,
      sys: undefined as unknown as Syscalls,
      table: new Array<Cap | null>(CAP_SLOTS).fill(null),
      state: "ready",
      since: this.#time,
      started: false,
      inSyscall: false,
      burst: 0,
      dma: [],
      bootEndpointId: 0,
    };
    task.sys = this.#syscalls(task);
    this.#tasks[pid] = task;
    const boot = this.#newEndpoint(task, BOOTSTRAP_DEPTH);
    task.bootEndpointId = boot.id;
    const privileged = opts.privileged === true;
    task.table[0] = {
      kind: "endpoint",
      endpointId: boot.id,
      rights: RIGHT_SEND | RIGHT_RECV | (privileged ? RIGHT_MANAGE : 0),
    };
    if (privileged) {
      task.table[PRIVILEGED_FACTORY_SLOT] = { kind: "endpoint-factory", rights: RIGHT_MANAGE };
    }
    this.#ready.push(task);
    return pid;
  }

  /** Creates an endpoint owned by `ownerPid` with queue `depth` (1..256); returns its id. */
  createEndpoint(ownerPid: number, depth: number): number {
    const owner = this.#liveTask(ownerPid);
    this.#checkDepth(depth);
    return this.#newEndpoint(owner, depth).id;
  }

  /**
   * Places `cap` in task `pid`'s table at `slot` (which must be free: SLOT_OCCUPIED otherwise)
   * or, when `slot` is undefined, at the first free slot. Returns the slot used. The host is
   * trusted: no rights check, but the endpoint must exist and the rights be valid.
   */
  placeCap(pid: number, slot: number | undefined, cap: Cap): number {
    const task = this.#liveTask(pid);
    if (!isRights(cap.rights)) throw kerr("INVALID_ARGUMENT", `bad rights ${cap.rights}`);
    let copy: Cap;
    if (cap.kind === "endpoint") {
      if (!this.#endpoints.has(cap.endpointId)) {
        throw kerr("INVALID_ARGUMENT", `no endpoint ${cap.endpointId}`);
      }
      copy = { kind: "endpoint", endpointId: cap.endpointId, rights: cap.rights };
    } else if (cap.kind === "mmio") {
      if (!Number.isInteger(cap.window) || cap.window < 0) {
        throw kerr("INVALID_ARGUMENT", `bad MMIO window ${cap.window}`);
      }
      copy = { kind: "mmio", window: cap.window, rights: cap.rights };
    } else if (cap.kind === "endpoint-factory") {
      copy = { kind: "endpoint-factory", rights: cap.rights };
    } else {
      throw kerr("INVALID_ARGUMENT", `unknown cap kind ${(cap as { kind: string }).kind}`);
    }
    return this.#install(task, copy, slot);
  }

  /**
   * Attaches `device` at MMIO window `window` (guest-physical base `0x10001000 + window *
   * 0x1000`) and calls its `attach` with the window's host interface.
   */
  attachMmio(window: number, device: MmioDevice): void {
    if (!Number.isInteger(window) || window < 0) {
      throw kerr("INVALID_ARGUMENT", `bad MMIO window ${window}`);
    }
    if (this.#windows.has(window)) {
      throw kerr("SLOT_OCCUPIED", `MMIO window ${window} already has a device`);
    }
    const w: Window = { index: window, device, pending: false, waiters: [] };
    this.#windows.set(window, w);
    const memory = (): PhysMemory => this.#mem();
    const host: MmioHost = {
      raiseIrq: () => this.#raiseIrq(w),
      get memory(): PhysMemory {
        return memory();
      },
      now: () => this.#time,
    };
    device.attach(host);
  }

  /**
   * Ends task `pid` from the host (exit code {@link KILLED_EXIT_CODE}): it is removed from every
   * queue, its endpoints close and their waiters wake with CLOSED. Not for the running task.
   */
  kill(pid: number, code = KILLED_EXIT_CODE): void {
    const task = this.#liveTask(pid);
    if (task === this.#current) throw kerr("INVALID_ARGUMENT", `task ${pid} is running`);
    this.#exitTask(task, code);
  }

  /** Every task's row, in pid order. */
  taskList(): TaskInfo[] {
    const rows: TaskInfo[] = [];
    for (const task of this.#tasks) {
      if (!task) continue;
      const row: TaskInfo = {
        pid: task.pid,
        name: task.name,
        serviceId: task.serviceId,
        state: task.state,
        since: task.since,
      };
      if (task.state === "blocked" && task.wait) {
        const w = task.wait;
        const blockedOn: NonNullable<TaskInfo["blockedOn"]> = { op: w.op };
        if (w.slot !== undefined) blockedOn.slot = w.slot;
        if (w.endpoint) {
          blockedOn.endpointId = w.endpoint.id;
          blockedOn.peer = w.endpoint.owner.name;
        }
        row.blockedOn = blockedOn;
      }
      if (task.exitCode !== undefined) row.exitCode = task.exitCode;
      rows.push(row);
    }
    return rows;
  }

  /**
   * Runs tasks until nothing can progress ("idle"), every task exited, `shouldStop()` returns
   * true (polled between steps) or `maxSteps` resumptions were made.
   */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    if (this.#running) throw new Error("Kernel.run is already running");
    this.#running = true;
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
    const result = (reason: RunResult["reason"]): RunResult => ({
      reason,
      time: this.#time,
      steps,
    });
    try {
      for (;;) {
        if (this.#unfinishedStep) {
          if (stop?.()) return result("stopped");
          const stopped = await this.#awaitStep(this.#unfinishedStep, (f) => (stopRequested = f));
          ticksThisStep = 0;
          if (stopped) return result("stopped");
          this.#unfinishedStep = undefined;
        }
        if (stop?.()) return result("stopped");
        if (opts.maxSteps !== undefined && steps >= opts.maxSteps) return result("max-steps");
        this.#fireExpired();
        let task = this.#ready.shift();
        if (!task) {
          if (!this.#tasks.some((t) => t && t.state !== "exited")) return result("all-exited");
          const next = this.#earliestDeadline();
          if (next === undefined) return result("idle");
          if (next > this.#time) this.#time = next;
          this.#fireExpired();
          task = this.#ready.shift();
          if (!task) return result("idle");
        }
        steps++;
        const step = this.#resumeTask(task);
        ticksThisStep = 0;
        const stopped = await this.#awaitStep(step, (f) => (stopRequested = f));
        if (stopped) {
          this.#unfinishedStep = step;
          return result("stopped");
        }
      }
    } finally {
      if (poll !== undefined) clearInterval(poll);
      this.#running = false;
    }
  }

  /** Awaits a step; resolves true when the host asked to stop before the step finished. */
  async #awaitStep(
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
  #resumeTask(task: Task): Promise<void> {
    const parked = new Promise<void>((resolve) => (this.#parked = resolve));
    this.#current = task;
    this.#setState(task, "running");
    if (!task.started) {
      task.started = true;
      let body: Promise<void>;
      try {
        body = Promise.resolve(task.entry(task.sys));
      } catch (err) {
        body = Promise.reject(err);
      }
      body.then(
        () => this.#finish(task, 0),
        (err) => this.#panic(task, err),
      );
    } else {
      const resume = task.resume;
      task.resume = undefined;
      resume?.();
    }
    return parked;
  }

  /** Hands control back to the run loop. */
  #yieldToScheduler(): void {
    const parked = this.#parked;
    this.#parked = undefined;
    this.#current = undefined;
    parked?.();
  }

  #finish(task: Task, code: number): void {
    if (task.state === "exited") return;
    this.#exitTask(task, code);
  }

  #panic(task: Task, err: unknown): void {
    if (task.state === "exited") return;
    const message = err instanceof KernelError
      ? `${err.code}: ${err.message}`
      : err instanceof Error
      ? err.message
      : String(err);
    this.#console.write(this.#time, KERNEL_PID, `panic: ${task.name}: ${message}`);
    this.#exitTask(task, PANIC_EXIT_CODE);
  }

  /** Marks `task` exited, drops it from every queue, closes the endpoints it owns. */
  #exitTask(task: Task, code: number): void {
    const wasCurrent = task === this.#current;
    if (task.wait) this.#unlinkWait(task, task.wait);
    task.wait = undefined;
    task.resume = undefined;
    const i = this.#ready.indexOf(task);
    if (i >= 0) this.#ready.splice(i, 1);
    task.exitCode = code;
    this.#setState(task, "exited");
    task.table.fill(null);
    const woken: Task[] = [];
    for (const ep of this.#endpoints.values()) {
      if (ep.owner !== task || ep.closed) continue;
      ep.closed = true;
      woken.push(...ep.senders, ...ep.receivers);
    }
    woken.sort((a, b) => a.pid - b.pid);
    for (const t of woken) {
      const ep = t.wait?.endpoint;
      this.#wakeError(t, kerr("CLOSED", `endpoint ${ep?.id} closed: owner ${task.name} exited`));
    }
    if (wasCurrent) this.#yieldToScheduler();
  }

  #setState(task: Task, state: TaskState): void {
    if (task.state !== state) {
      task.state = state;
      task.since = this.#time;
    }
  }

  #liveTask(pid: number): Task {
    const task = Number.isInteger(pid) ? this.#tasks[pid] : undefined;
    if (!task || task.state === "exited") throw kerr("NO_SUCH_TASK", `no live task ${pid}`);
    return task;
  }

  #checkDepth(depth: number): void {
    if (!Number.isInteger(depth) || depth < MIN_ENDPOINT_DEPTH || depth > MAX_ENDPOINT_DEPTH) {
      throw kerr(
        "INVALID_ARGUMENT",
        `endpoint depth must be ${MIN_ENDPOINT_DEPTH}..${MAX_ENDPOINT_DEPTH}, got ${depth}`,
      );
    }
  }

  #newEndpoint(owner: Task, depth: number): Endpoint {
    const ep: Endpoint = {
      id: this.#nextEndpointId++,
      owner,
      depth,
      queue: [],
      closed: false,
      senders: [],
      receivers: [],
    };
    this.#endpoints.set(ep.id, ep);
    return ep;
  }

  // ---- capability tables ----

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= CAP_SLOTS) {
      throw kerr("INVALID_SLOT", `slot ${slot} out of range 0..${CAP_SLOTS - 1}`);
    }
  }

  #cap(task: Task, slot: number): Cap {
    this.#checkSlot(slot);
    const cap = task.table[slot];
    if (!cap) throw kerr("EMPTY_SLOT", `slot ${slot} is empty`);
    return cap;
  }

  #capOf<K extends CapKind>(
    task: Task,
    slot: number,
    kind: K,
    right: number,
  ): Extract<Cap, { kind: K }> {
    const cap = this.#cap(task, slot);
    if (cap.kind !== kind) throw kerr("WRONG_KIND", `slot ${slot} holds ${cap.kind}, not ${kind}`);
    if ((cap.rights & right) !== right) {
      throw kerr("PERMISSION_DENIED", `slot ${slot} lacks right ${right}`);
    }
    return cap as Extract<Cap, { kind: K }>;
  }

  #firstFree(task: Task): number | undefined {
    const i = task.table.indexOf(null);
    return i < 0 ? undefined : i;
  }

  /** Puts `cap` at `slot` (must be free) or the first free slot; returns the slot. */
  #install(task: Task, cap: Cap, slot: number | undefined): number {
    if (slot !== undefined) {
      this.#checkSlot(slot);
      if (task.table[slot]) throw kerr("SLOT_OCCUPIED", `slot ${slot} of ${task.name} is taken`);
    } else {
      slot = this.#firstFree(task);
      if (slot === undefined) throw kerr("NO_FREE_SLOT", `cap table of ${task.name} is full`);
    }
    task.table[slot] = cap;
    return slot;
  }

  #narrow(cap: Cap, rights: number): Cap {
    if (!isRights(rights)) throw kerr("INVALID_ARGUMENT", `bad rights ${rights}`);
    if ((rights & ~cap.rights) !== 0) {
      throw kerr("PERMISSION_DENIED", `rights ${rights} exceed the held ${cap.rights}`);
    }
    return { ...cap, rights };
  }

  /**
   * Privilege is MANAGE on slot 0 holding the task's own bootstrap endpoint. Only a task spawned
   * privileged ever holds such a cap (derivation never adds rights), so a task cannot promote
   * itself by deriving some other MANAGE cap into slot 0.
   */
  #privileged(task: Task): boolean {
    const c = task.table[0];
    return c !== null && c.kind === "endpoint" && c.endpointId === task.bootEndpointId &&
      (c.rights & RIGHT_MANAGE) !== 0;
  }

  #requirePrivilege(task: Task, op: string): void {
    if (!this.#privileged(task)) {
      throw kerr("PERMISSION_DENIED", `${op} needs MANAGE on slot 0`);
    }
  }

  #describe(slot: number, cap: Cap): CapInfo {
    const info: CapInfo = { slot, kind: cap.kind, rights: cap.rights };
    if (cap.kind === "endpoint") {
      const ep = this.#endpoints.get(cap.endpointId)!;
      info.endpoint = {
        id: ep.id,
        ownerPid: ep.owner.pid,
        ownerName: ep.owner.name,
        depth: ep.depth,
        queued: ep.queue.length,
        closed: ep.closed,
      };
    } else if (cap.kind === "mmio") {
      info.mmio = { window: cap.window, base: MMIO_BASE + cap.window * MMIO_WINDOW_SIZE };
    }
    return info;
  }

  // ---- IPC ----

  /** Moves the cap in `slot` of `task` out of its table (CAP_MOVE at queue time). */
  #takeCap(task: Task, slot: number | undefined): Cap | undefined {
    if (slot === undefined) return undefined;
    const cap = task.table[slot] ?? undefined;
    task.table[slot] = null;
    return cap;
  }

  /** Hands a dequeued message to `task`; a moved cap lands in its first free slot, or is dropped when the table is full. */
  #deliver(task: Task, msg: Queued, maxLen: number): Message {
    const truncated = msg.data.length > maxLen;
    const out: Message = {
      data: truncated ? msg.data.slice(0, maxLen) : msg.data,
      truncated,
      senderPid: msg.senderPid,
      senderServiceId: msg.senderServiceId,
    };
    if (msg.cap) {
      const slot = this.#firstFree(task);
      if (slot !== undefined) {
        task.table[slot] = msg.cap;
        out.capSlot = slot;
      }
    }
    return out;
  }

  /** Moves blocked senders into free queue room and queued frames to blocked receivers. */
  #pump(ep: Endpoint): void {
    let progress = true;
    while (progress) {
      progress = false;
      while (ep.queue.length < ep.depth && ep.senders.length > 0) {
        const s = ep.senders[0];
        const w = s.wait!;
        ep.queue.push({
          data: w.data!,
          senderPid: s.pid,
          senderServiceId: s.serviceId,
          cap: this.#takeCap(s, w.moveCap),
        });
        this.#wakeValue(s, undefined, w.data!.length);
        progress = true;
      }
      while (ep.receivers.length > 0 && ep.queue.length > 0) {
        const r = ep.receivers[0];
        const w = r.wait!;
        const head = ep.queue[0];
        if (head.data.length > w.maxLen! && !w.truncate) {
          this.#wakeError(
            r,
            kerr("FRAME_TOO_LARGE", `frame of ${head.data.length} bytes > buffer of ${w.maxLen}`),
          );
        } else {
          ep.queue.shift();
          const msg = this.#deliver(r, head, w.maxLen!);
          this.#wakeValue(r, msg, msg.data.length);
        }
        progress = true;
      }
    }
  }

  #send(task: Task, slot: number, data: Uint8Array, opts: SendOptions): Step<void> {
    const cap = this.#capOf(task, slot, "endpoint", RIGHT_SEND);
    if (!(data instanceof Uint8Array)) throw kerr("INVALID_ARGUMENT", "frame must be a Uint8Array");
    if (data.length > MAX_FRAME) {
      throw kerr("FRAME_TOO_LARGE", `frame of ${data.length} bytes > ${MAX_FRAME}`);
    }
    this.#checkDeadline(opts.deadline);
    if (opts.moveCap !== undefined) this.#cap(task, opts.moveCap);
    const ep = this.#endpoints.get(cap.endpointId)!;
    if (ep.closed) throw kerr("CLOSED", `endpoint ${ep.id} is closed`);
    const copy = data.slice();
    if (ep.queue.length < ep.depth && ep.senders.length === 0) {
      ep.queue.push({
        data: copy,
        senderPid: task.pid,
        senderServiceId: task.serviceId,
        cap: this.#takeCap(task, opts.moveCap),
      });
      this.#pump(ep);
      return { value: undefined, size: copy.length };
    }
    if (opts.nonblock) throw kerr("WOULD_BLOCK", `endpoint ${ep.id} queue is full`);
    this.#checkNotPast(opts.deadline);
    return {
      block: {
        op: "send",
        slot,
        deadline: opts.deadline,
        endpoint: ep,
        data: copy,
        moveCap: opts.moveCap,
      },
    };
  }

  #recv(task: Task, slot: number, opts: RecvOptions): Step<Message> {
    const cap = this.#capOf(task, slot, "endpoint", RIGHT_RECV);
    const maxLen = opts.maxLen ?? MAX_FRAME;
    if (!Number.isInteger(maxLen) || maxLen < 0) {
      throw kerr("INVALID_ARGUMENT", `bad receive buffer size ${maxLen}`);
    }
    this.#checkDeadline(opts.deadline);
    const ep = this.#endpoints.get(cap.endpointId)!;
    if (ep.queue.length > 0) {
      const head = ep.queue[0];
      if (head.data.length > maxLen && !opts.truncate) {
        throw kerr("FRAME_TOO_LARGE", `frame of ${head.data.length} bytes > buffer of ${maxLen}`);
      }
      ep.queue.shift();
      const msg = this.#deliver(task, head, maxLen);
      this.#pump(ep);
      return { value: msg, size: msg.data.length };
    }
    if (ep.closed) throw kerr("CLOSED", `endpoint ${ep.id} is closed`);
    if (opts.nonblock) throw kerr("WOULD_BLOCK", `endpoint ${ep.id} is empty`);
    this.#checkNotPast(opts.deadline);
    return {
      block: {
        op: "recv",
        slot,
        deadline: opts.deadline,
        endpoint: ep,
        maxLen,
        truncate: opts.truncate === true,
      },
    };
  }

  #checkDeadline(deadline: number | undefined): void {
    if (deadline !== undefined && (typeof deadline !== "number" || Number.isNaN(deadline))) {
      throw kerr("INVALID_ARGUMENT", `bad deadline ${deadline}`);
    }
  }

  /** A call that would block past its deadline already fails now. */
  #checkNotPast(deadline: number | undefined): void {
    if (deadline !== undefined && deadline <= this.#time) {
      throw kerr("TIMED_OUT", `deadline ${deadline} passed (now ${this.#time})`);
    }
  }

  // ---- MMIO, irq, DMA ----

  #window(task: Task, slot: number): Window {
    const cap = this.#capOf(task, slot, "mmio", RIGHT_MAP);
    const w = this.#windows.get(cap.window);
    if (!w) throw kerr("NO_DEVICE", `no device at MMIO window ${cap.window}`);
    return w;
  }

  #checkOffset(offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset >= MMIO_WINDOW_SIZE || offset % 4 !== 0) {
      throw kerr("INVALID_ARGUMENT", `bad MMIO offset ${offset}`);
    }
  }

  #raiseIrq(w: Window): void {
    const waiter = w.waiters[0];
    if (waiter) this.#wakeValue(waiter, undefined);
    else w.pending = true;
  }

  #mem(): PhysMemory {
    if (!this.#memory) throw kerr("NO_DEVICE", "the kernel has no guest memory");
    return this.#memory;
  }

  #checkOwned(task: Task, addr: number, len: number): void {
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

  // ---- waking, timers ----

  #unlinkWait(task: Task, w: Wait): void {
    const drop = (list: Task[]) => {
      const i = list.indexOf(task);
      if (i >= 0) list.splice(i, 1);
    };
    if (w.endpoint) {
      drop(w.endpoint.senders);
      drop(w.endpoint.receivers);
    }
    if (w.window) drop(w.window.waiters);
  }

  #wake(task: Task, outcome: string, size: number | undefined, resume: (w: Wait) => void): void {
    const w = task.wait!;
    this.#unlinkWait(task, w);
    task.wait = undefined;
    this.#trace(task, w.call, w.slot, size, outcome, this.#wakeTraces);
    task.resume = () => resume(w);
    this.#setState(task, "ready");
    this.#ready.push(task);
  }

  #wakeValue(task: Task, value: unknown, size?: number): void {
    this.#wake(task, "ok", size, (w) => w.resolve(value));
  }

  #wakeError(task: Task, err: KernelError): void {
    this.#wake(task, err.code, undefined, (w) => w.reject(err));
  }

  #earliestDeadline(): number | undefined {
    let min: number | undefined;
    for (const t of this.#tasks) {
      const d = t?.wait?.deadline;
      if (t?.state === "blocked" && d !== undefined && (min === undefined || d < min)) min = d;
    }
    return min;
  }

  /** Wakes every blocked task whose deadline has passed, by deadline then pid. */
  #fireExpired(): void {
    const due: Task[] = [];
    for (const t of this.#tasks) {
      const d = t?.wait?.deadline;
      if (t?.state === "blocked" && d !== undefined && d <= this.#time) due.push(t);
    }
    due.sort((a, b) => a.wait!.deadline! - b.wait!.deadline! || a.pid - b.pid);
    for (const t of due) {
      if (t.wait!.op === "sleep") this.#wakeValue(t, undefined);
      else {this.#wakeError(
          t,
          kerr("TIMED_OUT", `${t.wait!.call} on slot ${t.wait!.slot} timed out`),
        );}
    }
  }

  #trace(
    task: Task,
    op: string,
    slot: number | undefined,
    size: number | undefined,
    outcome: string,
    defer?: TraceEvent[],
  ): void {
    if (!this.#tracer) return;
    const ev: TraceEvent = { time: this.#time, pid: task.pid, task: task.name, op, outcome };
    if (slot !== undefined) ev.slot = slot;
    if (size !== undefined) ev.size = size;
    if (defer) defer.push(ev);
    else this.#tracer(ev);
  }

  /** Traces a syscall's own outcome, then the wake-ups it caused. */
  #traceOwn(
    task: Task,
    op: string,
    slot: number | undefined,
    size: number | undefined,
    outcome: string,
  ): void {
    this.#trace(task, op, slot, size, outcome);
    const pending = this.#wakeTraces;
    this.#wakeTraces = undefined;
    if (pending && this.#tracer) { for (const ev of pending) this.#tracer(ev); }
  }

  // ---- syscall plumbing ----

  /** A synchronous syscall: traced, errors thrown as KernelError. */
  #sync<T>(
    task: Task,
    op: string,
    slot: number | undefined,
    fn: () => T,
    size?: (v: T) => number,
  ): T {
    if (task.state === "exited") throw kerr("NO_SUCH_TASK", `${task.name} has exited`);
    try {
      const v = fn();
      this.#trace(task, op, slot, size?.(v), "ok");
      return v;
    } catch (err) {
      if (err instanceof KernelError) this.#trace(task, op, slot, undefined, err.code);
      throw err;
    }
  }

  /**
   * An async syscall: checks that the caller is the running task with no syscall in flight,
   * charges the syscall cost, runs `fn`, then returns its result, parks the task, or (after
   * {@link SYSCALL_QUANTUM} calls without parking) makes it yield first.
   */
  async #async<T>(
    task: Task,
    op: string,
    slot: number | undefined,
    fn: () => Step<T> | Promise<Step<T>>,
  ): Promise<T> {
    if (task.state === "exited") return NEVER;
    if (this.#current !== task || task.inSyscall) {
      const err = kerr("INVALID_ARGUMENT", `${op}: ${task.name} has another syscall in flight`);
      this.#trace(task, op, slot, undefined, err.code);
      throw err;
    }
    task.inSyscall = true;
    this.#wakeTraces = this.#tracer ? [] : undefined;
    try {
      this.#time += SYSCALL_COST_NS;
      let step: Step<T>;
      try {
        step = await fn();
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        step = { error: err };
      }
      // The state may have changed while the body awaited a device.
      if ((task.state as TaskState) === "exited") return NEVER;
      if ("block" in step) return await this.#park<T>(task, op, step.block);
      if ("yieldNow" in step) {
        this.#traceOwn(task, op, slot, undefined, "ok");
        await this.#requeue(task);
        return undefined as T;
      }
      if ("error" in step) {
        this.#traceOwn(task, op, slot, undefined, step.error.code);
        if (++task.burst >= SYSCALL_QUANTUM) await this.#requeue(task);
        throw step.error;
      }
      this.#traceOwn(task, op, slot, step.size, "ok");
      if (++task.burst >= SYSCALL_QUANTUM) await this.#requeue(task);
      return step.value;
    } finally {
      task.inSyscall = false;
      this.#wakeTraces = undefined;
    }
  }

  #park<T>(task: Task, call: string, block: Omit<Wait, "call" | "resolve" | "reject">): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const wait: Wait = { ...block, call, resolve: resolve as (v: unknown) => void, reject };
      task.wait = wait;
      task.burst = 0;
      if (wait.endpoint) {
        (wait.op === "send" ? wait.endpoint.senders : wait.endpoint.receivers).push(task);
      }
      if (wait.window) wait.window.waiters.push(task);
      this.#setState(task, "blocked");
      this.#traceOwn(task, call, wait.slot, wait.data?.length, "blocked");
      this.#yieldToScheduler();
    });
  }

  /** Puts the running task at the back of the ready queue and hands control back. */
  #requeue(task: Task): Promise<void> {
    return new Promise<void>((resolve) => {
      task.burst = 0;
      task.resume = resolve;
      this.#setState(task, "ready");
      this.#ready.push(task);
      this.#yieldToScheduler();
    });
  }

  #syscalls(task: Task): Syscalls {
    const sys: Syscalls = {
      get pid() {
        return task.pid;
      },
      get name() {
        return task.name;
      },
      get serviceId() {
        return task.serviceId;
      },
      now: () => this.#time,
      print: (line: string) =>
        this.#sync(task, "print", undefined, () => {
          this.#console.write(this.#time, task.pid, String(line));
        }),
      sleep: (ns: number) =>
        this.#async<void>(task, "sleep", undefined, () => {
          if (typeof ns !== "number" || Number.isNaN(ns)) {
            throw kerr("INVALID_ARGUMENT", `bad sleep ${ns}`);
          }
          // sleep(0) (or less) is a yield.
          if (ns <= 0) return { yieldNow: true };
          return { block: { op: "sleep", deadline: this.#time + ns } };
        }),
      yield: () => this.#async<void>(task, "yield", undefined, () => ({ yieldNow: true })),
      exit: (code = 0) => {
        if (task.state === "exited") return NEVER;
        this.#trace(task, "exit", undefined, undefined, "ok");
        this.#exitTask(task, Number.isInteger(code) ? code : 0);
        return NEVER;
      },
      send: (slot, data, opts = {}) =>
        this.#async<void>(task, "send", slot, () => this.#send(task, slot, data, opts)),
      recv: (slot, opts = {}) =>
        this.#async<Message>(task, "recv", slot, () => this.#recv(task, slot, opts)),
      capQuery: (slot) =>
        this.#sync(task, "capQuery", slot, () => {
          this.#checkSlot(slot);
          const cap = task.table[slot];
          return cap ? this.#describe(slot, cap) : null;
        }),
      capDerive: (slot, rights, toSlot) =>
        this.#sync(task, "capDerive", slot, () => {
          const cap = this.#narrow(this.#cap(task, slot), rights);
          return this.#install(task, cap, toSlot);
        }),
      capClone: (slot) =>
        this.#sync(
          task,
          "capClone",
          slot,
          () => this.#install(task, { ...this.#cap(task, slot) }, undefined),
        ),
      capClose: (slot) =>
        this.#sync(task, "capClose", slot, () => {
          this.#cap(task, slot);
          task.table[slot] = null;
        }),
      capTransfer: (slot, pid, rights, toSlot) =>
        this.#sync(task, "capTransfer", slot, () => {
          this.#requirePrivilege(task, "capTransfer");
          const cap = this.#narrow(this.#cap(task, slot), rights);
          const target = this.#liveTask(pid);
          return this.#install(target, cap, toSlot);
        }),
      endpointCreate: (factorySlot, depth, toSlot, ownerPid) =>
        this.#sync(task, "endpointCreate", factorySlot, () => {
          this.#capOf(task, factorySlot, "endpoint-factory", RIGHT_MANAGE);
          this.#checkDepth(depth);
          let owner = task;
          if (ownerPid !== undefined && ownerPid !== task.pid) {
            this.#requirePrivilege(task, "endpointCreate for another owner");
            owner = this.#liveTask(ownerPid);
          }
          if (toSlot !== undefined) {
            this.#checkSlot(toSlot);
            if (task.table[toSlot]) throw kerr("SLOT_OCCUPIED", `slot ${toSlot} is taken`);
          } else if (this.#firstFree(task) === undefined) {
            throw kerr("NO_FREE_SLOT", `cap table of ${task.name} is full`);
          }
          const ep = this.#newEndpoint(owner, depth);
          return this.#install(
            task,
            { kind: "endpoint", endpointId: ep.id, rights: RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE },
            toSlot,
          );
        }),
      spawn: (name, entry) =>
        this.#sync(task, "spawn", undefined, () => {
          this.#requirePrivilege(task, "spawn");
          return this.spawn(name, entry);
        }),
      taskList: () =>
        this.#sync(task, "taskList", undefined, () => {
          this.#requirePrivilege(task, "taskList");
          return this.taskList();
        }),
      mmioRead32: (slot, offset) =>
        this.#async<number>(task, "mmioRead32", slot, () => {
          const w = this.#window(task, slot);
          this.#checkOffset(offset);
          return { value: w.device.read32(offset) >>> 0 };
        }),
      mmioWrite32: (slot, offset, value) =>
        this.#async<void>(task, "mmioWrite32", slot, async () => {
          const w = this.#window(task, slot);
          this.#checkOffset(offset);
          if (!Number.isInteger(value)) {
            throw kerr("INVALID_ARGUMENT", `bad register value ${value}`);
          }
          await w.device.write32(offset, value >>> 0);
          return { value: undefined };
        }),
      irqWait: (slot, opts = {}) =>
        this.#async<void>(task, "irqWait", slot, () => {
          const w = this.#window(task, slot);
          this.#checkDeadline(opts.deadline);
          if (w.pending) {
            w.pending = false;
            return { value: undefined };
          }
          if (opts.nonblock) throw kerr("WOULD_BLOCK", `no interrupt pending on window ${w.index}`);
          this.#checkNotPast(opts.deadline);
          return { block: { op: "irq", slot, deadline: opts.deadline, window: w } };
        }),
      dmaAlloc: (size, align = 16) =>
        this.#sync(task, "dmaAlloc", undefined, () => {
          const mem = this.#mem();
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
        }, () => size),
      memRead: (addr, len) =>
        this.#sync(task, "memRead", undefined, () => {
          const mem = this.#mem();
          this.#checkOwned(task, addr, len);
          return mem.read(addr, len);
        }, () => len),
      memWrite: (addr, data) =>
        this.#sync(task, "memWrite", undefined, () => {
          const mem = this.#mem();
          if (!(data instanceof Uint8Array)) {
            throw kerr("INVALID_ARGUMENT", "data must be a Uint8Array");
          }
          this.#checkOwned(task, addr, data.length);
          mem.write(addr, data);
        }, () => data.length),
    };
    return sys;
  }
}
