/**
 * Check: every endpoint has a declared owner, someone refers to it, and someone receives what
 * is sent on it.
 *
 * @module
 */

import { RIGHT_RECV, RIGHT_SEND } from "../../core/kernel/types.ts";
import { INIT_NAME } from "../manifest.ts";
import { didYouMean } from "../suggest.ts";
import type { CheckContext } from "./context.ts";

/** UNKNOWN_OWNER, UNUSED_ENDPOINT (warning) and NO_RECEIVER, per endpoint in order. */
export function checkEndpoints(ctx: CheckContext): void {
  for (const ep of ctx.m.endpoints) {
    if (!ctx.isTaskName(ep.owner)) {
      ctx.push(
        "error",
        "UNKNOWN_OWNER",
        `endpoint "${ep.name}" is owned by "${ep.owner}", which is not a declared service${
          didYouMean(ep.owner, [INIT_NAME, ...ctx.serviceNames])
        }`,
        `set owner to the service that receives on it`,
        { service: ep.owner, line: ep.line },
      );
      continue;
    }
    const holders = ctx.tasks.flatMap((t) =>
      t.slots.filter((s) => s.target.kind === "endpoint" && s.target.endpoint === ep.name)
        .map((s) => ({ task: t.name, slot: s }))
    );
    const senders = holders.filter((h) => (h.slot.rights & RIGHT_SEND) !== 0);
    const receivers = holders.filter((h) => (h.slot.rights & RIGHT_RECV) !== 0);
    if (holders.length === 0) {
      ctx.push(
        "warning",
        "UNUSED_ENDPOINT",
        `endpoint "${ep.name}" is declared but no slot refers to it`,
        `remove the [[endpoint]] or give ${ep.owner} a slot on it`,
        { service: ep.owner, line: ep.line },
      );
    } else if (senders.length > 0 && receivers.length === 0) {
      ctx.push(
        "error",
        "NO_RECEIVER",
        `endpoint "${ep.name}" has senders (${
          senders.map((h) => `${h.task}.${h.slot.name}`).join(", ")
        }) but nobody receives on it`,
        `give ${ep.owner} a slot with rights ["recv"] on it (its inbox)`,
        { service: ep.owner, line: ep.line },
      );
    }
  }
}
