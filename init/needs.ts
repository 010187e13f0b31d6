/**
 * init's own slot needs, derived from the manifest: init is not a service module, but its table
 * is declared under `[init.slots]` and checked like any service's.
 *
 * @module
 */

import type { SlotNeed } from "../core/kernel/service.ts";
import { RIGHT_RECV, RIGHT_SEND } from "../core/kernel/types.ts";
import { findService, type SystemManifest } from "./manifest.ts";

/** Service init asks before answering a route (when the manifest declares it). */
export const POLICY_SERVICE = "policyd";
/** Service init forwards health to and sends the boot attempt to (when declared). */
export const UPDATE_SERVICE = "updated";

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
