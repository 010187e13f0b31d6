/**
 * logd's public face: the service module and its `LG` v1 frame codecs and client helpers.
 *
 * @example Append to the audit log and read it back
 * ```ts
 * import { logAppend, logQuery } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "logd");
 *   if (route.status !== RT_OK) throw new Error("no route to logd");
 *   await logAppend(sys, route.sendSlot, "demo: started"); // fire and forget
 *   const { records } = await logQuery(sys, route.sendSlot, route.recvSlot);
 *   sys.print(`logd holds ${records.length} records`);
 * }
 * ```
 *
 * @module
 */

export * from "./protocol.ts";
export { logd } from "./main.ts";
export { AuditSink, DEFAULT_CAPACITY, MAX_CAPACITY } from "./sink.ts";
