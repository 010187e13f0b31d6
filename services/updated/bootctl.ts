/**
 * The A/B boot control transitions updated applies (docs/protocols.md, "bootctl"), as pure
 * functions over the record `protocol.ts` defines. updated persists the record (put, then sync)
 * after every successful transition; nothing here does I/O.
 *
 * Meaning of the fields, as the transitions use them:
 * - `active`: the slot the system boots.
 * - `pending`: the slot whose health is not confirmed yet; after a switch it equals `active`, and
 *   the slot to roll back to is the other one (with two slots, the one `active` replaced).
 * - `staged`: the standby slot holding a verified system-set, ready to switch to.
 * - `tries_left`: boot attempts the pending slot has left.
 * - `health_ok`: 1 when the active slot is confirmed healthy.
 *
 * The factory state is slot A active and healthy, nothing pending or staged.
 *
 * @module
 */

import { SLOT_A, SLOT_B, type SlotId } from "../bundlemgrd/protocol.ts";
import { type BootCtl, BootCtlError } from "./protocol.ts";

/** The factory state: A active and healthy. */
export function factoryBootCtl(): BootCtl {
  return { active: SLOT_A, pending: null, staged: null, triesLeft: 0, healthOk: true };
}

/** The other slot. */
export function otherSlot(slot: SlotId): SlotId {
  return slot === SLOT_A ? SLOT_B : SLOT_A;
}

/** Stage: the standby slot now holds a verified system-set. Allowed unless a switch is pending. */
export function stage(s: BootCtl): BootCtl {
  if (s.pending !== null) {
    throw new BootCtlError("SWITCH_PENDING", "a switch is pending; confirm or roll back first");
  }
  return { ...s, staged: otherSlot(s.active) };
}

/**
 * Switch with `tries` boot attempts (1..255): the staged slot becomes active and pending; the
 * slot it replaces is where a rollback returns.
 */
export function switchTo(s: BootCtl, tries: number): BootCtl {
  if (!Number.isInteger(tries) || tries < 1 || tries > 255) {
    throw new BootCtlError("BAD_TRIES", `tries must be 1..255, got ${tries}`);
  }
  if (s.pending !== null) throw new BootCtlError("SWITCH_PENDING", "a switch is already pending");
  if (s.staged === null) throw new BootCtlError("NOTHING_STAGED", "nothing is staged");
  return { active: s.staged, pending: s.staged, staged: null, triesLeft: tries, healthOk: false };
}

/** Health confirmed: clears pending and marks the active slot healthy. */
export function healthOk(s: BootCtl): BootCtl {
  return { ...s, pending: null, triesLeft: 0, healthOk: true };
}

/** Result of {@link bootAttempt}. */
export interface BootAttemptResult {
  state: BootCtl;
  /** The slot rolled back to, or null when no rollback happened. */
  rolledBackTo: SlotId | null;
  /** True when the state changed (and must be persisted). */
  changed: boolean;
}

/**
 * One boot attempt: while a switch is pending, uses up one try, and when none is left rolls back
 * to the slot the switch replaced (known healthy: only a confirmed slot is ever switched away
 * from, and a rollback restores it). Without a pending switch nothing changes.
 */
export function bootAttempt(s: BootCtl): BootAttemptResult {
  if (s.pending === null) return { state: s, rolledBackTo: null, changed: false };
  const tries = Math.max(0, s.triesLeft - 1);
  if (tries > 0) return { state: { ...s, triesLeft: tries }, rolledBackTo: null, changed: true };
  const back = otherSlot(s.active);
  return {
    state: { active: back, pending: null, staged: null, triesLeft: 0, healthOk: true },
    rolledBackTo: back,
    changed: true,
  };
}
