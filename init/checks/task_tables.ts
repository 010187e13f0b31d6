/**
 * Check: each task's slot table, slot by slot (number, target, use), then the needs no slot
 * answers. Problems come out per task in start order, and per slot in declaration order.
 *
 * @module
 */

import type { Diagnostic } from "../diagnostic.ts";
import type { SlotDecl } from "../manifest.ts";
import type { CheckContext, TaskView } from "./context.ts";
import { checkSlotNumber } from "./slot_numbers.ts";
import { checkMissingSlots, checkSlotUse } from "./slot_needs.ts";
import { checkSlotTarget } from "./slot_targets.ts";

/** Every task's table: see the module comment. */
export function checkTaskTables(ctx: CheckContext): void {
  for (const t of ctx.tasks) checkTaskTable(ctx, t);
}

function checkTaskTable(ctx: CheckContext, t: TaskView): void {
  const byNumber = new Map<number, SlotDecl>();
  for (const s of t.slots) {
    const where: Partial<Diagnostic> = {
      service: t.name,
      slot: s.name,
      slotNumber: s.slot,
      // Read when a problem is recorded: looking a line up parses the text again.
      get line() {
        return s.line;
      },
    };
    checkSlotNumber(ctx, t, s, byNumber, where);
    checkSlotTarget(ctx, t, s, where);
    checkSlotUse(ctx, t, s, where);
  }
  checkMissingSlots(ctx, t);
}
