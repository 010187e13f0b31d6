/**
 * What each task needs in its slot table: init's own needs, derived from the manifest (init is
 * not a service module, but its table is declared under `[init.slots]` and checked like any
 * service's), and each service's, as its module declares them.
 *
 * @module
 */

import type { ServiceModule, SlotNeed } from "../core/kernel/service.ts";
import { RIGHT_RECV, RIGHT_SEND } from "../core/kernel/types.ts";
import { findService, INIT_NAME, type SystemManifest } from "./manifest.ts";

/** The service modules by registry key (`services/mod.ts` SERVICES in the product). */
export type ServiceRegistry = Readonly<Record<string, ServiceModule>>;

/** Service init asks before answering a route (when the manifest declares it). */
export const POLICY_SERVICE = "policyd";
/** Service init forwards health to and sends the boot attempt to (when declared). */
export const UPDATE_SERVICE = "updated";
/** Service init hands the names of every service (`config.services`), to name senders by. */
export const NAMING_SERVICE = "statefsd";

/**
 * The slots init needs for `manifest`: always its `inbox`; `reply` and `policyd` when the system
 * has policyd (route checks are calls that wait for the answer); `updated` when the system has
 * updated (health forwarding and the boot attempt; the answers come back on init's inbox, so
 * init never waits on updated and that need is not synchronous).
 */
export function initNeeds(manifest: SystemManifest): SlotNeed[] {
  const needs: SlotNeed[] = [
    {
      name: "inbox",
      kind: "endpoint",
      rights: RIGHT_RECV,
      use: "routing (RT) and health (IH) requests, answers from updated",
    },
  ];
  if (findService(manifest, POLICY_SERVICE)) {
    needs.push(
      {
        name: "reply",
        kind: "endpoint",
        rights: RIGHT_SEND | RIGHT_RECV,
        use: "reply inbox for route checks",
      },
      {
        name: POLICY_SERVICE,
        kind: "endpoint",
        rights: RIGHT_SEND,
        use: "asks ROUTE before answering a route",
        sync: true,
      },
    );
  }
  if (findService(manifest, UPDATE_SERVICE)) {
    needs.push({
      name: UPDATE_SERVICE,
      kind: "endpoint",
      rights: RIGHT_SEND,
      use: "forwards HEALTH_OK, sends BOOT_ATTEMPT once per boot",
    });
  }
  return needs;
}

/** The needs of each task (init and the services), by task name; unknown modules are absent. */
export function taskNeeds(
  manifest: SystemManifest,
  registry: ServiceRegistry,
): Map<string, readonly SlotNeed[]> {
  const out = new Map<string, readonly SlotNeed[]>();
  out.set(INIT_NAME, initNeeds(manifest));
  for (const s of manifest.services) {
    const mod = Object.hasOwn(registry, s.module) ? registry[s.module] : undefined;
    if (mod) out.set(s.name, mod.requiredSlots);
  }
  return out;
}
