/**
 * statefsd, the `/state` authority: the service module, its `SF` frames and client, and the
 * per-prefix access rules.
 *
 * @example Store a key through statefsd
 * ```ts
 * import { StatefsClient } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "statefsd");
 *   if (route.status !== RT_OK) throw new Error("no route to statefsd");
 *   const fs = new StatefsClient(sys, route.sendSlot, route.recvSlot);
 *   await fs.put("/state/demo/greeting", new TextEncoder().encode("hello"));
 *   await fs.sync();
 * }
 * ```
 *
 * @module
 */

export { DiskError, STATE_PARTITION, statefsd } from "./main.ts";
export { default } from "./main.ts";
export * from "./protocol.ts";
export * from "./access.ts";
export { type Authorizer, StatefsServer } from "./server.ts";
