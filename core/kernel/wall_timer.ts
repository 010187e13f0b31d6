/**
 * Wall-clock timers for the host side of a run (a harness timeout, the scheduler's stuck-step
 * guard) that do not cost a process Deno's Node.js timers: the first `setTimeout` or
 * `setInterval` of a Deno process loads them, about 20 ms of CPU, a sixth of a short `nexus`
 * command. `AbortSignal.timeout` runs on Deno's core timers instead, and Deno keeps a process
 * alive for such a signal only while it has an abort listener, so removing the listener cancels
 * the timer: it no longer keeps the process alive and never calls back.
 *
 * Simulated code never reads these: the kernel's own timers run on virtual time.
 *
 * @example
 * ```ts
 * import { wallTimer } from "./wall_timer.ts";
 * const cancel = wallTimer(1000, () => console.log("a second passed"));
 * cancel(); // nothing is printed, and the process may exit at once
 * ```
 *
 * @module
 */

/** Calls `fn` once `ms` milliseconds of wall-clock time have passed; returns its cancel. */
export function wallTimer(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(ms);
  const onAbort = () => fn();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** Calls `fn` every `ms` milliseconds of wall-clock time until cancelled; returns its cancel. */
export function wallInterval(ms: number, fn: () => void): () => void {
  let cancel = () => {};
  const arm = () => {
    cancel = wallTimer(ms, () => {
      // Armed again first, so a call that cancels also cancels the next one.
      arm();
      fn();
    });
  };
  arm();
  // Cancelling twice removes a listener already gone: nothing.
  return () => cancel();
}
