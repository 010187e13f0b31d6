/**
 * statefsd's frames, `SF` v1 and v2 (docs/protocols.md, "statefsd"), plus the client helpers every
 * other service uses to reach `/state`.
 *
 * Request: `"SF", version, op`, then (v2 only) `nonce u64`, then the op's body.
 * Reply: `"SF", version, op | 0x80`, then (v2 only) `nonce u64`, then `status`, then the op's
 * body. docs/protocols.md puts the v2 nonce right after the 4-byte header in request and reply alike,
 * so the same offset finds it in both directions; the status byte follows it. A v2 reply echoes
 * the request's nonce, also on error replies.
 *
 * | op | request body | reply body (status OK) |
 * |---|---|---|
 * | 1 PUT | `key_len u16, val_len u32, key, value` | none |
 * | 2 GET | `key_len u16, key` | `val_len u32, value` |
 * | 3 DELETE | `key_len u16, key` | none |
 * | 4 LIST | `prefix_len u16, limit u16, prefix` | `count u16, count x (len u16, key)` |
 * | 5 SYNC | none | none |
 * | 6 REOPEN | none | none |
 * | 7 BATCH | `flags u8, count u16, count x (kind u8, key_len u16, val_len u32, key, value)` | none |
 * | 8 STATS | none | `generation u32, live_keys u32, records u32, bytes_used u32, region_bytes u32, compactions u32` |
 *
 * LIST returns the keys starting with `prefix` in byte order, at most `limit` of them (0 means no
 * limit) and no more than fit in one reply frame. A LIST prefix follows the key rules except that
 * it may end with `/`.
 *
 * BATCH (a nexus extension) applies its entries as one StateFS transaction: all of them or none,
 * also across a crash. `kind` 1 is a put, 2 a delete (its `val_len` must be 0). Flag bit 0
 * ({@link BATCH_FLAG_ABORT}) journals the transaction and then aborts it instead of committing, so
 * a caller can prove an aborted batch stays invisible after a replay. Unknown flag bits are
 * MALFORMED. Every entry is validated and authorised before anything is written.
 *
 * STATS (a nexus extension) reports the engine's counters: the superblock generation (it grows
 * with every compaction), live keys, records in the active journal, journal bytes used, the size
 * of the active region, and compactions since statefsd opened the store. It reveals no key or
 * value, so any sender may ask; a client churning the store watches `generation` to see a
 * compaction happen.
 *
 * Statuses: 0 OK, 1 NOT_FOUND, 2 ACCESS_DENIED, 3 VALUE_TOO_LARGE, 4 KEY_TOO_LONG, 5 INVALID_KEY,
 * 6 MALFORMED, 7 IO_ERROR, 8 UNSUPPORTED. Error replies carry only the status (and the nonce).
 * A wrong magic or a frame too short to hold its header gets MALFORMED in v1 layout; a version
 * other than 1 and 2 gets UNSUPPORTED in v1 layout; a v2 frame too short for its nonce gets
 * MALFORMED in v2 layout with nonce 0. Length caps are checked before the bytes they govern are
 * read, so a frame that only declares an oversized value is refused with VALUE_TOO_LARGE.
 *
 * @module
 */

import { ByteReader, FrameError, frameWriter, REPLY_BIT, utf8 } from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import { MAX_FRAME, type Message, type Syscalls } from "../../core/kernel/types.ts";
import { StateFsError } from "../../core/statefs/errors.ts";
import {
  checkKey as checkStoreKey,
  KEY_PREFIX,
  MAX_KEY_BYTES,
} from "../../core/statefs/journal.ts";

/** Frame magic of statefsd. */
export const SF_MAGIC = "SF";
/** Frame version without a nonce. */
export const SF_V1 = 1;
/** Frame version with a `nonce u64` after the header. */
export const SF_V2 = 2;

