/**
 * Virtual time and deadlines. Time advances only by the cost of syscalls and, when every task is
 * blocked, by jumping to the earliest deadline. Blocked tasks with a deadline sit in a heap
 * ordered by (deadline, pid), so finding and firing expired deadlines costs O(log n) per timer
 * rather than a scan of every task.
 *
 * @module
 */

import { type KernelState, kerr } from "./state.ts";
import { wakeError, wakeValue } from "./wake.ts";

/** Virtual time every async syscall costs, in ns (1 µs), so time advances deterministically. */
export const SYSCALL_COST_NS = 1000;

/** Rejects a deadline that is not a number. */
export function checkDeadline(deadline: number | undefined): void {
  if (deadline !== undefined && (typeof deadline !== "number" || Number.isNaN(deadline))) {
    throw kerr("INVALID_ARGUMENT", `bad deadline ${deadline}`);
  }
}

/** A call that would block past its deadline already fails now. */
export function checkNotPast(k: KernelState, deadline: number | undefined): void {
  if (deadline !== undefined && deadline <= k.time) {
    throw kerr("TIMED_OUT", `deadline ${deadline} passed (now ${k.time})`);
  }
}

/** The earliest time something is due: a deadline, a delayed wake-up, device work. */
export function earliestDeadline(k: KernelState): number | undefined {
  const first = k.timers.peek();
  const deadline = first ? first.wait!.deadline : undefined;
  const later = k.later.peek()?.at;
  if (later === undefined) return deadline;
  return deadline === undefined || later < deadline ? later : deadline;
}

/**
 * Wakes every blocked task whose deadline has passed (by deadline then pid), then makes ready
 * the delayed wake-ups that are due and runs due device work (by time, then order).
 */
export function fireExpired(k: KernelState): void {
  for (;;) {
    const t = k.timers.peek();
    if (!t || t.wait!.deadline! > k.time) break;
    // Waking unlinks the task from the heap.
    const w = t.wait!;
    if (w.op === "sleep") wakeValue(k, t, undefined);
    else wakeError(k, t, kerr("TIMED_OUT", `${w.call} on slot ${w.slot} timed out`));
  }
  for (;;) {
    const due = k.later.peek();
    if (!due || due.at > k.time) return;
    k.later.pop();
    if (due.task) {
      due.task.later = undefined;
      k.ready.push(due.task);
    } else due.run!();
  }
}
