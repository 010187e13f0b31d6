/**
 * init-lite and the system manifest: loading and checking the manifest (`manifest.ts`,
 * `validate.ts` with its rules in `checks/`), the init task that wires the system from it
 * (`init.ts`, `wiring.ts`) and serves routing and health (`responder.ts`, `updated_link.ts`)
 * under a watchdog (`watchdog_timer.ts`, its table in `watchdog.ts`), the slot table and call
 * graph `nexus slots` prints (`views.ts`), and the boot entry point that runs the whole system
 * against a disk image (`boot.ts`).
 *
 * @example
 * ```ts
 * import { bootSystem, loadManifest, requireLoadable, validateManifest } from "./mod.ts";
 * import { SERVICES } from "../services/mod.ts";
 *
 * const load = await loadManifest("images/system.toml");
 * if (!validateManifest(load, SERVICES).valid) Deno.exit(2);
 * const outcome = await bootSystem({
 *   imagePath: "build/blk.img",
 *   manifest: requireLoadable(load),
 *   seed: 1,
 *   onLine: (line) => console.log(line),
 *   shouldStop: () => false,
 * });
 * console.log(outcome.reason);
 * ```
 *
 * @module
 */

export {
  BOOT_MEMORY_BYTES,
  BootError,
  type BootErrorCode,
  type BootOptions,
  type BootOutcome,
  bootSystem,
  VIRTIO_BLK_DEVICE,
  type WatchdogSnapshot,
} from "./boot.ts";
export * from "./diagnostic.ts";
export * from "./manifest.ts";
export * from "./needs.ts";
export {
  CONTROL_DEPTH,
  createInit,
  type InitOptions,
  POLICY_TIMEOUT_NS,
  RESPONDER_TICK_NS,
  type WatchdogReport,
} from "./init.ts";
export { routeCap, validateManifest, type ValidationReport } from "./validate.ts";
export { serviceEnv } from "./wiring.ts";
export * from "./views.ts";
export { formatTaskTable, formatVirtualTime } from "./watchdog.ts";
