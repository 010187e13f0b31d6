/**
 * The A/B boot control state updated keeps (docs/protocols.md, "bootctl"): its 6-byte record and its
 * transitions, as pure functions. updated persists the record (put, then sync) after every
 * successful transition; nothing here does I/O.
 *
 * Record at {@link BOOTCTL_KEY}: `version = 1, active (1|2), pending (1|2|0xFF), staged
 * (1|2|0xFF), tries_left, health_ok (0|1)`.
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

/** Key of the record in statefsd. */
export const BOOTCTL_KEY = "/state/boot/bootctl.v1";
/** Record version. */
export const BOOTCTL_VERSION = 1;
/** Record size in bytes. */
export const BOOTCTL_SIZE = 6;
/** Slot A on the wire and on disk. */
export const SLOT_A = 1;
/** Slot B on the wire and on disk. */
export const SLOT_B = 2;
/** "No slot" in the record's pending and staged fields. */
export const SLOT_NONE = 0xff;

/** A slot id: 1 = A, 2 = B. */
export type SlotId = typeof SLOT_A | typeof SLOT_B;

/** The boot control state. */
export interface BootCtl {
  active: SlotId;
  pending: SlotId | null;
  staged: SlotId | null;
  triesLeft: number;
  healthOk: boolean;
}

/** Why a record or a transition is refused (stable codes). */
export type BootCtlErrorCode =
  | "BAD_RECORD"
  | "BAD_TRIES"
  | "NOTHING_STAGED"
  | "SWITCH_PENDING";

/** A refused transition or an undecodable record. */
export class BootCtlError extends Error {
  /** Creates an error with a stable `code`. */
  constructor(readonly code: BootCtlErrorCode, message: string) {
    super(message);
    this.name = "BootCtlError";
  }
}

/** The factory state: A active and healthy. */
export function factoryBootCtl(): BootCtl {
  return { active: SLOT_A, pending: null, staged: null, triesLeft: 0, healthOk: true };
}

/** The other slot. */
export function otherSlot(slot: SlotId): SlotId {
  return slot === SLOT_A ? SLOT_B : SLOT_A;
}

/** The slot's letter as markers spell it. */
export function slotLetter(slot: SlotId): "a" | "b" {
  return slot === SLOT_A ? "a" : "b";
}

/** Encodes the 6-byte record. */
export function encodeBootCtl(s: BootCtl): Uint8Array {
  return Uint8Array.of(
    BOOTCTL_VERSION,
    s.active,
    s.pending ?? SLOT_NONE,
    s.staged ?? SLOT_NONE,
    s.triesLeft & 0xff,
    s.healthOk ? 1 : 0,
  );
}

function slotOrNone(byte: number, field: string): SlotId | null {
  if (byte === SLOT_NONE) return null;
  if (byte === SLOT_A || byte === SLOT_B) return byte;
  throw new BootCtlError("BAD_RECORD", `bootctl ${field} is ${byte}, expected 1, 2 or 0xFF`);
}

/**
 * Decodes a record; throws {@link BootCtlError} (BAD_RECORD) for a wrong size, version or field
 * value, and for a combination the transitions never produce (pending other than active, staged
 * equal to active).
 */
export function decodeBootCtl(bytes: Uint8Array): BootCtl {
  if (bytes.length !== BOOTCTL_SIZE) {
    throw new BootCtlError("BAD_RECORD", `bootctl record is ${bytes.length} bytes, expected 6`);
  }
  if (bytes[0] !== BOOTCTL_VERSION) {
    throw new BootCtlError("BAD_RECORD", `bootctl version ${bytes[0]}, expected 1`);
  }
  const active = slotOrNone(bytes[1], "active");
  if (active === null) throw new BootCtlError("BAD_RECORD", "bootctl has no active slot");
  const pending = slotOrNone(bytes[2], "pending");
  const staged = slotOrNone(bytes[3], "staged");
  if (bytes[5] > 1) throw new BootCtlError("BAD_RECORD", `bootctl health_ok is ${bytes[5]}`);
  if (pending !== null && pending !== active) {
    throw new BootCtlError("BAD_RECORD", "bootctl pending slot is not the active slot");
  }
  if (staged !== null && staged === active) {
    throw new BootCtlError("BAD_RECORD", "bootctl staged slot is the active slot");
  }
  return { active, pending, staged, triesLeft: bytes[4], healthOk: bytes[5] === 1 };
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
