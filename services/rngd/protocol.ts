/**
 * rngd's frames, `RN` v1 (a nexus frame family; docs/protocols.md only names it, so this file is its
 * definition). Every frame starts with `"RN", version 1, op`; a reply sets bit 7 of the op and
 * carries a status byte next.
 *
 * | op | request | reply (after `status`) |
 * |---|---|---|
 * | 1 GET | `len u16` (at most {@link MAX_GET}) | `len u16, bytes` |
 *
 * Statuses: 0 OK, 1 MALFORMED (wrong magic, short or overlong frame), 2 UNSUPPORTED (wrong
 * version, unknown op), 3 TOO_LARGE (`len` over {@link MAX_GET}). Error replies carry only the
 * status.
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
import type { Syscalls } from "../../core/kernel/types.ts";

/** Frame magic of rngd. */
export const RN_MAGIC = "RN";
/** Frame version of rngd. */
export const RN_VERSION = 1;

/** Asks for `len` bytes of entropy. */
export const RN_OP_GET = 1;

/** Request handled. */
export const RN_OK = 0;
/** Wrong magic, short or overlong frame. */
export const RN_MALFORMED = 1;
/** Wrong version or unknown op. */
export const RN_UNSUPPORTED = 2;
/** More bytes asked than {@link MAX_GET}. */
export const RN_TOO_LARGE = 3;

/** Most bytes one GET may ask for. */
export const MAX_GET = 4096;

/** A decoded rngd request, or the status refusing it. */
export type RngRequest =
  | { kind: "get"; len: number }
  | { kind: "error"; op: number; status: number };

/** Encodes a GET request for `len` bytes. */
export function encodeGet(len: number): Uint8Array {
  return frameWriter(RN_MAGIC, RN_VERSION, RN_OP_GET).u16(len).finish();
}

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): RngRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, RN_MAGIC, RN_VERSION, RN_MALFORMED, RN_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  if (op !== RN_OP_GET) return { kind: "error", op, status: RN_UNSUPPORTED };
  if (frame.length !== 6) return { kind: "error", op, status: RN_MALFORMED };
  const len = frame[4] | (frame[5] << 8);
  if (len > MAX_GET) return { kind: "error", op, status: RN_TOO_LARGE };
  return { kind: "get", len };
}

/** Encodes a status-only reply (errors). */
export function encodeStatusReply(op: number, status: number): Uint8Array {
  return replyWriter(RN_MAGIC, RN_VERSION, op & ~REPLY_BIT, status).finish();
}

/** Encodes a GET reply carrying `bytes`. */
export function encodeGetReply(bytes: Uint8Array): Uint8Array {
  return replyWriter(RN_MAGIC, RN_VERSION, RN_OP_GET, RN_OK).u16(bytes.length).bytes(bytes)
    .finish();
}

/** Thrown by the client helpers when rngd refuses a request or answers with a bad frame. */
export class RngdError extends Error {
  /** Creates an error for `status` (an RN_* status, or -1 for an undecodable reply). */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "RngdError";
  }
}

/** Decodes a GET reply into the bytes; throws {@link RngdError}. */
export function decodeGetReply(frame: Uint8Array): Uint8Array {
  if (
    !isReplyTo(frame, RN_MAGIC, RN_VERSION, RN_OP_GET)
  ) {
    throw new RngdError(-1, "not an rngd GET reply");
  }
  const status = frame[4];
  if (status !== RN_OK) throw new RngdError(status, `rngd refused GET: status ${status}`);
  try {
    const r = new ByteReader(frame);
    r.bytes(5);
    const bytes = r.bytes(r.u16());
    r.end();
    return bytes;
  } catch (err) {
    throw new RngdError(-1, `bad rngd GET reply: ${(err as Error).message}`);
  }
}

/** Fetches `len` bytes of entropy from rngd through `call`; throws {@link RngdError}. */
export async function rngGet(
  sys: Syscalls,
  rngdSlot: number,
  replySlot: number,
  len: number,
): Promise<Uint8Array> {
  const reply = await call(sys, rngdSlot, replySlot, encodeGet(len));
  const bytes = decodeGetReply(reply.data);
  if (bytes.length !== len) {
    throw new RngdError(-1, `rngd returned ${bytes.length} bytes, asked for ${len}`);
  }
  return bytes;
}
