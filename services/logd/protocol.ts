/**
 * logd's frames, `LG` v1 (a nexus frame family; docs/protocols.md only names it, so this file is its
 * definition). Every frame starts with `"LG", version 1, op`; a reply sets bit 7 of the op and
 * carries a status byte next.
 *
 * | op | request | reply (after `status`) |
 * |---|---|---|
 * | 1 APPEND | `len u16, text` (UTF-8, at most {@link MAX_RECORD_BYTES}) | `seq u32` |
 * | 2 QUERY | `since u32, limit u16` | `held u32, appended u32, dropped u32, rejected u32, count u16, count x (seq u32, source u64, time u64, len u16, text)` |
 *
 * APPEND is fire-and-forget for auditors: sent without a reply cap it gets no reply, so a full
 * logd queue never blocks the sender (it sends with `nonblock`). `source` in a QUERY record is
 * the kernel-reported identity of the task that appended it, never a payload field; `time` is the
 * virtual time (ns) at which logd took the record. QUERY returns records with `seq >= since`,
 * oldest first, at most `limit`, and no more than fit in one frame; `appended` counts every
 * record ever accepted, `dropped` those evicted by the bound, `rejected` the frames refused.
 *
 * Statuses: 0 OK, 1 MALFORMED (wrong magic, short or inconsistent frame, invalid UTF-8),
 * 2 UNSUPPORTED (wrong version, unknown op), 3 TOO_LARGE (a record over {@link MAX_RECORD_BYTES}).
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
import { KernelError, MAX_FRAME, type Syscalls } from "../../core/kernel/types.ts";

/** Frame magic of logd. */
export const LG_MAGIC = "LG";
/** Frame version of logd. */
export const LG_VERSION = 1;

/** Appends one record. */
export const LG_OP_APPEND = 1;
/** Reads records back (tests and diagnostics). */
export const LG_OP_QUERY = 2;

/** Request handled. */
export const LG_OK = 0;
/** Wrong magic, short or inconsistent frame, invalid UTF-8. */
export const LG_MALFORMED = 1;
/** Wrong version or unknown op. */
export const LG_UNSUPPORTED = 2;
/** A record longer than {@link MAX_RECORD_BYTES}. */
export const LG_TOO_LARGE = 3;

/** Longest record text, in UTF-8 bytes. */
export const MAX_RECORD_BYTES = 1024;

/** Bytes a QUERY reply spends before its records. */
const QUERY_REPLY_FIXED = 5 + 4 * 4 + 2;
/** Bytes one QUERY record spends besides its text. */
const QUERY_RECORD_FIXED = 4 + 8 + 8 + 2;

/** One stored audit record. */
export interface LogRecord {
  /** Sequence number: position among every record ever accepted, from 0. */
  seq: number;
  /** Kernel-reported identity (FNV-1a-64 of the name) of the task that appended it. */
  source: bigint;
  /** Virtual time (ns) at which logd took it. */
  time: number;
  /** The record text. */
  text: string;
}

/** A decoded QUERY reply. */
export interface LogQueryResult {
  /** Records currently held. */
  held: number;
  /** Records ever accepted. */
  appended: number;
  /** Records evicted because the sink was full. */
  dropped: number;
  /** Frames refused (malformed, unsupported, too large). */
  rejected: number;
  /** The records returned, oldest first. */
  records: LogRecord[];
}

/** A decoded logd request, or the status refusing it. */
export type LogRequest =
  | { kind: "append"; text: string }
  | { kind: "query"; since: number; limit: number }
  | { kind: "error"; op: number; status: number };

