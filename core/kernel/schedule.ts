/**
 * The choices a simulation may vary, as the kernel asks for them. Without a {@link SimSchedule}
 * the kernel makes the canonical choice every time (the longest-waiting ready task runs next,
 * nothing takes extra time); with one (core/simulation's seeded schedule), a seed decides, and
 * the same seed decides the same way on every run.
 *
 * Every choice keeps the system's guarantees: any ready task may run next, a message is
 * delivered intact (only later), a device completes every request (only later).
 *
 * @module
 */

/** The decisions a seed drives. */
export interface SimSchedule {
  /** Which of `ready` runnable tasks runs next: 0 is the one that waited longest. */
  pickReady(ready: number): number;
  /** Extra virtual ns before a receiver woken by a delivered message runs (delivery latency). */
  deliveryDelay(): number;
  /** Virtual ns a device takes to complete the requests of one notification. */
  completionDelay(): number;
}
