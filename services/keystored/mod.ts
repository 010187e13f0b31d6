/**
 * keystored, the device identity key: the service module, its `KS` frames and client, and the
 * Ed25519 helpers of the device-key contract.
 *
 * @example Sign with the device key
 * ```ts
 * import { KeystoreClient } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "keystored");
 *   if (route.status !== RT_OK) throw new Error("no route to keystored");
 *   const keys = new KeystoreClient(sys, route.sendSlot, route.recvSlot);
 *   const signature = await keys.sign(new TextEncoder().encode("boot record"));
 *   sys.print(`signed: ${signature.length} bytes`);
 * }
 * ```
 *
 * @module
 */

export { DEVICE_KEY_PATH, Keystore, type KeystoreBackend, keystored } from "./main.ts";
export { default } from "./main.ts";
export * from "./protocol.ts";