/** Encodes an APPEND request. Throws RangeError when `text` is over {@link MAX_RECORD_BYTES}. */
export function encodeAppend(text: string): Uint8Array {
  const bytes = utf8(text);
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RangeError(`log record of ${bytes.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  }
  return frameWriter(LG_MAGIC, LG_VERSION, LG_OP_APPEND).u16(bytes.length).bytes(bytes).finish();
}

/** Encodes a QUERY request for records with `seq >= since`, at most `limit` of them. */
export function encodeQuery(since: number, limit: number): Uint8Array {
  return frameWriter(LG_MAGIC, LG_VERSION, LG_OP_QUERY).u32(since).u16(limit).finish();
}

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): LogRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, LG_MAGIC, LG_VERSION, LG_MALFORMED, LG_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const r = new ByteReader(frame);
  r.bytes(4);
  try {
    switch (op) {
      case LG_OP_APPEND: {
        const len = r.u16();
        if (len > MAX_RECORD_BYTES) return { kind: "error", op, status: LG_TOO_LARGE };
        const text = r.str(len);
        r.end();
        return { kind: "append", text };
      }
      case LG_OP_QUERY: {
        const since = r.u32();
        const limit = r.u16();
        r.end();
        return { kind: "query", since, limit };
      }
      default:
        return { kind: "error", op, status: LG_UNSUPPORTED };
    }
  } catch {
    return { kind: "error", op, status: LG_MALFORMED };
  }
}

/** Encodes a status-only reply (errors). */
export function encodeStatusReply(op: number, status: number): Uint8Array {
  return replyWriter(LG_MAGIC, LG_VERSION, op & ~REPLY_BIT, status).finish();
}

/** Encodes an APPEND reply carrying the record's sequence number. */
export function encodeAppendReply(seq: number): Uint8Array {
  return replyWriter(LG_MAGIC, LG_VERSION, LG_OP_APPEND, LG_OK).u32(seq).finish();
}

/**
 * Encodes a QUERY reply. Records are taken in order while they fit in one frame, so a client
 * pages on with `since = last seq + 1`.
 */
export function encodeQueryReply(result: LogQueryResult): Uint8Array {
  const w = replyWriter(LG_MAGIC, LG_VERSION, LG_OP_QUERY, LG_OK)
    .u32(result.held).u32(result.appended).u32(result.dropped).u32(result.rejected);
  const body: Uint8Array[] = [];
  let size = QUERY_REPLY_FIXED;
  for (const rec of result.records) {
    const text = utf8(rec.text);
    if (size + QUERY_RECORD_FIXED + text.length > MAX_FRAME) break;
    size += QUERY_RECORD_FIXED + text.length;
    body.push(text);
  }
  w.u16(body.length);
  body.forEach((text, i) => {
    const rec = result.records[i];
    w.u32(rec.seq).u64(rec.source).u64(BigInt(rec.time)).u16(text.length).bytes(text);
  });
  return w.finish();
}

/** Thrown by the client helpers when logd answers with a non-OK status or a bad frame. */
export class LogdError extends Error {
  /** Creates an error for `status` (a LG_* status, or -1 for an undecodable reply). */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "LogdError";
  }
}

function checkReply(frame: Uint8Array, op: number): ByteReader {
  if (
    !isReplyTo(frame, LG_MAGIC, LG_VERSION, op)
  ) {
    throw new LogdError(-1, "not a logd reply");
  }
  const r = new ByteReader(frame);
  r.bytes(4);
  const status = r.u8();
  if (status !== LG_OK) throw new LogdError(status, `logd refused op ${op}: status ${status}`);
  return r;
}

/** Decodes an APPEND reply into the sequence number; throws {@link LogdError}. */
export function decodeAppendReply(frame: Uint8Array): number {
  try {
    const r = checkReply(frame, LG_OP_APPEND);
    const seq = r.u32();
    r.end();
    return seq;
  } catch (err) {
    if (err instanceof LogdError) throw err;
    throw new LogdError(-1, `bad logd APPEND reply: ${(err as Error).message}`);
  }
}

/** Decodes a QUERY reply; throws {@link LogdError}. */
export function decodeQueryReply(frame: Uint8Array): LogQueryResult {
  try {
    const r = checkReply(frame, LG_OP_QUERY);
    const held = r.u32();
    const appended = r.u32();
    const dropped = r.u32();
    const rejected = r.u32();
    const count = r.u16();
    const records: LogRecord[] = [];
    for (let i = 0; i < count; i++) {
      const seq = r.u32();
      const source = r.u64();
      const time = Number(r.u64());
      const text = r.str(r.u16());
      records.push({ seq, source, time, text });
    }
    r.end();
    return { held, appended, dropped, rejected, records };
  } catch (err) {
    if (err instanceof LogdError) throw err;
    throw new LogdError(-1, `bad logd QUERY reply: ${(err as Error).message}`);
  }
}

/**
 * Sends one record to logd without waiting: no reply cap travels and the send is nonblocking, so
 * the caller never stalls on logd. Returns false when the record could not be queued (logd busy
 * or gone); the caller decides whether to count that.
 */
export async function logAppend(sys: Syscalls, logdSlot: number, text: string): Promise<boolean> {
  const frame = encodeAppend(text);
  try {
    await sys.send(logdSlot, frame, { nonblock: true });
    return true;
  } catch (err) {
    if (err instanceof KernelError) return false;
    throw err;
  }
}

/** Queries logd through `call` (with the reply inbox in `replySlot`). */
export async function logQuery(
  sys: Syscalls,
  logdSlot: number,
  replySlot: number,
  since = 0,
  limit = 0xffff,
): Promise<LogQueryResult> {
  const reply = await call(sys, logdSlot, replySlot, encodeQuery(since, limit));
  return decodeQueryReply(reply.data);
}