/** Stores a value under a key. */
export const SF_OP_PUT = 1;
/** Reads a value. */
export const SF_OP_GET = 2;
/** Removes a key. */
export const SF_OP_DELETE = 3;
/** Lists keys under a prefix. */
export const SF_OP_LIST = 4;
/** Makes every acknowledged write durable. */
export const SF_OP_SYNC = 5;
/** Reopens the store from the disk (a replay). */
export const SF_OP_REOPEN = 6;
/** Applies several puts and deletes as one transaction (nexus extension). */
export const SF_OP_BATCH = 7;
/** Reports the engine's counters (nexus extension). */
export const SF_OP_STATS = 8;

/** Request handled. */
export const SF_OK = 0;
/** No such key. */
export const SF_NOT_FOUND = 1;
/** The sender may not touch this key. */
export const SF_ACCESS_DENIED = 2;
/** A value over {@link MAX_VALUE_BYTES}. */
export const SF_VALUE_TOO_LARGE = 3;
/** A key over {@link MAX_KEY_BYTES}. */
export const SF_KEY_TOO_LONG = 4;
/** A key that breaks the key rules. */
export const SF_INVALID_KEY = 5;
/** Wrong magic, short or inconsistent frame. */
export const SF_MALFORMED = 6;
/** The disk or the engine failed. */
export const SF_IO_ERROR = 7;
/** Unknown version or op. */
export const SF_UNSUPPORTED = 8;

/** Names of the statuses, for messages. */
export const SF_STATUS_NAMES: Readonly<Record<number, string>> = {
  [SF_OK]: "OK",
  [SF_NOT_FOUND]: "NOT_FOUND",
  [SF_ACCESS_DENIED]: "ACCESS_DENIED",
  [SF_VALUE_TOO_LARGE]: "VALUE_TOO_LARGE",
  [SF_KEY_TOO_LONG]: "KEY_TOO_LONG",
  [SF_INVALID_KEY]: "INVALID_KEY",
  [SF_MALFORMED]: "MALFORMED",
  [SF_IO_ERROR]: "IO_ERROR",
  [SF_UNSUPPORTED]: "UNSUPPORTED",
};

/** Longest key, in UTF-8 bytes (docs/formats.md, "Keys"); the store's own limit. */
export { MAX_KEY_BYTES };
/** Bytes a v2 GET reply spends before the value: header, nonce, status, `val_len`. */
const GET_REPLY_OVERHEAD_V2 = 4 + 8 + 1 + 4;
/**
 * Largest value statefsd stores: the most a v2 GET reply can carry in one frame, so every stored
 * value can be read back.
 */
export const MAX_VALUE_BYTES = MAX_FRAME - GET_REPLY_OVERHEAD_V2;
/** Most entries one BATCH may carry. */
export const MAX_BATCH_ENTRIES = 256;
/** BATCH flag: journal the transaction, then abort it. */
export const BATCH_FLAG_ABORT = 0x01;
/** BATCH entry kind: put. */
export const BATCH_PUT = 1;
/** BATCH entry kind: delete. */
export const BATCH_DELETE = 2;
/** Every key lives under this prefix (the store's key prefix). */
export const STATE_ROOT: string = KEY_PREFIX;

/** One BATCH entry. */
export type BatchEntry =
  | { kind: "put"; key: string; value: Uint8Array }
  | { kind: "delete"; key: string };

/** A decoded request body. */
export type SfRequestBody =
  | { op: typeof SF_OP_PUT; key: string; value: Uint8Array }
  | { op: typeof SF_OP_GET; key: string }
  | { op: typeof SF_OP_DELETE; key: string }
  | { op: typeof SF_OP_LIST; prefix: string; limit: number }
  | { op: typeof SF_OP_SYNC }
  | { op: typeof SF_OP_REOPEN }
  | { op: typeof SF_OP_BATCH; abort: boolean; entries: BatchEntry[] }
  | { op: typeof SF_OP_STATS };

