/**
 * policyd's public face: the service module, its `PO` v1 frame codecs and client helpers, and
 * the grant table.
 *
 * @example Ask policyd whether this task holds a grant
 * ```ts
 * import { PO_ALLOW, policyCheck } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "policyd");
 *   if (route.status !== RT_OK) throw new Error("no route to policyd");
 *   const status = await policyCheck(sys, route.sendSlot, route.recvSlot, "statefs.read");
 *   sys.print(status === PO_ALLOW ? "granted" : "not granted");
 * }
 * ```
 *
 * @module
 */

export * from "./protocol.ts";
export { AUDIT_BACKLOG, Auditor, policyd } from "./main.ts";
export {
  type Decision,
  DELEGATE_GRANT,
  type Grant,
  GrantsError,
  INIT_SERVICE,
  parseGrants,
  Policy,
} from "./policy.ts";
