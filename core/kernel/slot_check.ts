/**
 * The startup slot check every service runs: each required slot must really hold a capability of
 * the right kind with at least the required rights, as the kernel reports it. The result is
 * printed as the markers the harness judges.
 *
 * @module
 */

import type { ServiceEnv, SlotNeed } from "./service.ts";
import { CAP_SLOTS, KernelError, type Syscalls } from "./types.ts";

/** One hole found by {@link checkSlots}. */
export interface SlotProblem {
  /** Slot name from the service's needs. */
  name: string;
  /** Slot number the manifest gives, or -1 when the manifest names no slot. */
  slot: number;
  /** Why the slot does not serve the need. */
  reason: "unassigned" | "empty" | "wrong-kind" | "missing-rights";
}

/** Formats a slot number as the markers spell it (`0x05`). */
export function slotHex(slot: number): string {
  return `0x${slot.toString(16).padStart(2, "0")}`;
}

/**
 * Probes every slot in `needs` through `capQuery` and returns the holes, without printing.
 * A need the manifest gives no slot number counts as missing too.
 */
export function probeSlots(
  sys: Syscalls,
  env: ServiceEnv,
  needs: readonly SlotNeed[],
): SlotProblem[] {
  const problems: SlotProblem[] = [];
  for (const need of needs) {
    const slot = env.slots[need.name];
    if (slot === undefined || !Number.isInteger(slot) || slot < 0 || slot >= CAP_SLOTS) {
      problems.push({ name: need.name, slot: slot ?? -1, reason: "unassigned" });
      continue;
    }
    let info;
    try {
      info = sys.capQuery(slot);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      info = null;
    }
    if (info === null) problems.push({ name: need.name, slot, reason: "empty" });
    else if (info.kind !== need.kind) {
      problems.push({ name: need.name, slot, reason: "wrong-kind" });
    } else if ((info.rights & need.rights) !== need.rights) {
      problems.push({ name: need.name, slot, reason: "missing-rights" });
    }
  }
  return problems;
}

/**
 * Runs the startup slot check and prints its markers: `slot-check: <svc> all N slots ok`, or one
 * `SLOT MISSING: <svc> needs <name> at slot 0xNN` line per hole followed by
 * `slot-check: <svc> FAIL (M missing)`. Returns true when every slot is in place.
 */
export function checkSlots(sys: Syscalls, env: ServiceEnv, needs: readonly SlotNeed[]): boolean {
  const problems = probeSlots(sys, env, needs);
  if (problems.length === 0) {
    sys.print(`slot-check: ${sys.name} all ${needs.length} slots ok`);
    return true;
  }
  for (const p of problems) {
    const where = p.slot >= 0 ? slotHex(p.slot) : "(none assigned)";
    const why = p.reason === "empty" || p.reason === "unassigned" ? "" : ` (${p.reason})`;
    sys.print(`SLOT MISSING: ${sys.name} needs ${p.name} at slot ${where}${why}`);
  }
  sys.print(`slot-check: ${sys.name} FAIL (${problems.length} missing)`);
  return false;
}
