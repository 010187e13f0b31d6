/**
 * Check: every grant a service's needs declare (the peer checks it on the sender) is given by a
 * `[[policy.grant]]` for that service; without it the peer answers DENIED at run time.
 *
 * @module
 */

import type { CheckContext } from "./context.ts";

/** GRANT_MISSING, per service and need in order. */
export function checkNeededGrants(ctx: CheckContext): void {
  const m = ctx.m;
  for (const svc of m.services) {
    const held = new Set(m.grants.filter((g) => g.subject === svc.name).flatMap((g) => g.caps));
    for (const need of ctx.needsByTask.get(svc.name) ?? []) {
      const s = svc.slots.find((x) => x.name === need.name);
      if (s === undefined) continue; // MISSING_SLOT says it already
      for (const cap of need.grants ?? []) {
        if (held.has(cap)) continue;
        ctx.push(
          "error",
          "GRANT_MISSING",
          `${svc.name} needs the grant "${cap}" for ${need.use} (slot ${need.name}) but the policy does not give it: the peer would refuse it as DENIED`,
          `add "${cap}" to caps of the [[policy.grant]] for ${svc.name}`,
          { service: svc.name, slot: s.name, slotNumber: s.slot, line: s.line },
        );
      }
    }
  }
}
