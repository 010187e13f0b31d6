/**
 * The deterministic capability microkernel, as the host sees it: create one, spawn tasks, wire
 * endpoints and devices, run it, read its console and task table.
 *
 * Scheduling model. Tasks are async functions; exactly one runs at a time. The scheduler resumes
 * the task at the head of a FIFO ready queue (or, with a {@link SimSchedule}, the one the seed
 * picks) and waits until that task parks in a syscall (or finishes) before it picks the next one. A task may await other promises (WebCrypto, device file
 * I/O) while it runs: nothing else is resumed meanwhile, so the order of events depends only on
 * the inputs. Every async syscall costs {@link SYSCALL_COST_NS} of virtual time; when every task
 * is blocked, time jumps to the earliest deadline.
 *
 * Where each concern lives, one per file:
 *
 * | file | concern |
 * | --- | --- |
 * | `state.ts` | the kernel objects and the record holding them |
 * | `task.ts` | creating and ending tasks, the task table, print/exit/spawn/taskList |
 * | `captable.ts` | capability tables, rights, privilege, the cap syscalls |
 * | `ipc.ts` | endpoints, send/recv, moved caps, request/reply bookkeeping |
 * | `mmio.ts` | the MMIO bus, interrupts, DMA memory |
 * | `timers.ts` | virtual time, the deadline heap, delayed wake-ups and device work |
 * | `wake.ts` | parking state and waking |
 * | `scheduler.ts` | the run loop, park and requeue |
 * | `schedule.ts` | the choices a seeded simulation may vary |
 * | `syscall.ts` | the syscall table and how sync/async calls run |
 * | `tracing.ts`, `trace_events.ts` | the trace events and their emission |
 *
 * @example Two tasks exchange a frame
 * ```ts
 * import { Kernel, RIGHT_RECV, RIGHT_SEND } from "./mod.ts";
 *
 * const k = new Kernel();
 * const server = k.spawn("server", async (sys) => {
 *   const m = await sys.recv(5);
 *   sys.print(`got ${m.data.length} bytes from pid ${m.senderPid}`);
 * });
 * const client = k.spawn("client", (sys) => sys.send(5, new Uint8Array([1, 2, 3])));
 * const ep = k.createEndpoint(server, 4);
 * k.placeCap(server, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
 * k.placeCap(client, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
 * await k.run();
 * console.log(k.console.lines().map((l) => l.text)); // ["got 3 bytes from pid 2"]
 * ```
 *
 * @module
 */

import type { ConsoleView } from "./console.ts";
import { capRows, hostCap, install } from "./captable.ts";
import { type CrashPoint, withCrashPoint } from "./crash.ts";
import { checkDepth, newEndpoint } from "./ipc.ts";
import { attachDevice } from "./mmio.ts";
import { runLoop, type RunOptions, type RunResult } from "./scheduler.ts";
import { type Cap, KernelState, kerr, liveTask, type TaskCounts } from "./state.ts";
import { syscallsFor } from "./syscall.ts";
import { exitTask, KILLED_EXIT_CODE, spawnTask, taskRows } from "./task.ts";
import type { SimSchedule } from "./schedule.ts";
import type { Tracer } from "./trace_events.ts";
import type { CapInfo, MmioDevice, PhysMemory, TaskEntry, TaskInfo } from "./types.ts";

export type { ConsoleLine, ConsoleView } from "./console.ts";
export type { Cap, TaskCounts } from "./state.ts";
export type { SimSchedule } from "./schedule.ts";
export { BLOCKING_SYSCALLS, CrashPoint, type CrashTarget } from "./crash.ts";
export { type RunOptions, type RunResult, STUCK_POLL_MS } from "./scheduler.ts";
export { SYSCALL_QUANTUM } from "./syscall.ts";
export { SYSCALL_COST_NS } from "./timers.ts";
export {
  BOOTSTRAP_DEPTH,
  KERNEL_PID,
  KILLED_EXIT_CODE,
  PANIC_EXIT_CODE,
  PRIVILEGED_FACTORY_SLOT,
} from "./task.ts";

/** Options for the {@link Kernel} constructor. */
export interface KernelOptions {
  /** Guest-physical memory for DMA and device models; DMA syscalls fail with NO_DEVICE without it. */
  memory?: PhysMemory;
  /** Receives every trace event (see trace_events.ts). */
  tracer?: Tracer;
  /**
   * The choices a seed drives (which ready task runs, delivery and device latencies); without
   * it the kernel makes the canonical choice each time.
   */
  schedule?: SimSchedule;
  /** Counts every task's blocking syscalls and injects its crash, if it has one (crash.ts). */
  crash?: CrashPoint;
}

