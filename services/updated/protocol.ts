/**
 * updated's frames, `UD` v1 (FORMATS.md, "IPC frames"), and the client helpers.
 *
 * Request `"UD", 1, op, body`; reply `"UD", 1, op | 0x80, status, body`.
 *
 * | op | request body | reply body (OK) |
 * |---|---|---|
 * | 1 STAGE | `len u32, bytes` (a signed system-set, see system_set.ts) | `staged slot u8` |
 * | 2 SWITCH | `tries u8` (1..255; 0 is MALFORMED) | `active slot u8` |
 * | 3 HEALTH_OK | none | none |
 * | 4 GET_STATUS | none | `active u8, pending u8 (0 none), tries_left u8, health_ok u8` |
 * | 5 BOOT_ATTEMPT | none | `slot u8`: the slot rolled back to, or 0 when no rollback happened |
 *
 * A FAILED reply carries one `reason u8` ({@link UD_REASON_NAMES}); other error replies carry
 * only the status. Slot ids: 1 = A, 2 = B.
 *
 * Statuses: 0 OK, 1 MALFORMED (wrong magic, short or inconsistent frame, tries 0), 2 UNSUPPORTED
 * (wrong version, unknown op), 3 FAILED (the request was understood and refused or could not be
 * carried out), 4 DENIED (HEALTH_OK from a sender policyd does not grant `update.health`, or
 * BOOT_ATTEMPT without `update.boot_attempt`; init's own messages are trusted; nothing changes).
 *
 * @module
 */

import {
  ByteReader,
  frameWriter,
  headerRefusal,
  isReplyTo,
  REPLY_BIT,
  replyWriter,
} from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import { MAX_FRAME, type Syscalls } from "../../core/kernel/types.ts";

/** Frame magic of updated. */
export const UD_MAGIC = "UD";
/** Frame version of updated. */
export const UD_VERSION = 1;

/** Verifies a signed system-set and marks the standby slot staged. */
export const UD_OP_STAGE = 1;
/** Switches to the staged slot with a number of boot tries. */
export const UD_OP_SWITCH = 2;
/** Confirms the active slot healthy. */
export const UD_OP_HEALTH_OK = 3;
/** Reports the boot control state. */
export const UD_OP_GET_STATUS = 4;
/** Counts one boot attempt; rolls back when the tries run out. */
export const UD_OP_BOOT_ATTEMPT = 5;

/** Request handled. */
export const UD_OK = 0;
/** Wrong magic, short or inconsistent frame. */
export const UD_MALFORMED = 1;
/** Wrong version or unknown op. */
export const UD_UNSUPPORTED = 2;
/** Refused or not carried out; the reply carries a reason. */
export const UD_FAILED = 3;
/** Status: the sender lacks the grant the request needs. */
export const UD_DENIED = 4;

/** FAILED reason: the system-set's layout is wrong. */
export const UD_REASON_FORMAT = 1;
/** FAILED reason: the system-set's signature does not verify. */
export const UD_REASON_SIGNATURE = 2;
/** FAILED reason: a bundle does not match its signed digest. */
export const UD_REASON_DIGEST = 3;
/** FAILED reason: a switch is pending. */
export const UD_REASON_SWITCH_PENDING = 4;
/** FAILED reason: nothing is staged. */
export const UD_REASON_NOTHING_STAGED = 5;
/** FAILED reason: statefsd could not persist or read the state. */
export const UD_REASON_STORE = 6;
/** FAILED reason: bundlemgrd could not be routed to or refused the slot. */
export const UD_REASON_BUNDLEMGR = 7;
/** FAILED reason: the signature could not be checked (keystored unreachable or refusing). */
export const UD_REASON_VERIFIER = 8;

/** Names of the FAILED reasons. */
export const UD_REASON_NAMES: Readonly<Record<number, string>> = {
  [UD_REASON_FORMAT]: "format",
  [UD_REASON_SIGNATURE]: "signature",
  [UD_REASON_DIGEST]: "digest",
  [UD_REASON_SWITCH_PENDING]: "switch-pending",
  [UD_REASON_NOTHING_STAGED]: "nothing-staged",
  [UD_REASON_STORE]: "store",
  [UD_REASON_BUNDLEMGR]: "bundlemgr",
  [UD_REASON_VERIFIER]: "verifier",
};

/** Bytes of a STAGE request before the set. */
const STAGE_OVERHEAD = 4 + 4;
/** Largest system-set one STAGE frame carries. */
export const MAX_STAGE_BYTES = MAX_FRAME - STAGE_OVERHEAD;

/** A decoded request, or the status refusing it. */
export type UdRequest =
  | { kind: "stage"; set: Uint8Array }
  | { kind: "switch"; tries: number }
  | { kind: "health-ok" }
  | { kind: "status" }
  | { kind: "boot-attempt" }
  | { kind: "error"; op: number; status: number };

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): UdRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, UD_MAGIC, UD_VERSION, UD_MALFORMED, UD_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const body = frame.subarray(4);
  const malformed: UdRequest = { kind: "error", op, status: UD_MALFORMED };
  switch (op) {
    case UD_OP_STAGE: {
      if (body.length < 4) return malformed;
      const r = new ByteReader(body);
      const len = r.u32();
      if (len !== r.remaining) return malformed;
      return { kind: "stage", set: r.rest() };
    }
    case UD_OP_SWITCH:
      if (body.length !== 1 || body[0] === 0) return malformed;
      return { kind: "switch", tries: body[0] };
    case UD_OP_HEALTH_OK:
      return body.length === 0 ? { kind: "health-ok" } : malformed;
    case UD_OP_GET_STATUS:
      return body.length === 0 ? { kind: "status" } : malformed;
    case UD_OP_BOOT_ATTEMPT:
      return body.length === 0 ? { kind: "boot-attempt" } : malformed;
    default:
      return { kind: "error", op, status: UD_UNSUPPORTED };
  }
}

