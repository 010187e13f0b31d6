/**
 * policyd's frames, `PO` v1 (FORMATS.md, "IPC frames"; the CHECK and ROUTE layouts are defined
 * here). Every frame starts with `"PO", version 1, op`; every reply is `"PO", 1, op | 0x80,
 * status` (5 bytes).
 *
 * | op | request | asks |
 * |---|---|---|
 * | 1 CHECK | `cap_len u8, cap` | may the SENDER (kernel-reported identity) hold `cap`? |
 * | 2 ROUTE | `subject u64, name_len u8, name` | may `subject` route to service `name` (grant `route:<name>`)? Used by init when it answers `RT` ROUTE_GET. |
 * | 4 CHECK_CAP | `subject u64, cap_len u8, cap` | may `subject` hold `cap`? |
 *
 * `subject` is a service identity, FNV-1a-64 of the service name, little-endian. A `subject`
 * other than the sender's own identity is answered DENY ("requester spoof denied") unless the
 * sender is init, or, for CHECK_CAP only, the sender holds the `policy.delegate` grant (statefsd
 * asks about the sender of each request it serves). Capability strings and names are UTF-8,
 * 1..255 bytes. Deny by default: only the manifest's grants allow.
 *
 * Statuses: 0 ALLOW, 1 DENY, 2 MALFORMED (wrong magic, short or overlong frame, empty or invalid
 * string), 3 UNSUPPORTED (wrong version, unknown op).
 *
 * @module
 */

import {
  ByteReader,
  frameWriter,
  headerRefusal,
  isReplyTo,
  REPLY_BIT,
  utf8,
} from "../../core/kernel/frame.ts";
import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";

/** Frame magic of policyd. */
export const PO_MAGIC = "PO";
/** Frame version of policyd. */
export const PO_VERSION = 1;

/** May the sender hold a capability? */
export const PO_OP_CHECK = 1;
/** May a subject route to a service? (init) */
export const PO_OP_ROUTE = 2;
/** May a subject hold a capability? */
export const PO_OP_CHECK_CAP = 4;

/** Granted. */
export const PO_ALLOW = 0;
/** Not granted, or a spoofed subject. */
export const PO_DENY = 1;
/** Wrong magic, short or overlong frame, empty or invalid string. */
export const PO_MALFORMED = 2;
/** Wrong version or unknown op. */
export const PO_UNSUPPORTED = 3;

/** Length of every policyd reply. */
export const PO_REPLY_LEN = 5;
/** The prefix of route grants: `route:<name>`. */
export const ROUTE_GRANT_PREFIX = "route:";

/** A decoded policyd request, or the status refusing it. */
export type PolicyRequest =
  | { kind: "check"; cap: string }
  | { kind: "route"; subject: bigint; name: string }
  | { kind: "check_cap"; subject: bigint; cap: string }
  | { kind: "error"; op: number; status: number };

function stringBytes(s: string, what: string): Uint8Array {
  const bytes = utf8(s);
  if (bytes.length < 1 || bytes.length > 0xff) {
    throw new RangeError(`${what} must be 1..255 UTF-8 bytes, got ${bytes.length}`);
  }
  return bytes;
}

function subjectId(subject: bigint | string): bigint {
  return typeof subject === "string" ? fnv1a64(subject) : subject;
}

/** Encodes a CHECK request (about the sender itself). */
export function encodeCheck(cap: string): Uint8Array {
  const bytes = stringBytes(cap, "capability");
  return frameWriter(PO_MAGIC, PO_VERSION, PO_OP_CHECK).u8(bytes.length).bytes(bytes).finish();
}

/** Encodes a CHECK_CAP request; `subject` is a service name or its identity. */
export function encodeCheckCap(subject: bigint | string, cap: string): Uint8Array {
  const bytes = stringBytes(cap, "capability");
  return frameWriter(PO_MAGIC, PO_VERSION, PO_OP_CHECK_CAP).u64(subjectId(subject))
    .u8(bytes.length).bytes(bytes).finish();
}

/** Encodes a ROUTE request; `subject` is a service name or its identity. */
export function encodeRoute(subject: bigint | string, name: string): Uint8Array {
  const bytes = stringBytes(name, "service name");
  return frameWriter(PO_MAGIC, PO_VERSION, PO_OP_ROUTE).u64(subjectId(subject)).u8(bytes.length)
    .bytes(bytes).finish();
}