/** The counters a STATS reply carries. */
export interface SfStats {
  /** Superblock generation; each compaction increments it. */
  generation: number;
  /** Live keys. */
  liveKeys: number;
  /** Records in the active journal. */
  records: number;
  /** Journal bytes used in the active region. */
  bytesUsed: number;
  /** Bytes of the active region. */
  regionBytes: number;
  /** Compactions since statefsd opened the store. */
  compactions: number;
  /**
   * What statefsd did since it started, so a client can check a claim without trusting it:
   * GET requests the store answered (a RELOAD that reads the store shows here), mutating
   * requests applied since the last completed SYNC or compaction (0 = everything acknowledged is
   * durable), and sectors statefsd read from its disk (a REOPEN that replays shows here).
   * Absent in replies from a statefsd that does not count them.
   */
  counters?: SfCounters;
}

/** Activity counters of a STATS reply (see {@link SfStats.counters}). */
export interface SfCounters {
  /** GET requests answered from the store. */
  gets: number;
  /** PUT, DELETE and committed BATCH requests since the last completed SYNC or compaction. */
  unsynced: number;
  /** Sectors read from the disk since statefsd started. */
  sectorsRead: number;
}

/** Where a reply goes: the request's version, and its nonce for v2. */
export interface SfEnvelope {
  version: typeof SF_V1 | typeof SF_V2;
  /** The request's nonce (v2), echoed in the reply. */
  nonce?: bigint;
}

/** A decoded request, or the status refusing it (with what the error reply needs). */
export type SfDecoded =
  | ({ kind: "request" } & SfEnvelope & { body: SfRequestBody })
  | ({ kind: "error" } & SfEnvelope & { op: number; status: number });

/** Why a key or prefix is refused: KEY_TOO_LONG or INVALID_KEY, or null when it is fine. */
export function checkKey(key: string, opts: { prefix?: boolean } = {}): number | null {
  // The store's rules first (length, prefix, no "." or ".." component), then statefsd's stricter
  // ones: no empty component, and the bare root only as a prefix.
  try {
    checkStoreKey(key);
  } catch (err) {
    if (!(err instanceof StateFsError)) throw err;
    return err.code === "KEY_TOO_LONG" ? SF_KEY_TOO_LONG : SF_INVALID_KEY;
  }
  const rest = key.slice(STATE_ROOT.length);
  if (rest === "") return opts.prefix ? null : SF_INVALID_KEY;
  const parts = rest.split("/");
  // A prefix may end with "/" (a directory-like prefix); a key may not.
  if (opts.prefix && parts[parts.length - 1] === "") parts.pop();
  return parts.includes("") ? SF_INVALID_KEY : null;
}

/** Decodes a key of `len` bytes: non-UTF-8 is INVALID_KEY, the key rules apply. */
function readKey(r: ByteReader, len: number, prefix = false): string | number {
  const bytes = r.bytes(len);
  let key: string;
  try {
    key = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return SF_INVALID_KEY;
  }
  return checkKey(key, { prefix }) ?? key;
}

class Refusal {
  constructor(readonly status: number) {}
}

function keyOrRefuse(r: ByteReader, len: number, prefix = false): string {
  const key = readKey(r, len, prefix);
  if (typeof key === "number") throw new Refusal(key);
  return key;
}

function capKeyLen(len: number): void {
  if (len > MAX_KEY_BYTES) throw new Refusal(SF_KEY_TOO_LONG);
}

function capValueLen(len: number): void {
  if (len > MAX_VALUE_BYTES) throw new Refusal(SF_VALUE_TOO_LARGE);
}

