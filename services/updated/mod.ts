/**
 * updated, A/B over-the-air updates: the service module, its `UD` frames and client, the bootctl
 * state machine and the signed system-set format with its builder.
 *
 * @example Read the A/B update state
 * ```ts
 * import { slotLetter } from "../bundlemgrd/mod.ts";
 * import { UpdateClient } from "./mod.ts";
 * import { routeGet, RT_OK, type ServiceEnv, type Syscalls } from "../../core/kernel/mod.ts";
 *
 * // Inside a service task whose manifest entry grants it a `reply` slot and a route to the peer.
 * async function example(sys: Syscalls, env: ServiceEnv): Promise<void> {
 *   const route = await routeGet(sys, env.slots.reply, "updated");
 *   if (route.status !== RT_OK) throw new Error("no route to updated");
 *   const status = await new UpdateClient(sys, route.sendSlot, route.recvSlot).status();
 *   sys.print(`active ${slotLetter(status.active)}, tries left ${status.triesLeft}`);
 * }
 * ```
 *
 * @module
 */

export { UPDATE_PUBKEY_CONFIG, updated, UpdatedConfigError, updatePublicKey } from "./main.ts";
export { default } from "./main.ts";
export * from "./protocol.ts";
export * from "./bootctl.ts";
export { type Handled, Updater, type UpdaterBackend } from "./updater.ts";
