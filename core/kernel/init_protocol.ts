/**
 * init's frames (FORMATS.md, "IPC frames") and the client helpers services use to reach init
 * through their reserved slot 1.
 *
 * `RT` v1, routing:
 *
 * | op | request | reply |
 * |---|---|---|
 * | 0x40 ROUTE_GET | `name_len u8, name, [nonce u32]` | op 0x41: `status, send_slot u32, recv_slot u32, [nonce u32]` (13 bytes, 17 with a nonce) |
 *
 * Statuses: 0 OK, 1 NOT_FOUND, 2 MALFORMED, 3 DENIED. The reply carries the request's nonce when
 * it had one, so a client can match it. `@reply` as the name asks for the caller's own reply
 * inbox (send = recv = its `reply` slot). A frame init cannot read (wrong magic, version or op,
 * bad length, empty or non-UTF-8 name) is answered MALFORMED: RT has no UNSUPPORTED status.
 *
 * `IH` v1, health: op 1 HEALTH_OK `[nonce u32]` -> op 0x81 `status, [nonce u32]`; 0 OK,
 * 1 FAILED (also for a frame init cannot read), 2 DENIED (the sender lacks the `init.health`
 * grant; nothing is forwarded).
 *
 * `IC` v1, control (init -> a service's control inbox in slot 2): op 1 START, no body. init
 * spawns every service gated on it and sends it once the whole system is wired and init is
 * about to serve, so no service runs before `init: ready`.
 *
 * These frames live beside the kernel contract rather than in `init/` because every task speaks
 * them on the slots the kernel reserves (1 and 2), and services may import core but not init.
 *
 * @module
 */

import { ByteReader, FrameError, frameWriter, readHeader, utf8 } from "./frame.ts";
import { call } from "./rpc.ts";
import { type Message, SLOT_CTRL_RECV, SLOT_CTRL_SEND, type Syscalls } from "./types.ts";

/** Routing frame magic. */
export const RT_MAGIC = "RT";
/** Routing frame version. */
export const RT_VERSION = 1;
/** ROUTE_GET request op. */
export const RT_OP_ROUTE_GET = 0x40;
/** ROUTE_GET reply op (FORMATS.md gives 0x41, not 0x40 | 0x80). */
export const RT_OP_ROUTE_REPLY = 0x41;
/** Route found and allowed. */
export const RT_OK = 0;
/** The manifest gives the caller no slot reaching that name. */
export const RT_NOT_FOUND = 1;
/** init could not read the request. */
export const RT_MALFORMED = 2;
/** policyd does not let the caller route to that name. */
export const RT_DENIED = 3;
/** Length of a ROUTE_GET reply without / with a nonce. */
export const RT_REPLY_LEN = 13;
/** Length of a ROUTE_GET reply with a nonce. */
export const RT_REPLY_LEN_NONCE = 17;
/** The name that asks for the caller's own reply inbox. */
export const REPLY_ROUTE_NAME = "@reply";

/** Health frame magic. */
export const IH_MAGIC = "IH";
/** Health frame version. */
export const IH_VERSION = 1;
/** HEALTH_OK request op. */
export const IH_OP_HEALTH_OK = 1;
/** Health accepted (and, with updated in the system, committed by it). */
export const IH_OK = 0;
/** Health refused or not deliverable, or a frame init could not read. */
export const IH_FAILED = 1;
/** IH status: the sender is not granted health reports. */
export const IH_DENIED = 2;

/** Control frame magic. */
export const IC_MAGIC = "IC";
/** Control frame version. */
export const IC_VERSION = 1;
/** START: the service may run. */
export const IC_OP_START = 1;

/** Names of the RT statuses, for messages. */
export const RT_STATUS_NAMES: Readonly<Record<number, string>> = {
  [RT_OK]: "OK",
  [RT_NOT_FOUND]: "NOT_FOUND",
  [RT_MALFORMED]: "MALFORMED",
  [RT_DENIED]: "DENIED",
};

/** A decoded ROUTE_GET request, or the reason it is malformed. */
export type RouteRequest =
  | { kind: "route"; name: string; nonce?: number }
  | { kind: "malformed"; reason: string };

/** A decoded ROUTE_GET reply. */
export interface RouteReply {
  /** RT_OK, RT_NOT_FOUND, RT_MALFORMED or RT_DENIED. */
  status: number;
  /** Slot in the asker's table that holds SEND to the service. */
  sendSlot: number;
  /** Slot in the asker's table where replies arrive (its reply inbox). */
  recvSlot: number;
  /** The request's nonce, when it carried one. */
  nonce?: number;
}

