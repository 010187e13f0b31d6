/**
 * Check: the policy's route grants and the slots agree. A grant names declared services; a
 * service holding send to another service's endpoint is granted `route:<that service>` (or init
 * answers its route request DENIED); a route grant without a slot reaching the target is a
 * warning (the route answers NOT_FOUND).
 *
 * @module
 */

import { RIGHT_SEND } from "../../core/kernel/types.ts";
import { findEndpoint, type ServiceDecl } from "../manifest.ts";
import { didYouMean } from "../suggest.ts";
import type { CheckContext } from "./context.ts";

/** Route grant capability for `target`. */
export function routeCap(target: string): string {
  return `route:${target}`;
}

/** The route grants, then per service ROUTE_NOT_GRANTED and GRANT_WITHOUT_SLOT. */
export function checkRoutes(ctx: CheckContext): void {
  const routable = routeGrants(ctx);
  for (const svc of ctx.m.services) checkServiceRoutes(ctx, svc, routable);
}

/**
 * Subject -> services its `route:` grants name. UNKNOWN_SUBJECT for a grant to an undeclared
 * service, UNKNOWN_TARGET for a route to one.
 */
function routeGrants(ctx: CheckContext): Map<string, Set<string>> {
  const routable = new Map<string, Set<string>>();
  const { serviceNames } = ctx;
  for (const g of ctx.m.grants) {
    if (!serviceNames.includes(g.subject)) {
      ctx.push(
        "error",
        "UNKNOWN_SUBJECT",
        `policy grant for "${g.subject}", which is not a declared service${
          didYouMean(g.subject, serviceNames)
        }`,
        `set subject to a declared service`,
        { service: g.subject, line: g.line },
      );
      continue;
    }
    for (const cap of g.caps) {
      if (!cap.startsWith("route:")) continue;
      const target = cap.slice("route:".length);
      if (!serviceNames.includes(target)) {
        ctx.push(
          "error",
          "UNKNOWN_TARGET",
          `grant "${cap}" for ${g.subject} names "${target}", which is not a declared service${
            didYouMean(target, serviceNames)
          }`,
          `fix the service name in "${cap}" or drop it`,
          { service: g.subject, line: g.line },
        );
        continue;
      }
      const set = routable.get(g.subject) ?? new Set<string>();
      set.add(target);
      routable.set(g.subject, set);
    }
  }
  return routable;
}

function checkServiceRoutes(
  ctx: CheckContext,
  svc: ServiceDecl,
  routable: Map<string, Set<string>>,
): void {
  const m = ctx.m;
  const reached = new Set<string>();
  for (const s of svc.slots) {
    if (s.target.kind !== "endpoint" || (s.rights & RIGHT_SEND) === 0) continue;
    const ep = findEndpoint(m, s.target.endpoint);
    if (!ep || ep.name !== ep.owner || ep.owner === svc.name) continue;
    if (!ctx.serviceNames.includes(ep.owner)) continue;
    reached.add(ep.owner);
    if (routable.get(svc.name)?.has(ep.owner)) continue;
    ctx.push(
      "error",
      "ROUTE_NOT_GRANTED",
      `${svc.name} holds send to ${ep.owner} (slot ${s.name}) but the policy does not grant ${svc.name} "${
        routeCap(ep.owner)
      }": routing it would be DENIED`,
      `add "${routeCap(ep.owner)}" to caps of the [[policy.grant]] for ${svc.name}`,
      { service: svc.name, slot: s.name, slotNumber: s.slot, line: s.line },
    );
  }
  for (const target of routable.get(svc.name) ?? []) {
    if (reached.has(target)) continue;
    const g = m.grants.find((x) => x.subject === svc.name && x.caps.includes(routeCap(target)));
    ctx.push(
      "warning",
      "GRANT_WITHOUT_SLOT",
      `${svc.name} is granted "${
        routeCap(target)
      }" but has no slot reaching ${target}: routing answers NOT_FOUND`,
      `add a ${target} slot to ${svc.name}, or drop the grant`,
      { service: svc.name, line: g?.line },
    );
  }
}
