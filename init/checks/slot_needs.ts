/**
 * Check: a task's declared slots against what its module says it needs. Every slot is needed
 * (or it is an unused warning), has the kind and at least the rights the need asks for (more is a
 * warning), and every need has a slot.
 *
 * @module
 */

import type { SlotNeed } from "../../core/kernel/service.ts";
import type { Diagnostic } from "../diagnostic.ts";
import { rightsToString, rightsToToml, type SlotDecl } from "../manifest.ts";
import { type CheckContext, tableOf, type TaskView } from "./context.ts";

/** UNUSED_SLOT when no need names `s`; otherwise WRONG_KIND, WRONG_RIGHTS or EXCESS_RIGHTS. */
export function checkSlotUse(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  where: Partial<Diagnostic>,
): void {
  const need = t.needs?.find((n) => n.name === s.name);
  if (t.needs && !need) {
    ctx.push(
      "warning",
      "UNUSED_SLOT",
      `${t.name} declares slot ${s.name} but never uses it (not in its required slots)`,
      `remove it from ${tableOf(t)}, or add it to the module's requiredSlots if it is needed`,
      where,
    );
  }
  if (need) checkKindAndRights(ctx, t, s, need, where);
}

function checkKindAndRights(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  need: SlotNeed,
  where: Partial<Diagnostic>,
): void {
  if (s.target.kind !== need.kind) {
    const want = need.kind === "mmio" ? "an MMIO window (mmio = <window>)" : `an ${need.kind}`;
    ctx.push(
      "error",
      "WRONG_KIND",
      `${s.name} is ${
        s.target.kind === "mmio" ? "an MMIO window" : "an endpoint"
      }, but ${t.name} needs ${want} (${need.use})`,
      need.kind === "mmio" ? `write ${s.name} = { ..., mmio = <window> }` : `target an endpoint`,
      where,
    );
    return;
  }
  const missing = need.rights & ~s.rights;
  if (missing !== 0) {
    ctx.push(
      "error",
      "WRONG_RIGHTS",
      `${s.name} has rights ${rightsToString(s.rights)} but ${t.name} needs ${
        rightsToString(need.rights)
      } (${need.use}); missing ${rightsToString(missing)}`,
      `set rights = ${rightsToToml(need.rights)}`,
      where,
    );
    return;
  }
  const extra = s.rights & ~need.rights;
  if (extra !== 0) {
    ctx.push(
      "warning",
      "EXCESS_RIGHTS",
      `${s.name} grants ${rightsToString(extra)} beyond what ${t.name} needs (${
        rightsToString(need.rights)
      })`,
      `set rights = ${rightsToToml(need.rights)}`,
      where,
    );
  }
}

/** MISSING_SLOT for each need of `t` no slot answers (unless the loader already rejected it). */
export function checkMissingSlots(ctx: CheckContext, t: TaskView): void {
  for (const need of t.needs ?? []) {
    if (t.slots.some((s) => s.name === need.name)) continue;
    // A slot the loader rejected (already reported) is not "missing" a second time.
    if (ctx.load.diagnostics.some((d) => d.service === t.name && d.slot === need.name)) continue;
    ctx.push(
      "error",
      "MISSING_SLOT",
      `${t.name} needs slot ${need.name} (${need.use}) but the manifest gives it none`,
      `add ${need.name} = { slot = ${ctx.freeSlot(t)}, rights = ${rightsToToml(need.rights)}, ${
        guessTarget(ctx, t, need)
      } } to ${tableOf(t)}`,
      { service: t.name, slot: need.name, line: t.line },
    );
  }
}

/** The target a missing slot most likely wants, as TOML for the fix. */
function guessTarget(ctx: CheckContext, t: TaskView, need: SlotNeed): string {
  if (need.kind === "mmio") {
    const w = ctx.m.mmio.find((x) => x.services.includes(t.name)) ?? ctx.m.mmio[0];
    return `mmio = ${w?.window ?? 0}`;
  }
  if (need.name === "inbox") return `endpoint = "${t.name}"`;
  if (need.name === "reply") {
    const own = ctx.m.endpoints.find((e) => e.owner === t.name && e.name !== t.name);
    return `endpoint = "${own?.name ?? `${t.name}.reply`}"`;
  }
  return `endpoint = "${need.name}"`;
}