/** Reads `len u8, string` to the end of the frame; throws on anything else. */
function readString(r: ByteReader): string {
  const len = r.u8();
  if (len === 0) throw new RangeError("empty string");
  const s = r.str(len);
  r.end();
  return s;
}

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): PolicyRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, PO_MAGIC, PO_VERSION, PO_MALFORMED, PO_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const r = new ByteReader(frame);
  r.bytes(4);
  try {
    switch (op) {
      case PO_OP_CHECK:
        return { kind: "check", cap: readString(r) };
      case PO_OP_ROUTE: {
        const subject = r.u64();
        return { kind: "route", subject, name: readString(r) };
      }
      case PO_OP_CHECK_CAP: {
        const subject = r.u64();
        return { kind: "check_cap", subject, cap: readString(r) };
      }
      default:
        return { kind: "error", op, status: PO_UNSUPPORTED };
    }
  } catch {
    return { kind: "error", op, status: PO_MALFORMED };
  }
}

/** Encodes a reply. */
export function encodeReply(op: number, status: number): Uint8Array {
  return frameWriter(PO_MAGIC, PO_VERSION, (op | REPLY_BIT) & 0xff).u8(status).finish();
}

/** Decodes a reply into `{op, status}`; null when the frame is not a policyd reply. */
export function decodeReply(frame: Uint8Array): { op: number; status: number } | null {
  if (
    !isReplyTo(frame, PO_MAGIC, PO_VERSION) || frame.length !== PO_REPLY_LEN
  ) {
    return null;
  }
  return { op: frame[3] & ~REPLY_BIT, status: frame[4] };
}

/** Thrown by the client helpers when policyd answers with a frame that is not a policyd reply. */
export class PolicydError extends Error {
  /** Creates an error with a message. */
  constructor(message: string) {
    super(message);
    this.name = "PolicydError";
  }
}

async function ask(
  sys: Syscalls,
  policydSlot: number,
  replySlot: number,
  request: Uint8Array,
): Promise<number> {
  const reply = await call(sys, policydSlot, replySlot, request);
  const decoded = decodeReply(reply.data);
  if (decoded === null || decoded.op !== request[3]) throw new PolicydError("not a policyd reply");
  return decoded.status;
}

/** CHECK: may this task hold `cap`? Resolves to the PO_* status. */
export function policyCheck(
  sys: Syscalls,
  policydSlot: number,
  replySlot: number,
  cap: string,
): Promise<number> {
  return ask(sys, policydSlot, replySlot, encodeCheck(cap));
}

/** CHECK_CAP: may `subject` hold `cap`? Resolves to the PO_* status. */
export function policyCheckCap(
  sys: Syscalls,
  policydSlot: number,
  replySlot: number,
  subject: bigint | string,
  cap: string,
): Promise<number> {
  return ask(sys, policydSlot, replySlot, encodeCheckCap(subject, cap));
}

/** ROUTE: may `subject` route to service `name`? Resolves to the PO_* status. */
export function policyRoute(
  sys: Syscalls,
  policydSlot: number,
  replySlot: number,
  subject: bigint | string,
  name: string,
): Promise<number> {
  return ask(sys, policydSlot, replySlot, encodeRoute(subject, name));
}

/**
 * Grants of other services' requests that a peer checks on the kernel-reported sender (asking
 * policyd with CHECK_CAP, which needs the asker to hold `policy.delegate`).
 */
export const GRANT_BUNDLE_SET_ACTIVE = "bundle.set_active";
/** Grant a sender needs for keystored DEVICE_SIGN. */
export const GRANT_KEYSTORE_SIGN = "keystore.sign";
/** Grant a sender needs for updated HEALTH_OK. */
export const GRANT_UPDATE_HEALTH = "update.health";
/** Grant a sender needs for updated BOOT_ATTEMPT. */
export const GRANT_UPDATE_BOOT_ATTEMPT = "update.boot_attempt";
/** Grant a sender needs for init's IH HEALTH_OK. */
export const GRANT_INIT_HEALTH = "init.health";

/**
 * True when policyd says `sender` holds `cap`. Fails closed: no answer, a malformed answer or
 * any error is no grant. policyd audits the decision to logd.
 */
export async function senderHolds(
  sys: Syscalls,
  policydSlot: number,
  replySlot: number,
  sender: bigint,
  cap: string,
): Promise<boolean> {
  try {
    return (await policyCheckCap(sys, policydSlot, replySlot, sender, cap)) === PO_ALLOW;
  } catch {
    return false;
  }
}
