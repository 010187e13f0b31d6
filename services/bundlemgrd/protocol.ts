/**
 * bundlemgrd's frames, `BN` v1 (docs/protocols.md, "bundlemgrd"; the reply bodies are defined here).
 * Every frame starts with `"BN", version 1, op`; a reply sets bit 7 of the op and carries a
 * status byte next. Slot ids on the wire: 1 = A, 2 = B.
 *
 * | op | request | reply (after `status`) |
 * |---|---|---|
 * | 1 LIST | (nothing) | `active u8, count u8, count x (slot u8, version_len u8, version)` |
 * | 3 FETCH_IMAGE | (nothing) | `slot u8, len u16, properties` (the active slot's) |
 * | 4 SET_ACTIVE_SLOT | `slot u8` | `active u8` |
 *
 * Build properties are UTF-8 `key=value` lines, each ended by `\n`, keys sorted, so the same
 * configuration always gives the same bytes.
 *
 * Statuses: 0 OK, 1 MALFORMED (wrong magic, short or overlong frame, a slot other than 1 or 2),
 * 2 UNSUPPORTED (wrong version, unknown op), 3 DENIED (SET_ACTIVE_SLOT from a sender policyd does
 * not grant `bundle.set_active`; nothing changes). Error replies carry only the status.
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
  utf8,
} from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";

/** Frame magic of bundlemgrd. */
export const BN_MAGIC = "BN";
/** Frame version of bundlemgrd. */
export const BN_VERSION = 1;

/** Lists the slots. */
export const BN_OP_LIST = 1;
/** Returns the active slot's build properties. */
export const BN_OP_FETCH_IMAGE = 3;
/** Publishes a new active slot. */
export const BN_OP_SET_ACTIVE_SLOT = 4;

/** Request handled. */
export const BN_OK = 0;
/** Wrong magic, short or overlong frame, bad slot id. */
export const BN_MALFORMED = 1;
/** Wrong version or unknown op. */
export const BN_UNSUPPORTED = 2;
/** Status: the sender lacks the grant the request needs. */
export const BN_DENIED = 3;

/** Wire id of slot A. */
export const SLOT_A = 1;
/** Wire id of slot B. */
export const SLOT_B = 2;

/** A system slot's wire id. */
export type SlotId = typeof SLOT_A | typeof SLOT_B;

/** The letter of a slot id as markers spell it (`a` / `b`; `#n` for an id that is neither). */
export function slotLetter(slot: SlotId): "a" | "b";
/** The letter of a wire slot id that may be out of range (`#n` when neither A nor B). */
export function slotLetter(slot: number): string;
export function slotLetter(slot: number): string {
  return slot === SLOT_A ? "a" : slot === SLOT_B ? "b" : `#${slot}`;
}

/** One row of a LIST reply. */
export interface SlotRow {
  /** Slot id. */
  slot: SlotId;
  /** Build version held in the slot. */
  version: string;
}

/** A decoded LIST reply. */
export interface SlotList {
  /** The active slot. */
  active: SlotId;
  /** Every slot, A first. */
  slots: SlotRow[];
}

/** A decoded FETCH_IMAGE reply. */
export interface ImageInfo {
  /** The slot the properties belong to (the active one). */
  slot: SlotId;
  /** The build properties text. */
  properties: string;
}

/** A decoded bundlemgrd request, or the status refusing it. */
export type BundleRequest =
  | { kind: "list" }
  | { kind: "fetch_image" }
  | { kind: "set_active"; slot: SlotId }
  | { kind: "error"; op: number; status: number };

/** Encodes a LIST request. */
export function encodeList(): Uint8Array {
  return frameWriter(BN_MAGIC, BN_VERSION, BN_OP_LIST).finish();
}

/** Encodes a FETCH_IMAGE request. */
export function encodeFetchImage(): Uint8Array {
  return frameWriter(BN_MAGIC, BN_VERSION, BN_OP_FETCH_IMAGE).finish();
}

/** Encodes a SET_ACTIVE_SLOT request (any byte, so tests can send bad ids). */
export function encodeSetActiveSlot(slot: number): Uint8Array {
  return frameWriter(BN_MAGIC, BN_VERSION, BN_OP_SET_ACTIVE_SLOT).u8(slot).finish();
}

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): BundleRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, BN_MAGIC, BN_VERSION, BN_MALFORMED, BN_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const malformed: BundleRequest = { kind: "error", op, status: BN_MALFORMED };
  switch (op) {
    case BN_OP_LIST:
      return frame.length === 4 ? { kind: "list" } : malformed;
    case BN_OP_FETCH_IMAGE:
      return frame.length === 4 ? { kind: "fetch_image" } : malformed;
    case BN_OP_SET_ACTIVE_SLOT: {
      if (frame.length !== 5) return malformed;
      const slot = frame[4];
      return slot === SLOT_A || slot === SLOT_B ? { kind: "set_active", slot } : malformed;
    }
    default:
      return { kind: "error", op, status: BN_UNSUPPORTED };
  }
}

