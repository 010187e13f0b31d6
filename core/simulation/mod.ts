/**
 * The deterministic simulation's knobs: one seeded PRNG with a stream per consumer, the seeded
 * schedule the kernel consults (which ready task runs, delivery and completion latencies), and
 * disk fault plans with their text form. Same seed and plan, same run, byte for byte.
 *
 * @example A seeded kernel with a fault plan on its disk
 * ```ts
 * import { faultOptions, parseFaultPlan, SeededSchedule } from "./mod.ts";
 * import { Kernel } from "../kernel/kernel.ts";
 * import { FaultyStore } from "../virtio/fault.ts";
 * import { MemoryStore } from "../virtio/store.ts";
 *
 * const seed = 12345;
 * const kernel = new Kernel({ schedule: new SeededSchedule(seed) });
 * const disk = new FaultyStore(new MemoryStore(2048), faultOptions(parseFaultPlan("ioerr@w3"), seed));
 * ```
 *
 * @module
 */

export { Prng } from "./prng.ts";
export { MAX_COMPLETION_DELAY_NS, MAX_DELIVERY_DELAY_NS, SeededSchedule } from "./schedule.ts";
export {
  faultOptions,
  type FaultPlan,
  FaultPlanError,
  formatFaultPlan,
  type IoErrorFault,
  isEmptyPlan,
  NO_FAULTS,
  parseFaultPlan,
} from "../virtio/fault_plan.ts";
