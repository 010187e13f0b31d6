/**
 * Check: what a slot points at exists and fits the wiring plan's conventions. An MMIO window
 * must be declared and granted to the task; an endpoint must be declared; `inbox` is the task's
 * own request endpoint, `reply` an inbox it owns, a slot named after a service reaches that
 * service's endpoint; only an endpoint's owner receives on it.
 *
 * @module
 */

import { type EndpointDecl, findEndpoint, type SlotDecl } from "../manifest.ts";
import { RIGHT_RECV } from "../../core/kernel/types.ts";
import type { Diagnostic } from "../diagnostic.ts";
import { didYouMean } from "../suggest.ts";
import type { CheckContext, TaskView } from "./context.ts";

/** UNKNOWN_TARGET, MMIO_NOT_GRANTED, WRONG_TARGET and WRONG_RIGHTS (recv) for slot `s` of `t`. */
export function checkSlotTarget(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  where: Partial<Diagnostic>,
): void {
  if (s.target.kind === "mmio") checkMmioTarget(ctx, t, s, s.target.window, where);
  else checkEndpointTarget(ctx, t, s, s.target.endpoint, where);
}

function checkMmioTarget(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  win: number,
  where: Partial<Diagnostic>,
): void {
  const decl = ctx.m.mmio.find((w) => w.window === win);
  if (!decl) {
    const known = ctx.m.mmio.map((w) => String(w.window));
    ctx.push(
      "error",
      "UNKNOWN_TARGET",
      `${s.name} maps MMIO window ${win}, which is not declared${
        known.length ? ` (declared: ${known.join(", ")})` : ""
      }`,
      known.length
        ? `set mmio = ${known[0]}, or declare [[mmio]] window = ${win}`
        : `declare [[mmio]] window = ${win}`,
      where,
    );
  } else if (!decl.services.includes(t.name)) {
    ctx.push(
      "error",
      "MMIO_NOT_GRANTED",
      `${s.name} maps MMIO window ${win} (${decl.device}), which is not granted to ${t.name}`,
      `add "${t.name}" to services of [[mmio]] window ${win}, or remove the slot`,
      where,
    );
  }
}

function checkEndpointTarget(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  name: string,
  where: Partial<Diagnostic>,
): void {
  const m = ctx.m;
  const ep = findEndpoint(m, name);
  if (!ep) {
    ctx.push(
      "error",
      "UNKNOWN_TARGET",
      `${s.name} targets endpoint "${name}", which is not declared${
        didYouMean(name, ctx.endpointNames)
      }`,
      ctx.isTaskName(name)
        ? `declare [[endpoint]] name = "${name}" owner = "${name}"`
        : `point it at a declared endpoint (${ctx.endpointNames.join(", ")})`,
      where,
    );
    return;
  }
  checkNamingConvention(ctx, t, s, ep, where);
  if ((s.rights & RIGHT_RECV) !== 0 && ep.owner !== t.name) {
    ctx.push(
      "error",
      "WRONG_RIGHTS",
      `${s.name} holds recv on "${ep.name}", owned by ${ep.owner}: only an endpoint's owner receives on it`,
      `drop "recv" from rights`,
      where,
    );
  }
}

/**
 * WRONG_TARGET when the slot's name promises another endpoint: `inbox` is the task's own,
 * `reply` an inbox it owns, a slot named after a service reaches that service's endpoint, and no
 * slot is named after the task itself.
 */
function checkNamingConvention(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  ep: EndpointDecl,
  where: Partial<Diagnostic>,
): void {
  const m = ctx.m;
  if (s.name === "inbox" && ep.name !== t.name) {
    ctx.push(
      "error",
      "WRONG_TARGET",
      `inbox must be ${t.name}'s own request endpoint "${t.name}", not "${ep.name}" (owned by ${ep.owner})`,
      findEndpoint(m, t.name)
        ? `set endpoint = "${t.name}"`
        : `declare [[endpoint]] name = "${t.name}" owner = "${t.name}" and point inbox at it`,
      where,
    );
  } else if (s.name === "reply" && (ep.owner !== t.name || ep.name === t.name)) {
    const own = m.endpoints.find((e) => e.owner === t.name && e.name !== t.name);
    ctx.push(
      "error",
      "WRONG_TARGET",
      `reply must be a reply inbox ${t.name} owns, not "${ep.name}" (owned by ${ep.owner})`,
      own
        ? `set endpoint = "${own.name}"`
        : `declare [[endpoint]] name = "${t.name}.reply" owner = "${t.name}" and point reply at it`,
      where,
    );
  } else if (ctx.isTaskName(s.name) && s.name !== t.name && ep.name !== s.name) {
    ctx.push(
      "error",
      "WRONG_TARGET",
      `slot ${s.name} is named after the service ${s.name} but targets endpoint "${ep.name}" (owned by ${ep.owner})`,
      `set endpoint = "${s.name}", or rename the slot after the service it reaches`,
      where,
    );
  } else if (s.name === t.name) {
    ctx.push(
      "error",
      "WRONG_TARGET",
      `slot ${s.name} is named after ${t.name} itself; a service reaches its own endpoint through inbox`,
      `remove the slot or rename it`,
      where,
    );
  }
}
