/**
 * samgrd's frames, `SM` v1 (FORMATS.md, "IPC frames"). Every frame starts with
 * `"SM", version 1, op`; every reply is exactly 13 bytes: `"SM", 1, op | 0x80, status,
 * send u32, recv u32` (send and recv are 0 unless the status is OK).
 *
 * | op | request |
 * |---|---|
 * | 1 REGISTER | `name_len u8, send u32, recv u32, name` |
 * | 2 LOOKUP | `name_len u8, name` |
 *
 * REGISTER answers the slots it stored; LOOKUP the slots registered under the name. Names are
 * UTF-8, 1..{@link MAX_NAME_BYTES} bytes; slot numbers must lie in the cap table (0..95). Slot
 * numbers mean something only in the caller's own cap table, so every caller (kernel-reported
 * identity) has a namespace of its own: a name one caller registered is NOT_FOUND for another.
 *
 * Statuses: 0 OK, 1 NOT_FOUND, 2 MALFORMED (wrong magic, short or overlong frame, bad name or
 * slot), 3 UNSUPPORTED (wrong version, unknown op), 4 FULL (the caller already holds
 * {@link MAX_NAMES_PER_CALLER} names, or samgrd tracks {@link MAX_CALLERS} callers; a nexus
 * addition to the FORMATS.md statuses so the registry stays bounded).
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
import { call } from "../../core/kernel/rpc.ts";
import { CAP_SLOTS, type Syscalls } from "../../core/kernel/types.ts";

/** Frame magic of samgrd. */
export const SM_MAGIC = "SM";
/** Frame version of samgrd. */
export const SM_VERSION = 1;

/** Registers a name with a send/recv slot pair. */
export const SM_OP_REGISTER = 1;
/** Looks a name up. */
export const SM_OP_LOOKUP = 2;

/** Request handled. */
export const SM_OK = 0;
/** No such name in the caller's namespace. */
export const SM_NOT_FOUND = 1;
/** Wrong magic, short or overlong frame, bad name or slot number. */
export const SM_MALFORMED = 2;
/** Wrong version or unknown op. */
export const SM_UNSUPPORTED = 3;
/** The registry bound is reached. */
export const SM_FULL = 4;

/** Length of every samgrd reply. */
export const SM_REPLY_LEN = 13;
/** Longest name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 64;
/** Names one caller may hold. */
export const MAX_NAMES_PER_CALLER = 64;
/** Distinct callers samgrd keeps namespaces for. */
export const MAX_CALLERS = 256;

/** A send/recv slot pair, as registered. */
export interface SlotPair {
  /** Slot holding SEND to the service (in the registrant's table). */
  send: number;
  /** Slot holding the matching reply inbox (in the registrant's table). */
  recv: number;
}

/** A decoded samgrd request, or the status refusing it. */
export type SamgrRequest =
  | { kind: "register"; name: string; send: number; recv: number }
  | { kind: "lookup"; name: string }
  | { kind: "error"; op: number; status: number };

/** A decoded samgrd reply. */
export interface SamgrReply extends SlotPair {
  /** The op answered (without the reply bit). */
  op: number;
  /** One of the SM_* statuses. */
  status: number;
}

function nameBytes(name: string): Uint8Array {
  const bytes = utf8(name);
  if (bytes.length > 0xff) throw new RangeError(`name of ${bytes.length} bytes exceeds 255`);
  return bytes;
}

/** Encodes a REGISTER request. */
export function encodeRegister(name: string, send: number, recv: number): Uint8Array {
  const bytes = nameBytes(name);
  return frameWriter(SM_MAGIC, SM_VERSION, SM_OP_REGISTER).u8(bytes.length).u32(send).u32(recv)
    .bytes(bytes).finish();
}

/** Encodes a LOOKUP request. */
export function encodeLookup(name: string): Uint8Array {
  const bytes = nameBytes(name);
  return frameWriter(SM_MAGIC, SM_VERSION, SM_OP_LOOKUP).u8(bytes.length).bytes(bytes).finish();
}

function validName(bytes: Uint8Array): boolean {
  return bytes.length >= 1 && bytes.length <= MAX_NAME_BYTES;
}

function validSlot(slot: number): boolean {
  return slot < CAP_SLOTS;
}

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): SamgrRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, SM_MAGIC, SM_VERSION, SM_MALFORMED, SM_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const malformed: SamgrRequest = { kind: "error", op, status: SM_MALFORMED };
  const r = new ByteReader(frame);
  r.bytes(4);
  try {
    switch (op) {
      case SM_OP_REGISTER: {
        const len = r.u8();
        const send = r.u32();
        const recv = r.u32();
        const raw = r.bytes(len);
        r.end();
        if (!validName(raw) || !validSlot(send) || !validSlot(recv)) return malformed;
        return { kind: "register", name: new ByteReader(raw).str(len), send, recv };
      }
      case SM_OP_LOOKUP: {
        const len = r.u8();
        const raw = r.bytes(len);
        r.end();
        if (!validName(raw)) return malformed;
        return { kind: "lookup", name: new ByteReader(raw).str(len) };
      }
      default:
        return { kind: "error", op, status: SM_UNSUPPORTED };
    }
  } catch {
    return malformed;
  }
}

/** Encodes a 13-byte reply; `pair` only with status OK. */
export function encodeReply(op: number, status: number, pair?: SlotPair): Uint8Array {
  return frameWriter(SM_MAGIC, SM_VERSION, (op | REPLY_BIT) & 0xff).u8(status)
    .u32(pair?.send ?? 0).u32(pair?.recv ?? 0).finish();
}

/** Decodes a reply; null when the frame is not a 13-byte samgrd reply. */
export function decodeReply(frame: Uint8Array): SamgrReply | null {
  if (
    !isReplyTo(frame, SM_MAGIC, SM_VERSION) || frame.length !== SM_REPLY_LEN
  ) {
    return null;
  }
  const r = new ByteReader(frame);
  r.bytes(4);
  return { op: frame[3] & ~REPLY_BIT, status: r.u8(), send: r.u32(), recv: r.u32() };
}

/** Thrown by the client helpers when samgrd answers with a frame that is not a samgrd reply. */
export class SamgrdError extends Error {
  /** Creates an error with a message. */
  constructor(message: string) {
    super(message);
    this.name = "SamgrdError";
  }
}

async function roundTrip(
  sys: Syscalls,
  samgrdSlot: number,
  replySlot: number,
  request: Uint8Array,
  op: number,
): Promise<SamgrReply> {
  const reply = await call(sys, samgrdSlot, replySlot, request);
  const decoded = decodeReply(reply.data);
  if (decoded === null || decoded.op !== op) throw new SamgrdError("not a samgrd reply");
  return decoded;
}

/** Registers `name` with a slot pair in the caller's namespace; resolves to samgrd's reply. */
export function samgrRegister(
  sys: Syscalls,
  samgrdSlot: number,
  replySlot: number,
  name: string,
  pair: SlotPair,
): Promise<SamgrReply> {
  return roundTrip(
    sys,
    samgrdSlot,
    replySlot,
    encodeRegister(name, pair.send, pair.recv),
    SM_OP_REGISTER,
  );
}

/** Looks `name` up in the caller's namespace; resolves to samgrd's reply. */
export function samgrLookup(
  sys: Syscalls,
  samgrdSlot: number,
  replySlot: number,
  name: string,
): Promise<SamgrReply> {
  return roundTrip(sys, samgrdSlot, replySlot, encodeLookup(name), SM_OP_LOOKUP);
}

/** The name samgrd registers for itself in its own namespace (no other caller may see it). */
export const SAMGRD_SELF = "samgrd";
