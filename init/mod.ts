/**
 * init-lite and the system manifest: loading and checking the manifest (`manifest.ts`,
 * `validate.ts`), the init task that wires the system from it and serves routing and health
 * (`init.ts`), and init's frames with their client helpers (`protocol.ts`).
 *
 * @module
 */

export * from "./diagnostic.ts";
export * from "./manifest.ts";
export * from "./needs.ts";
export * from "./protocol.ts";
export {
  CONTROL_DEPTH,
  createInit,
  type InitOptions,
  POLICY_TIMEOUT_NS,
  RESPONDER_TICK_NS,
} from "./init.ts";
export {
  routeCap,
  type ServiceRegistry,
  validateManifest,
  type ValidationReport,
} from "./validate.ts";
export { formatTaskTable, formatVirtualTime } from "./watchdog.ts";
