/**
 * samgrd's public face: the service module, its `SM` v1 frame codecs and client helpers.
 *
 * @example Look a name up in this task's namespace
 * ```ts
 * import { samgrLookup, SM_OK } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "samgrd");
 *   if (route.status !== RT_OK) throw new Error("no route to samgrd");
 *   const reply = await samgrLookup(sys, route.sendSlot, route.recvSlot, "demo");
 *   sys.print(reply.status === SM_OK ? "demo is registered" : "no demo");
 * }
 * ```
 *
 * @module
 */

export * from "./protocol.ts";
export { samgrd } from "./main.ts";
export { Registry } from "./registry.ts";