function decodeBody(op: number, r: ByteReader): SfRequestBody {
  switch (op) {
    case SF_OP_PUT: {
      const keyLen = r.u16();
      const valLen = r.u32();
      capKeyLen(keyLen);
      capValueLen(valLen);
      if (r.remaining !== keyLen + valLen) throw new Refusal(SF_MALFORMED);
      const key = keyOrRefuse(r, keyLen);
      // A view of the received frame: the engine keeps its own copy.
      return { op, key, value: r.view(valLen) };
    }
    case SF_OP_GET:
    case SF_OP_DELETE: {
      const keyLen = r.u16();
      capKeyLen(keyLen);
      if (r.remaining !== keyLen) throw new Refusal(SF_MALFORMED);
      return { op, key: keyOrRefuse(r, keyLen) };
    }
    case SF_OP_LIST: {
      const prefixLen = r.u16();
      const limit = r.u16();
      capKeyLen(prefixLen);
      if (r.remaining !== prefixLen) throw new Refusal(SF_MALFORMED);
      return { op, prefix: keyOrRefuse(r, prefixLen, true), limit };
    }
    case SF_OP_SYNC:
    case SF_OP_REOPEN:
    case SF_OP_STATS:
      r.end();
      return { op };
    case SF_OP_BATCH: {
      const flags = r.u8();
      if ((flags & ~BATCH_FLAG_ABORT) !== 0) throw new Refusal(SF_MALFORMED);
      const count = r.u16();
      if (count > MAX_BATCH_ENTRIES) throw new Refusal(SF_MALFORMED);
      const entries: BatchEntry[] = [];
      // Shape first: a status about a key must not hide a malformed frame after it.
      const raw: Array<{ kind: number; keyLen: number; key: Uint8Array; value: Uint8Array }> = [];
      for (let i = 0; i < count; i++) {
        const kind = r.u8();
        const keyLen = r.u16();
        const valLen = r.u32();
        if (kind !== BATCH_PUT && kind !== BATCH_DELETE) throw new Refusal(SF_MALFORMED);
        if (kind === BATCH_DELETE && valLen !== 0) throw new Refusal(SF_MALFORMED);
        capKeyLen(keyLen);
        capValueLen(valLen);
        raw.push({ kind, keyLen, key: r.view(keyLen), value: r.view(valLen) });
      }
      r.end();
      for (const e of raw) {
        const key = keyOrRefuse(new ByteReader(e.key), e.keyLen);
        entries.push(
          e.kind === BATCH_PUT ? { kind: "put", key, value: e.value } : { kind: "delete", key },
        );
      }
      return { op, abort: (flags & BATCH_FLAG_ABORT) !== 0, entries };
    }
    default:
      throw new Refusal(SF_UNSUPPORTED);
  }
}

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): SfDecoded {
  const op = frame.length >= 4 ? frame[3] : 0;
  if (frame.length < 4 || frame[0] !== 0x53 || frame[1] !== 0x46) {
    return { kind: "error", version: SF_V1, op, status: SF_MALFORMED };
  }
  const version = frame[2];
  if (version !== SF_V1 && version !== SF_V2) {
    return { kind: "error", version: SF_V1, op, status: SF_UNSUPPORTED };
  }
  const r = new ByteReader(frame);
  r.skip(4);
  let nonce: bigint | undefined;
  if (version === SF_V2) {
    if (r.remaining < 8) return { kind: "error", version, nonce: 0n, op, status: SF_MALFORMED };
    nonce = r.u64();
  }
  try {
    return { kind: "request", version, nonce, body: decodeBody(op, r) };
  } catch (err) {
    if (err instanceof Refusal) return { kind: "error", version, nonce, op, status: err.status };
    if (err instanceof FrameError) {
      return { kind: "error", version, nonce, op, status: SF_MALFORMED };
    }
    throw err;
  }
}

function replyHead(env: SfEnvelope, op: number, status: number) {
  const w = frameWriter(SF_MAGIC, env.version, (op | REPLY_BIT) & 0xff);
  if (env.version === SF_V2) w.u64(env.nonce ?? 0n);
  return w.u8(status);
}

/** Encodes a reply that carries only a status (errors, PUT, DELETE, SYNC, REOPEN, BATCH). */
export function encodeStatusReply(env: SfEnvelope, op: number, status: number): Uint8Array {
  return replyHead(env, op & ~REPLY_BIT, status).finish();
}

/** Encodes a successful GET reply. */
export function encodeGetReply(env: SfEnvelope, value: Uint8Array): Uint8Array {
  return replyHead(env, SF_OP_GET, SF_OK).u32(value.length).bytes(value).finish();
}

/**
 * Encodes a successful LIST reply with as many of `keys` (in the given order) as fit in one
 * frame.
 */
