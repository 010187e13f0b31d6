/**
 * The schedules of explore's `sched` and `latency` classes: the seeded schedule with only one of
 * its dimensions varied — which ready task runs next (`sched`, no latencies), or the delivery and
 * completion latencies (`latency`, the canonical longest-waiting-first order). The other classes
 * boot with the full seeded schedule `nexus boot --seed` uses.
 *
 * @module
 */

import type { SimSchedule } from "../core/kernel/kernel.ts";
import { SeededSchedule } from "../core/simulation/schedule.ts";
import type { FaultClass } from "./plan.ts";

/** The schedule a class boots seed `seed` with; undefined means the seed's own full schedule. */
export function scheduleFor(cls: FaultClass, seed: number): SimSchedule | undefined {
  if (cls !== "sched" && cls !== "latency") return undefined;
  const s = new SeededSchedule(seed);
  return cls === "sched"
    ? { pickReady: (n) => s.pickReady(n), deliveryDelay: () => 0, completionDelay: () => 0 }
    : {
      pickReady: () => 0,
      deliveryDelay: () => s.deliveryDelay(),
      completionDelay: () => s.completionDelay(),
    };
}
