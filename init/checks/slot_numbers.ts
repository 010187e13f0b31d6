/**
 * Check: a slot number is not one of the reserved slots (0 bootstrap, 1 to init, 2 from init)
 * and is not given twice in one task's table.
 *
 * @module
 */

import { slotHex } from "../../core/kernel/slot_check.ts";
import { FIRST_SERVICE_SLOT } from "../../core/kernel/types.ts";
import type { Diagnostic } from "../diagnostic.ts";
import type { SlotDecl } from "../manifest.ts";
import type { CheckContext, TaskView } from "./context.ts";

/**
 * RESERVED_SLOT or DUPLICATE_SLOT for `s`; `byNumber` holds the slots of `t` seen so far and
 * takes `s` when its number is free.
 */
export function checkSlotNumber(
  ctx: CheckContext,
  t: TaskView,
  s: SlotDecl,
  byNumber: Map<number, SlotDecl>,
  where: Partial<Diagnostic>,
): void {
  if (s.slot < FIRST_SERVICE_SLOT) {
    ctx.push(
      "error",
      "RESERVED_SLOT",
      `${s.name} uses reserved slot ${slotHex(s.slot)} (0 bootstrap, 1 to init, 2 from init)`,
      `move it to a free slot >= 3, e.g. slot = ${ctx.freeSlot(t, s)}`,
      where,
    );
    return;
  }
  const other = byNumber.get(s.slot);
  if (other) {
    ctx.push(
      "error",
      "DUPLICATE_SLOT",
      `slot ${slotHex(s.slot)} is assigned twice in ${t.name}: to ${other.name} and to ${s.name}`,
      `give ${s.name} a free slot, e.g. slot = ${ctx.freeSlot(t)}`,
      where,
    );
  } else byNumber.set(s.slot, s);
}