/** Encodes a status-only reply (errors). */
export function encodeStatusReply(op: number, status: number): Uint8Array {
  return replyWriter(BN_MAGIC, BN_VERSION, op & ~REPLY_BIT, status).finish();
}

/** Encodes a LIST reply. */
export function encodeListReply(list: SlotList): Uint8Array {
  const w = replyWriter(BN_MAGIC, BN_VERSION, BN_OP_LIST, BN_OK).u8(list.active)
    .u8(list.slots.length);
  for (const row of list.slots) {
    const version = utf8(row.version);
    w.u8(row.slot).u8(version.length).bytes(version);
  }
  return w.finish();
}

/** Encodes a FETCH_IMAGE reply. */
export function encodeFetchImageReply(info: ImageInfo): Uint8Array {
  const props = utf8(info.properties);
  return replyWriter(BN_MAGIC, BN_VERSION, BN_OP_FETCH_IMAGE, BN_OK).u8(info.slot)
    .u16(props.length).bytes(props).finish();
}

/** Encodes a SET_ACTIVE_SLOT reply. */
export function encodeSetActiveReply(active: SlotId): Uint8Array {
  return replyWriter(BN_MAGIC, BN_VERSION, BN_OP_SET_ACTIVE_SLOT, BN_OK).u8(active).finish();
}

/** Thrown by the decoders and client helpers for a refusal or a frame that is not the reply. */
export class BundlemgrdError extends Error {
  /** Creates an error for `status` (a BN_* status, or -1 for an undecodable reply). */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "BundlemgrdError";
  }
}

function readSlot(r: ByteReader): SlotId {
  const slot = r.u8();
  if (slot !== SLOT_A && slot !== SLOT_B) throw new RangeError(`bad slot id ${slot}`);
  return slot;
}

/** Checks the reply header and status, then runs `body` on the rest; throws BundlemgrdError. */
function decodeReply<T>(frame: Uint8Array, op: number, body: (r: ByteReader) => T): T {
  if (
    !isReplyTo(frame, BN_MAGIC, BN_VERSION, op)
  ) {
    throw new BundlemgrdError(-1, `not a bundlemgrd reply to op ${op}`);
  }
  if (frame[4] !== BN_OK) {
    throw new BundlemgrdError(frame[4], `bundlemgrd refused op ${op}: status ${frame[4]}`);
  }
  try {
    const r = new ByteReader(frame);
    r.bytes(5);
    const value = body(r);
    r.end();
    return value;
  } catch (err) {
    throw new BundlemgrdError(-1, `bad bundlemgrd reply to op ${op}: ${(err as Error).message}`);
  }
}

/** Decodes a LIST reply. */
export function decodeListReply(frame: Uint8Array): SlotList {
  return decodeReply(frame, BN_OP_LIST, (r) => {
    const active = readSlot(r);
    const count = r.u8();
    const slots: SlotRow[] = [];
    for (let i = 0; i < count; i++) {
      const slot = readSlot(r);
      slots.push({ slot, version: r.str(r.u8()) });
    }
    return { active, slots };
  });
}

/** Decodes a FETCH_IMAGE reply. */
export function decodeFetchImageReply(frame: Uint8Array): ImageInfo {
  return decodeReply(frame, BN_OP_FETCH_IMAGE, (r) => {
    const slot = readSlot(r);
    return { slot, properties: r.str(r.u16()) };
  });
}

/** Decodes a SET_ACTIVE_SLOT reply into the now active slot. */
export function decodeSetActiveReply(frame: Uint8Array): SlotId {
  return decodeReply(frame, BN_OP_SET_ACTIVE_SLOT, readSlot);
}

/** Parses a build properties text into its pairs (in text order). */
export function parseProperties(text: string): Array<[string, string]> {
  return text.split("\n").filter((line) => line.length > 0).map((line) => {
    const eq = line.indexOf("=");
    if (eq <= 0) throw new BundlemgrdError(-1, `bad property line "${line}"`);
    return [line.slice(0, eq), line.slice(eq + 1)];
  });
}

/** LIST through `call`. */
export async function bundleList(
  sys: Syscalls,
  bundlemgrdSlot: number,
  replySlot: number,
): Promise<SlotList> {
  return decodeListReply((await call(sys, bundlemgrdSlot, replySlot, encodeList())).data);
}

/** FETCH_IMAGE through `call`. */
export async function bundleFetchImage(
  sys: Syscalls,
  bundlemgrdSlot: number,
  replySlot: number,
): Promise<ImageInfo> {
  const reply = await call(sys, bundlemgrdSlot, replySlot, encodeFetchImage());
  return decodeFetchImageReply(reply.data);
}

/** SET_ACTIVE_SLOT through `call`; resolves to the now active slot. */
export async function bundleSetActiveSlot(
  sys: Syscalls,
  bundlemgrdSlot: number,
  replySlot: number,
  slot: SlotId,
): Promise<SlotId> {
  const reply = await call(sys, bundlemgrdSlot, replySlot, encodeSetActiveSlot(slot));
  return decodeSetActiveReply(reply.data);
}
