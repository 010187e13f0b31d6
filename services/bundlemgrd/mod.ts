/**
 * bundlemgrd's public face: the service module, its `BN` v1 frame codecs and client helpers,
 * and the slot table.
 *
 * @example Which A/B slot is active
 * ```ts
 * import { bundleList, slotLetter } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "bundlemgrd");
 *   if (route.status !== RT_OK) throw new Error("no route to bundlemgrd");
 *   const list = await bundleList(sys, route.sendSlot, route.recvSlot);
 *   sys.print(`active slot ${slotLetter(list.active)}`);
 * }
 * ```
 *
 * @module
 */

export * from "./protocol.ts";
export { bundlemgrd } from "./main.ts";
export { BundleConfigError, DEFAULT_VERSION, MAX_PROPERTIES_BYTES, SlotTable } from "./slots.ts";