/** A decoded HEALTH_OK request. */
export type HealthRequest =
  | { kind: "health"; nonce?: number }
  | { kind: "malformed"; reason: string };

/** A decoded HEALTH_OK reply. */
export interface HealthReply {
  /** IH_OK or IH_FAILED. */
  status: number;
  /** The request's nonce, when it carried one. */
  nonce?: number;
}

/** Encodes ROUTE_GET for `name` (1..255 UTF-8 bytes), with a nonce when given. */
export function encodeRouteGet(name: string, nonce?: number): Uint8Array {
  const bytes = utf8(name);
  if (bytes.length < 1 || bytes.length > 0xff) {
    throw new RangeError(`route name must be 1..255 UTF-8 bytes, got ${bytes.length}`);
  }
  const w = frameWriter(RT_MAGIC, RT_VERSION, RT_OP_ROUTE_GET).u8(bytes.length).bytes(bytes);
  if (nonce !== undefined) w.u32(nonce >>> 0);
  return w.finish();
}

/** Decodes a ROUTE_GET request; never throws. */
export function decodeRouteGet(frame: Uint8Array): RouteRequest {
  const h = readHeader(frame);
  if (h === null) return { kind: "malformed", reason: "short frame" };
  if (h.magic !== RT_MAGIC) {
    return { kind: "malformed", reason: `magic ${JSON.stringify(h.magic)}` };
  }
  if (h.version !== RT_VERSION) return { kind: "malformed", reason: `version ${h.version}` };
  if (h.op !== RT_OP_ROUTE_GET) return { kind: "malformed", reason: `op 0x${h.op.toString(16)}` };
  try {
    const r = new ByteReader(frame);
    r.bytes(4);
    const len = r.u8();
    if (len === 0) return { kind: "malformed", reason: "empty name" };
    const name = r.str(len);
    if (r.remaining === 0) return { kind: "route", name };
    if (r.remaining === 4) return { kind: "route", name, nonce: r.u32() };
    return { kind: "malformed", reason: `${r.remaining} trailing bytes` };
  } catch (err) {
    if (err instanceof FrameError) return { kind: "malformed", reason: err.message };
    throw err;
  }
}

/** Encodes a ROUTE_GET reply; the nonce is echoed when the request had one. */
export function encodeRouteReply(
  status: number,
  sendSlot: number,
  recvSlot: number,
  nonce?: number,
): Uint8Array {
  const w = frameWriter(RT_MAGIC, RT_VERSION, RT_OP_ROUTE_REPLY).u8(status).u32(sendSlot)
    .u32(recvSlot);
  if (nonce !== undefined) w.u32(nonce >>> 0);
  return w.finish();
}

/** Decodes a ROUTE_GET reply; null when the frame is not one. */
export function decodeRouteReply(frame: Uint8Array): RouteReply | null {
  const h = readHeader(frame);
  if (
    h === null || h.magic !== RT_MAGIC || h.version !== RT_VERSION ||
    h.op !== RT_OP_ROUTE_REPLY ||
    (frame.length !== RT_REPLY_LEN && frame.length !== RT_REPLY_LEN_NONCE)
  ) {
    return null;
  }
  const r = new ByteReader(frame);
  r.bytes(4);
  const out: RouteReply = { status: r.u8(), sendSlot: r.u32(), recvSlot: r.u32() };
  if (r.remaining === 4) out.nonce = r.u32();
  return out;
}

/** Encodes HEALTH_OK, with a nonce when given. */
export function encodeHealthOk(nonce?: number): Uint8Array {
  const w = frameWriter(IH_MAGIC, IH_VERSION, IH_OP_HEALTH_OK);
  if (nonce !== undefined) w.u32(nonce >>> 0);
  return w.finish();
}

/** Decodes a HEALTH_OK request; never throws. */
export function decodeHealthOk(frame: Uint8Array): HealthRequest {
  const h = readHeader(frame);
  if (h === null || h.magic !== IH_MAGIC) return { kind: "malformed", reason: "not an IH frame" };
  if (h.version !== IH_VERSION) return { kind: "malformed", reason: `version ${h.version}` };
  if (h.op !== IH_OP_HEALTH_OK) return { kind: "malformed", reason: `op 0x${h.op.toString(16)}` };
  if (frame.length === 4) return { kind: "health" };
  if (frame.length === 8) {
    return {
      kind: "health",
      nonce: new DataView(frame.buffer, frame.byteOffset + 4, 4).getUint32(0, true),
    };
  }
  return { kind: "malformed", reason: `${frame.length - 4} body bytes` };
}

