/**
 * selftest-ungranted's frames, `UG` v1 (docs/protocols.md, "selftest-ungranted").
 *
 * Request `"UG", 1, 1 PROBE` (no body); reply `"UG", 1, 0x81, 0 OK, ks u8, boot u8, health u8`:
 * the statuses keystored (DEVICE_SIGN), updated (BOOT_ATTEMPT) and init (`IH` HEALTH_OK) gave
 * this task, which the manifest grants none of them, or {@link UG_NO_ANSWER} when a request got
 * no decodable reply.
 *
 * @module
 */

import { frameWriter, isReplyTo, readHeader, replyWriter } from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";

/** Frame magic. */
export const UG_MAGIC = "UG";
/** Protocol version. */
export const UG_VERSION = 1;
/** Sends the three guarded requests as this task and reports their statuses. */
export const UG_OP_PROBE = 1;
/** Reply status: the probe ran. */
export const UG_OK = 0;
/** Reply status: not a PROBE frame. */
export const UG_MALFORMED = 1;
/** A status byte meaning the request got no decodable reply (a kernel error or a bad frame). */
export const UG_NO_ANSWER = 0xff;

/** The statuses the ungranted task was answered with. */
export interface ProbeResult {
  /** keystored's status to DEVICE_SIGN (KS_*). */
  sign: number;
  /** updated's status to BOOT_ATTEMPT (UD_*). */
  bootAttempt: number;
  /** init's status to `IH` HEALTH_OK (IH_*). */
  health: number;
}

/** True when `frame` is a PROBE request. */
export function isProbe(frame: Uint8Array): boolean {
  const h = readHeader(frame);
  return h !== null && h.magic === UG_MAGIC && h.version === UG_VERSION && h.op === UG_OP_PROBE;
}

/** Encodes the PROBE reply. */
export function encodeProbeReply(r: ProbeResult): Uint8Array {
  return replyWriter(UG_MAGIC, UG_VERSION, UG_OP_PROBE, UG_OK).u8(r.sign).u8(r.bootAttempt)
    .u8(r.health).finish();
}

/** Encodes the refusal of a frame that is not a PROBE. */
export function encodeMalformed(): Uint8Array {
  return replyWriter(UG_MAGIC, UG_VERSION, UG_OP_PROBE, UG_MALFORMED).finish();
}

/**
 * Asks selftest-ungranted (on `sendSlot`) to run its probe; resolves to the statuses it got.
 * Throws when the answer is not a PROBE reply with OK.
 *
 * @example
 * ```ts ignore
 * const r = await probeUngranted(sys, slots["selftest-ungranted"], slots.reply, deadline);
 * if (r.sign !== KS_DENY) throw new Error("keystored signed for an ungranted task");
 * ```
 */
export async function probeUngranted(
  sys: Syscalls,
  sendSlot: number,
  replySlot: number,
  deadline?: number,
): Promise<ProbeResult> {
  const reply = await call(
    sys,
    sendSlot,
    replySlot,
    frameWriter(UG_MAGIC, UG_VERSION, UG_OP_PROBE).finish(),
    { deadline },
  );
  const f = reply.data;
  if (!isReplyTo(f, UG_MAGIC, UG_VERSION, UG_OP_PROBE) || f[4] !== UG_OK || f.length !== 8) {
    throw new Error("selftest-ungranted answered a frame that is not a PROBE reply");
  }
  return { sign: f[5], bootAttempt: f[6], health: f[7] };
}
