/**
 * rngd's public face: the service module, its `RN` v1 frame codecs and client helper, and the
 * deterministic generator.
 *
 * @example Fetch seeded entropy
 * ```ts
 * import { rngGet } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "rngd");
 *   if (route.status !== RT_OK) throw new Error("no route to rngd");
 *   const nonce = await rngGet(sys, route.sendSlot, route.recvSlot, 16);
 *   sys.print(`nonce ${nonce.toHex()}`);
 * }
 * ```
 *
 * @module
 */

export * from "./protocol.ts";
export { rngd } from "./main.ts";
export { EntropyStream, seedBytes } from "./stream.ts";