/** Encodes a HEALTH_OK reply; the nonce is echoed when the request had one. */
export function encodeHealthReply(status: number, nonce?: number): Uint8Array {
  const w = frameWriter(IH_MAGIC, IH_VERSION, IH_OP_HEALTH_OK | 0x80).u8(status);
  if (nonce !== undefined) w.u32(nonce >>> 0);
  return w.finish();
}

/** Decodes a HEALTH_OK reply; null when the frame is not one. */
export function decodeHealthReply(frame: Uint8Array): HealthReply | null {
  const h = readHeader(frame);
  if (
    h === null || h.magic !== IH_MAGIC || h.version !== IH_VERSION ||
    h.op !== (IH_OP_HEALTH_OK | 0x80) || (frame.length !== 5 && frame.length !== 9)
  ) {
    return null;
  }
  const out: HealthReply = { status: frame[4] };
  if (frame.length === 9) {
    out.nonce = new DataView(frame.buffer, frame.byteOffset + 5, 4).getUint32(0, true);
  }
  return out;
}

/** Encodes the START control frame. */
export function encodeStart(): Uint8Array {
  return frameWriter(IC_MAGIC, IC_VERSION, IC_OP_START).finish();
}

/** True when `frame` is the START control frame. */
export function isStart(frame: Uint8Array): boolean {
  const h = readHeader(frame);
  return h !== null && frame.length === 4 && h.magic === IC_MAGIC && h.version === IC_VERSION &&
    h.op === IC_OP_START;
}

/**
 * Waits on the control inbox (slot 2) until init's START arrives; other control frames are
 * dropped. init wraps every service body in this.
 */
export async function awaitStart(sys: Syscalls): Promise<void> {
  for (;;) {
    const msg = await sys.recv(SLOT_CTRL_RECV);
    if (msg.capSlot !== undefined) sys.capClose(msg.capSlot);
    if (isStart(msg.data)) return;
  }
}

/** Thrown by the client helpers when init answers a frame that is not the expected reply. */
export class InitReplyError extends Error {
  /** Creates an error with a message. */
  constructor(message: string) {
    super(message);
    this.name = "InitReplyError";
  }
}

/** Options for {@link routeGet} and {@link reportHealth}. */
export interface InitCallOptions {
  /** Nonce to send; the reply with the same nonce is the answer (stale replies are skipped). */
  nonce?: number;
  /** Absolute virtual time (ns) by which the answer must arrive. */
  deadline?: number;
}

function nonceMatch(nonce: number | undefined, decode: (m: Message) => { nonce?: number } | null) {
  if (nonce === undefined) return undefined;
  return (m: Message) => decode(m)?.nonce === (nonce >>> 0);
}

/**
 * Asks init (slot 1) for the route to `name`, with the reply cap from the caller's reply inbox in
 * `replySlot`. Resolves to the answer (any status); rejects with KernelError when the call fails
 * or {@link InitReplyError} when the answer is not an RT reply.
 */
export async function routeGet(
  sys: Syscalls,
  replySlot: number,
  name: string,
  opts: InitCallOptions = {},
): Promise<RouteReply> {
  const reply = await call(sys, SLOT_CTRL_SEND, replySlot, encodeRouteGet(name, opts.nonce), {
    deadline: opts.deadline,
    match: nonceMatch(opts.nonce, (m) => decodeRouteReply(m.data)),
  });
  const decoded = decodeRouteReply(reply.data);
  if (decoded === null) throw new InitReplyError("init answered a frame that is not an RT reply");
  return decoded;
}

/**
 * Reports health to init (slot 1). Resolves to the IH status; rejects like {@link routeGet}.
 */
export async function reportHealth(
  sys: Syscalls,
  replySlot: number,
  opts: InitCallOptions = {},
): Promise<number> {
  const reply = await call(sys, SLOT_CTRL_SEND, replySlot, encodeHealthOk(opts.nonce), {
    deadline: opts.deadline,
    match: nonceMatch(opts.nonce, (m) => decodeHealthReply(m.data)),
  });
  const decoded = decodeHealthReply(reply.data);
  if (decoded === null) throw new InitReplyError("init answered a frame that is not an IH reply");
  return decoded.status;
}
