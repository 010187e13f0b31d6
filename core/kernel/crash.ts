/**
 * Injected task crashes: a fault plan's `crash@TASK:N` kills the task named TASK as it enters its
 * N-th blocking syscall, deterministically, the way a fault in the service would end it. The
 * kernel reports it as it reports a task that died of an error in its own code, with a
 * `panic: TASK: ...` console line: the system has no restarts, so a dead service is fatal to the
 * run. The rest of the system still sees a dead peer: the endpoints the task owned close, and a
 * caller waiting on an answer from it gets CLOSED instead of waiting forever (ipc.ts).
 *
 * The blocking syscalls (send, recv, sleep, yield, MMIO reads and writes, irqWait) are the points
 * where a task hands control to the kernel, so they are where it may die: the call it was making
 * never happens (a send is not queued). Synchronous calls (print, cap operations, DMA memory)
 * run to completion within a step and are not counted. `now` is not a syscall.
 *
 * @example Count every task's blocking syscalls, then kill one at a chosen call
 * ```ts
 * import { CrashPoint, Kernel } from "./mod.ts";
 *
 * const count = new CrashPoint();
 * const k = new Kernel({ crash: count });
 * k.spawn("sleeper", async (sys) => {
 *   for (let i = 0; i < 3; i++) await sys.sleep(10);
 * });
 * await k.run();
 * count.calls.get("sleeper"); // 3
 *
 * const crash = new CrashPoint({ task: "sleeper", syscall: 2 });
 * const again = new Kernel({ crash });
 * again.spawn("sleeper", async (sys) => {
 *   for (let i = 0; i < 3; i++) await sys.sleep(10);
 * });
 * await again.run();
 * crash.fired; // true: the task died entering its second sleep
 * ```
 *
 * @module
 */

import type { KernelState, Task } from "./state.ts";
import { exitTask, KERNEL_PID, KILLED_EXIT_CODE, never, writeConsole } from "./task.ts";
import type { Syscalls } from "./types.ts";

/** The syscalls a task may block in: where an injected crash may strike. */
export const BLOCKING_SYSCALLS = [
  "send",
  "recv",
  "sleep",
  "yield",
  "mmioRead32",
  "mmioWrite32",
  "irqWait",
] as const;

/** Which task dies, and at which of its blocking syscalls (counting from 1). */
export interface CrashTarget {
  /** The task's name (a service's name in the manifest). */
  task: string;
  /** The blocking syscall it dies entering, counting its own from 1. */
  syscall: number;
}

/**
 * An injected crash, and the count of every task's blocking syscalls. Without a target it only
 * counts: a fault-free run measures the range a crash plan draws from.
 */
export class CrashPoint {
  /** The crash to inject, if any. */
  readonly target?: CrashTarget;
  /** Blocking syscalls entered so far, by task name (the fatal one included). */
  readonly calls: Map<string, number> = new Map();
  /** The syscall the target died entering, once it did. */
  fired?: string;

  /** A crash of `target`, or (without one) only the counts. */
  constructor(target?: CrashTarget) {
    if (target) {
      if (typeof target.task !== "string" || target.task === "") {
        throw new RangeError("crash target needs a task name");
      }
      if (!Number.isSafeInteger(target.syscall) || target.syscall < 1) {
        throw new RangeError(`crash syscall must be a count from 1, got ${target.syscall}`);
      }
      this.target = target;
    }
  }
}

/**
 * `sys` with its blocking syscalls counted; the target's fatal one ends the task instead (exit
 * code {@link KILLED_EXIT_CODE}, a kernel console line naming it) and never returns.
 */
export function withCrashPoint(
  k: KernelState,
  task: Task,
  sys: Syscalls,
  point: CrashPoint,
): Syscalls {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(sys)) as Syscalls;
  const target = point.target?.task === task.name ? point.target : undefined;
  const table = out as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const op of BLOCKING_SYSCALLS) {
    const real = table[op];
    table[op] = (...args: unknown[]) => {
      const n = (point.calls.get(task.name) ?? 0) + 1;
      point.calls.set(task.name, n);
      if (target && n === target.syscall && task.state !== "exited") {
        point.fired = op;
        writeConsole(
          k,
          KERNEL_PID,
          "kernel",
          `panic: ${task.name}: killed by an injected crash entering its blocking syscall ${n} (${op})`,
        );
        exitTask(k, task, KILLED_EXIT_CODE, "kill");
        return never();
      }
      return real(...args);
    };
  }
  return out;
}