export function encodeListReply(env: SfEnvelope, keys: readonly string[]): Uint8Array {
  const encoded: Uint8Array[] = [];
  let size = 4 + (env.version === SF_V2 ? 8 : 0) + 1 + 2;
  for (const key of keys) {
    const bytes = utf8(key);
    if (size + 2 + bytes.length > MAX_FRAME || encoded.length === 0xffff) break;
    size += 2 + bytes.length;
    encoded.push(bytes);
  }
  const w = replyHead(env, SF_OP_LIST, SF_OK).u16(encoded.length);
  for (const bytes of encoded) w.u16(bytes.length).bytes(bytes);
  return w.finish();
}

/** Encodes a successful STATS reply. */
export function encodeStatsReply(env: SfEnvelope, s: SfStats): Uint8Array {
  const w = replyHead(env, SF_OP_STATS, SF_OK).u32(s.generation).u32(s.liveKeys).u32(s.records)
    .u32(s.bytesUsed).u32(s.regionBytes).u32(s.compactions);
  if (s.counters !== undefined) {
    w.u32(s.counters.gets).u32(s.counters.unsynced).u32(s.counters.sectorsRead);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Requests (client side)

const V1: SfEnvelope = { version: SF_V1 };

function head(op: number, env: SfEnvelope) {
  const w = frameWriter(SF_MAGIC, env.version, op);
  if (env.version === SF_V2) w.u64(env.nonce ?? 0n);
  return w;
}

/** Thrown by the client helpers: statefsd refused a request, or the request cannot be sent. */
export class StatefsdError extends Error {
  /** Creates an error for `status` (an SF_* status, or -1 for an undecodable reply). */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "StatefsdError";
  }
  /** The status name (`NOT_FOUND`, ...), or `BAD_REPLY`. */
  get statusName(): string {
    return SF_STATUS_NAMES[this.status] ?? "BAD_REPLY";
  }
}

function checkedFrame(frame: Uint8Array): Uint8Array {
  if (frame.length > MAX_FRAME) {
    throw new StatefsdError(
      SF_VALUE_TOO_LARGE,
      `request of ${frame.length} bytes exceeds the ${MAX_FRAME}-byte frame limit`,
    );
  }
  return frame;
}

/** Encodes a PUT request. Throws {@link StatefsdError} when it cannot fit in one frame. */
export function encodePut(key: string, value: Uint8Array, env: SfEnvelope = V1): Uint8Array {
  const k = utf8(key);
  return checkedFrame(
    head(SF_OP_PUT, env).u16(k.length).u32(value.length).bytes(k).bytes(value).finish(),
  );
}

/** Encodes a GET request. */
export function encodeGet(key: string, env: SfEnvelope = V1): Uint8Array {
  const k = utf8(key);
  return head(SF_OP_GET, env).u16(k.length).bytes(k).finish();
}

/** Encodes a DELETE request. */
export function encodeDelete(key: string, env: SfEnvelope = V1): Uint8Array {
  const k = utf8(key);
  return head(SF_OP_DELETE, env).u16(k.length).bytes(k).finish();
}

/** Encodes a LIST request (`limit` 0 = as many as fit). */
export function encodeList(prefix: string, limit: number, env: SfEnvelope = V1): Uint8Array {
  const p = utf8(prefix);
  return head(SF_OP_LIST, env).u16(p.length).u16(limit).bytes(p).finish();
}

/** Encodes a SYNC request. */
export function encodeSync(env: SfEnvelope = V1): Uint8Array {
  return head(SF_OP_SYNC, env).finish();
}

/** Encodes a REOPEN request. */
export function encodeReopen(env: SfEnvelope = V1): Uint8Array {
  return head(SF_OP_REOPEN, env).finish();
}

/** Encodes a STATS request. */
export function encodeStats(env: SfEnvelope = V1): Uint8Array {
  return head(SF_OP_STATS, env).finish();
}

/** Encodes a BATCH request. Throws {@link StatefsdError} when it cannot fit in one frame. */
export function encodeBatch(
  entries: readonly BatchEntry[],
  opts: { abort?: boolean } = {},
  env: SfEnvelope = V1,
): Uint8Array {
  const w = head(SF_OP_BATCH, env).u8(opts.abort ? BATCH_FLAG_ABORT : 0).u16(entries.length);
  for (const e of entries) {
    const k = utf8(e.key);
    const v = e.kind === "put" ? e.value : new Uint8Array(0);
    w.u8(e.kind === "put" ? BATCH_PUT : BATCH_DELETE).u16(k.length).u32(v.length).bytes(k)
      .bytes(v);
  }
  return checkedFrame(w.finish());
}

/** A decoded reply: its envelope, status, and the body bytes after status (and nonce). */
export interface SfReply extends SfEnvelope {
  op: number;
  status: number;
  body: Uint8Array;
}

/** Decodes a reply frame's envelope; throws {@link StatefsdError} (-1) on a non-SF reply. */
export function decodeReply(frame: Uint8Array): SfReply {
  if (frame.length < 5 || frame[0] !== 0x53 || frame[1] !== 0x46 || (frame[3] & REPLY_BIT) === 0) {
    throw new StatefsdError(-1, "not a statefsd reply");
  }
  const version = frame[2];
  if (version !== SF_V1 && version !== SF_V2) {
    throw new StatefsdError(-1, `statefsd reply with version ${version}`);
  }
  const r = new ByteReader(frame);
  r.bytes(4);
  let nonce: bigint | undefined;
  if (version === SF_V2) {
    if (r.remaining < 9) throw new StatefsdError(-1, "statefsd v2 reply without nonce and status");
    nonce = r.u64();
  }
  const status = r.u8();
  // The body stays a view of the reply, which is the caller's own: each decoder copies what it keeps.
  return { version, nonce, op: frame[3] & ~REPLY_BIT, status, body: r.view(r.remaining) };
}

/** Decodes the body of a successful GET reply into the value. */
export function decodeGetBody(body: Uint8Array): Uint8Array {
  try {
    const r = new ByteReader(body);
    const value = r.bytes(r.u32());
    r.end();
    return value;
  } catch (err) {
    throw new StatefsdError(-1, `bad GET reply: ${(err as Error).message}`);
  }
}

/** Decodes the body of a successful STATS reply. */
export function decodeStatsBody(body: Uint8Array): SfStats {
  try {
    const r = new ByteReader(body);
    const s: SfStats = {
      generation: r.u32(),
      liveKeys: r.u32(),
      records: r.u32(),
      bytesUsed: r.u32(),
      regionBytes: r.u32(),
      compactions: r.u32(),
    };
    if (r.remaining > 0) s.counters = { gets: r.u32(), unsynced: r.u32(), sectorsRead: r.u32() };
    r.end();
    return s;
  } catch (err) {
    throw new StatefsdError(-1, `bad STATS reply: ${(err as Error).message}`);
  }
}

/** Decodes the body of a successful LIST reply into the keys. */
export function decodeListBody(body: Uint8Array): string[] {
  try {
    const r = new ByteReader(body);
    const count = r.u16();
    const keys: string[] = [];
    for (let i = 0; i < count; i++) keys.push(r.str(r.u16()));
    r.end();
    return keys;
  } catch (err) {
    throw new StatefsdError(-1, `bad LIST reply: ${(err as Error).message}`);
  }
}

/** Options for {@link StatefsClient}. */
export interface StatefsClientOptions {
  /** Frame version to speak (default 2, with nonces). */
  version?: typeof SF_V1 | typeof SF_V2;
  /** First nonce a v2 client uses (default 1); each request takes the next one. */
  firstNonce?: bigint;
  /** Absolute virtual-time deadline (ns) for every call, when set. */
  deadline?: () => number | undefined;
}

/**
 * A statefsd client over `call`: one request at a time, each v2 request with a fresh nonce and
 * replies with another nonce skipped. Every method throws {@link StatefsdError} on a refusal and
 * lets a {@link KernelError} from the IPC through.
 */
export class StatefsClient {
  readonly #sys: Syscalls;
  readonly #send: number;
  readonly #reply: number;
  readonly #version: typeof SF_V1 | typeof SF_V2;
  readonly #deadline?: () => number | undefined;
  #nonce: bigint;

  /** A client sending on `sendSlot` with its reply inbox in `replySlot`. */
  constructor(sys: Syscalls, sendSlot: number, replySlot: number, opts: StatefsClientOptions = {}) {
    this.#sys = sys;
    this.#send = sendSlot;
    this.#reply = replySlot;
    this.#version = opts.version ?? SF_V2;
    this.#nonce = opts.firstNonce ?? 1n;
    this.#deadline = opts.deadline;
  }

  #envelope(): SfEnvelope {
    if (this.#version === SF_V1) return V1;
    const nonce = this.#nonce;
    this.#nonce = (this.#nonce + 1n) & 0xffffffffffffffffn;
    return { version: SF_V2, nonce };
  }

  async #call(env: SfEnvelope, op: number, frame: Uint8Array): Promise<SfReply> {
    const match = env.version === SF_V2
      ? (m: Message) =>
        m.data.length >= 13 && m.data[2] === SF_V2 && readNonce(m.data) === env.nonce
      : undefined;
    const msg = await call(this.#sys, this.#send, this.#reply, frame, {
      match,
      deadline: this.#deadline?.(),
    });
    const reply = decodeReply(msg.data);
    if (reply.op !== op) throw new StatefsdError(-1, `reply to op ${reply.op}, expected ${op}`);
    if (reply.status !== SF_OK) {
      throw new StatefsdError(
        reply.status,
        `statefsd refused op ${op}: ${SF_STATUS_NAMES[reply.status] ?? reply.status}`,
      );
    }
    return reply;
  }

  async #statusOnly(op: number, build: (env: SfEnvelope) => Uint8Array): Promise<void> {
    const env = this.#envelope();
    const reply = await this.#call(env, op, build(env));
    if (reply.body.length !== 0) throw new StatefsdError(-1, `op ${op} reply has trailing bytes`);
  }

  /** Stores `value` under `key`. */
  put(key: string, value: Uint8Array): Promise<void> {
    return this.#statusOnly(SF_OP_PUT, (env) => encodePut(key, value, env));
  }

  /** Reads `key`; NOT_FOUND is a {@link StatefsdError}. */
  async get(key: string): Promise<Uint8Array> {
    const env = this.#envelope();
    const reply = await this.#call(env, SF_OP_GET, encodeGet(key, env));
    return decodeGetBody(reply.body);
  }

  /** Reads `key`, or null when it does not exist. */
  async tryGet(key: string): Promise<Uint8Array | null> {
    try {
      return await this.get(key);
    } catch (err) {
      if (err instanceof StatefsdError && err.status === SF_NOT_FOUND) return null;
      throw err;
    }
  }

  /** Removes `key`; NOT_FOUND when it does not exist. */
  delete(key: string): Promise<void> {
    return this.#statusOnly(SF_OP_DELETE, (env) => encodeDelete(key, env));
  }

  /** Lists keys under `prefix` (`limit` 0 = as many as fit in one reply). */
  async list(prefix: string, limit = 0): Promise<string[]> {
    const env = this.#envelope();
    const reply = await this.#call(env, SF_OP_LIST, encodeList(prefix, limit, env));
    return decodeListBody(reply.body);
  }

  /** Makes every acknowledged write durable. */
  sync(): Promise<void> {
    return this.#statusOnly(SF_OP_SYNC, (env) => encodeSync(env));
  }

  /** Asks statefsd to reopen the store from the disk. */
  reopen(): Promise<void> {
    return this.#statusOnly(SF_OP_REOPEN, (env) => encodeReopen(env));
  }

  /** The engine's counters. */
  async stats(): Promise<SfStats> {
    const env = this.#envelope();
    const reply = await this.#call(env, SF_OP_STATS, encodeStats(env));
    return decodeStatsBody(reply.body);
  }

  /** Applies `entries` as one transaction, or journals and aborts it with `abort`. */
  batch(entries: readonly BatchEntry[], opts: { abort?: boolean } = {}): Promise<void> {
    return this.#statusOnly(SF_OP_BATCH, (env) => encodeBatch(entries, opts, env));
  }
}

/** The nonce of a v2 reply frame (bytes 4..12, right after the header). */
function readNonce(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(4, true);
}