/** The simulated kernel. See the module documentation for the scheduling model. */
export class Kernel {
  readonly #k: KernelState;

  /** Creates a kernel with no tasks at virtual time 0. */
  constructor(opts: KernelOptions = {}) {
    this.#k = new KernelState(opts.memory, opts.tracer, opts.schedule);
    const crash = opts.crash;
    this.#k.makeSyscalls = crash
      ? (task) => withCrashPoint(this.#k, task, syscallsFor(this.#k, task), crash)
      : (task) => syscallsFor(this.#k, task);
  }

  /** The console: every line written, and a live stream of new ones. */
  get console(): ConsoleView {
    return this.#k.console;
  }

  /** Current virtual time in ns. */
  now(): number {
    return this.#k.time;
  }

  /**
   * Creates a task, ready to run. Slot 0 holds a bootstrap endpoint it owns (SEND|RECV, plus
   * MANAGE when `privileged`: MANAGE on slot 0 is what makes a task privileged); slots 1..2 stay
   * empty for init to fill. A privileged task also gets an endpoint-factory cap (MANAGE) at
   * {@link PRIVILEGED_FACTORY_SLOT}. Returns the pid (pids count from 1).
   */
  spawn(name: string, entry: TaskEntry, opts: { privileged?: boolean } = {}): number {
    return spawnTask(this.#k, name, entry, opts.privileged === true, 0);
  }

  /** Creates an endpoint owned by `ownerPid` with queue `depth` (1..256); returns its id. */
  createEndpoint(ownerPid: number, depth: number): number {
    const owner = liveTask(this.#k, ownerPid);
    checkDepth(depth);
    return newEndpoint(this.#k, owner, depth).id;
  }

  /**
   * Places `cap` in task `pid`'s table at `slot` (which must be free: SLOT_OCCUPIED otherwise)
   * or, when `slot` is undefined, at the first free slot. Returns the slot used. The host is
   * trusted: no rights check, but the endpoint must exist and the rights be valid.
   */
  placeCap(pid: number, slot: number | undefined, cap: Cap): number {
    const task = liveTask(this.#k, pid);
    return install(task, hostCap(this.#k, cap), slot);
  }

  /**
   * Attaches `device` at MMIO window `window` (guest-physical base `0x10001000 + window *
   * 0x1000`) and calls its `attach` with the window's host interface.
   */
  attachMmio(window: number, device: MmioDevice): void {
    attachDevice(this.#k, window, device);
  }

  /**
   * Ends task `pid` from the host (exit code {@link KILLED_EXIT_CODE}): it is removed from every
   * queue, its endpoints close and their waiters wake with CLOSED. Not for the running task.
   */
  kill(pid: number, code = KILLED_EXIT_CODE): void {
    const task = liveTask(this.#k, pid);
    if (task === this.#k.current) throw kerr("INVALID_ARGUMENT", `task ${pid} is running`);
    exitTask(this.#k, task, code, "kill");
  }

  /** Every task's row, in pid order. */
  taskList(): TaskInfo[] {
    return taskRows(this.#k);
  }

  /**
   * What task `pid` did so far: syscalls completed, messages sent and received (the counts of
   * its syscall, ipc-send and ipc-recv trace events, kept without a tracer). Zeros for no task.
   */
  taskCounts(pid: number): TaskCounts {
    const task = Number.isInteger(pid) ? this.#k.tasks[pid] : undefined;
    return task ? { ...task.counts } : { syscalls: 0, sent: 0, received: 0 };
  }

  /** Task `pid`'s filled slots, as capQuery describes them (empty once the task is gone). */
  capTable(pid: number): CapInfo[] {
    const task = Number.isInteger(pid) ? this.#k.tasks[pid] : undefined;
    return task ? capRows(this.#k, task) : [];
  }

  /**
   * Runs tasks until nothing can progress ("idle"), every task exited, `shouldStop()` returns
   * true (polled between steps) or `maxSteps` resumptions were made.
   */
  run(opts: RunOptions = {}): Promise<RunResult> {
    return runLoop(this.#k, opts);
  }
}