/** Encodes a reply: `status` and an optional body. */
export function encodeReply(op: number, status: number, body?: Uint8Array): Uint8Array {
  const w = replyWriter(UD_MAGIC, UD_VERSION, op & ~REPLY_BIT, status);
  if (body) w.bytes(body);
  return w.finish();
}

/** Encodes a FAILED reply with `reason`. */
export function encodeFailed(op: number, reason: number): Uint8Array {
  return encodeReply(op, UD_FAILED, Uint8Array.of(reason));
}

/** Encodes a STAGE request. Throws RangeError when the set cannot fit in one frame. */
export function encodeStage(set: Uint8Array): Uint8Array {
  if (set.length > MAX_STAGE_BYTES) {
    throw new RangeError(`system-set of ${set.length} bytes exceeds ${MAX_STAGE_BYTES}`);
  }
  return frameWriter(UD_MAGIC, UD_VERSION, UD_OP_STAGE).u32(set.length).bytes(set).finish();
}

/** Encodes a SWITCH request. */
export function encodeSwitch(tries: number): Uint8Array {
  return frameWriter(UD_MAGIC, UD_VERSION, UD_OP_SWITCH).u8(tries).finish();
}

/** Encodes a request without a body (HEALTH_OK, GET_STATUS, BOOT_ATTEMPT). */
export function encodeSimple(op: number): Uint8Array {
  return frameWriter(UD_MAGIC, UD_VERSION, op).finish();
}

/** The state GET_STATUS reports. */
export interface UpdateStatus {
  /** Active slot (1 = A, 2 = B). */
  active: number;
  /** Pending slot, 0 when none. */
  pending: number;
  triesLeft: number;
  healthOk: boolean;
}

/** Encodes a GET_STATUS reply body. */
export function encodeStatusBody(s: UpdateStatus): Uint8Array {
  return Uint8Array.of(s.active, s.pending, s.triesLeft, s.healthOk ? 1 : 0);
}

/** Thrown by the client helpers: updated refused a request or answered a bad frame. */
export class UpdatedError extends Error {
  /**
   * Creates an error for `status` (a UD_* status, or -1 for an undecodable reply) and, for
   * FAILED, its `reason`.
   */
  constructor(readonly status: number, readonly reason: number | null, message: string) {
    super(message);
    this.name = "UpdatedError";
  }
  /** The FAILED reason's name (`signature`, `digest`, ...), or null. */
  get reasonName(): string | null {
    return this.reason === null ? null : UD_REASON_NAMES[this.reason] ?? `reason ${this.reason}`;
  }
}

/** Decodes a reply to `op` into its status and body; throws {@link UpdatedError}. */
export function decodeReply(frame: Uint8Array, op: number): { status: number; body: Uint8Array } {
  if (
    !isReplyTo(frame, UD_MAGIC, UD_VERSION, op)
  ) {
    throw new UpdatedError(-1, null, `not an updated reply to op ${op}`);
  }
  return { status: frame[4], body: frame.slice(5) };
}

function okBody(frame: Uint8Array, op: number, len: number): Uint8Array {
  const { status, body } = decodeReply(frame, op);
  if (status === UD_FAILED) {
    const reason = body.length === 1 ? body[0] : null;
    const name = reason === null ? "?" : UD_REASON_NAMES[reason] ?? String(reason);
    throw new UpdatedError(status, reason, `updated refused op ${op}: FAILED (${name})`);
  }
  if (status !== UD_OK) throw new UpdatedError(status, null, `updated refused op ${op}: ${status}`);
  if (body.length !== len) {
    throw new UpdatedError(-1, null, `updated op ${op} reply body is ${body.length} bytes`);
  }
  return body;
}

/** An updated client over `call`; methods throw {@link UpdatedError} on refusals. */
export class UpdateClient {
  /** A client sending on `sendSlot` with its reply inbox in `replySlot`. */
  constructor(readonly sys: Syscalls, readonly sendSlot: number, readonly replySlot: number) {}

  async #call(op: number, frame: Uint8Array, len: number): Promise<Uint8Array> {
    const msg = await call(this.sys, this.sendSlot, this.replySlot, frame);
    return okBody(msg.data, op, len);
  }

  /** Stages a signed system-set; returns the staged slot. */
  async stage(set: Uint8Array): Promise<number> {
    return (await this.#call(UD_OP_STAGE, encodeStage(set), 1))[0];
  }

  /** Switches to the staged slot with `tries` boot tries; returns the new active slot. */
  async switchTo(tries: number): Promise<number> {
    return (await this.#call(UD_OP_SWITCH, encodeSwitch(tries), 1))[0];
  }

  /** Confirms the active slot healthy. */
  async healthOk(): Promise<void> {
    await this.#call(UD_OP_HEALTH_OK, encodeSimple(UD_OP_HEALTH_OK), 0);
  }

  /** The boot control state. */
  async status(): Promise<UpdateStatus> {
    const b = await this.#call(UD_OP_GET_STATUS, encodeSimple(UD_OP_GET_STATUS), 4);
    return { active: b[0], pending: b[1], triesLeft: b[2], healthOk: b[3] === 1 };
  }

  /** Counts a boot attempt; returns the slot rolled back to, or 0. */
  async bootAttempt(): Promise<number> {
    return (await this.#call(UD_OP_BOOT_ATTEMPT, encodeSimple(UD_OP_BOOT_ATTEMPT), 1))[0];
  }
}
