/**
 * Byte codecs for the StateFS journal (docs/formats.md): v1 record framing, the NXS2 superblock, the
 * region geometry, and the key rules. Pure functions, no I/O.
 *
 * Record: `magic u32 | opcode u8 | key_len u16 | value_len u32 | key | value | crc32c u32`, all
 * little-endian, the CRC covering every byte before it.
 *
 * @module
 */

import { crc32c, crc32cRange } from "./crc.ts";
import { StateFsError } from "./errors.ts";

/** The record magic as a little-endian u32 (bytes on disk `46 53 58 4E`). */
export const RECORD_MAGIC = 0x4e585346;
/** Put: key, value. */
export const OP_PUT = 0x01;
/** Delete: key, empty value. */
export const OP_DELETE = 0x02;
/** Checkpoint: empty key, value `generation u32, entries u32`. */
export const OP_CHECKPOINT = 0x03;
/** Opens a transaction: empty key, value `txn id u64`. */
export const OP_TXN_PREPARE = 0x10;
/** A transactional put: target key, value `txn id u64` then the value bytes. */
export const OP_TXN_PAYLOAD = 0x11;
/** Applies a transaction: empty key, value `txn id u64`. */
export const OP_TXN_COMMIT = 0x12;
/** Discards a transaction: empty key, value `txn id u64`. */
export const OP_TXN_ABORT = 0x13;
/** A durability point: empty key, empty value. Replay skips it (docs/formats.md). */
export const OP_SYNC_BARRIER = 0x14;

/** Bytes before the key: magic, opcode, key length, value length. */
export const RECORD_HEADER_SIZE = 11;
/** Fixed bytes per record (header plus CRC). */
export const RECORD_OVERHEAD = 15;
/** Longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 255;
/** Largest value field of any record (and largest value a Put can carry). */
export const MAX_VALUE_BYTES = 65536;
/**
 * Most value bytes one TxnPayload carries after its transaction id: a longer transactional
 * value is several TxnPayload records for the same key, concatenated in order at commit.
 */
export const MAX_TXN_CHUNK = 8192;
/** Largest value field of a TxnPayload: the 8-byte transaction id plus one chunk. */
export const MAX_TXN_PAYLOAD_BYTES: number = MAX_TXN_CHUNK + 8;
/** Size of an encoded Checkpoint record. */
export const CHECKPOINT_RECORD_SIZE: number = RECORD_OVERHEAD + 8;
/** Required prefix of every key. */
export const KEY_PREFIX = "/state/";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

/** One decoded journal record. `key` and `value` are views into the decoded buffer. */
export interface JournalRecord {
  /** Opcode (one of the `OP_*` constants). */
  op: number;
  /** The key, decoded (empty for records without a key). */
  key: string;
  /** UTF-8 length of the key. */
  keyLen: number;
  /** The value field (for transaction records it starts with the txn id). */
  value: Uint8Array;
}

/** Why a record is corrupt; stable codes (fsck reports them). */
export type RecordCorruption =
  | "bad-crc"
  | "bad-opcode"
  | "bad-length"
  | "bad-shape"
  | "bad-key";

/** Outcome of {@link decodeRecord}. */
export type DecodeResult =
  | { kind: "record"; record: JournalRecord; size: number }
  /** Magic mismatch: the clean end of the journal (zeroed tail). */
  | { kind: "end" }
  /** The record runs past `end`; `need` is how many bytes from `offset` it requires (at least). */
  | { kind: "incomplete"; need: number }
  | { kind: "corrupt"; code: RecordCorruption; message: string };

/** True for the opcodes of docs/formats.md (0x01-0x03, 0x10-0x14). */
export function isKnownOp(op: number): boolean {
  return op === OP_PUT || op === OP_DELETE || op === OP_CHECKPOINT ||
    (op >= OP_TXN_PREPARE && op <= OP_SYNC_BARRIER);
}

const keyChars: number[] = [];
/** The key index's hash of the key {@link decodeKey} decoded last, or -1 (not ASCII). */
let decodedHash = -1;

/**
 * Decodes key bytes `buf[from..to)`: ASCII through `String.fromCharCode` over a reused plain
 * array (about twice as fast as spreading a typed-array view), strict UTF-8 otherwise. An ASCII
 * key's hash for the key index (key_index.ts `keyHash`) is taken in the same pass.
 */
function decodeKey(buf: Uint8Array, from: number, to: number): string | undefined {
  const n = to - from;
  keyChars.length = n;
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) {
    const c = buf[from + i];
    if (c >= 0x80) {
      decodedHash = -1;
      try {
        return strictDecoder.decode(buf.subarray(from, to));
      } catch {
        return undefined;
      }
    }
    keyChars[i] = c;
    h = Math.imul(h ^ c, 0x01000193);
  }
  decodedHash = h >>> 2;
  return String.fromCharCode.apply(null, keyChars);
}

/** {@link decodeRecordInto}: a valid record was decoded into the slot. */
export const DECODED_RECORD = 0;
/** {@link decodeRecordInto}: magic mismatch, the clean end of the journal. */
export const DECODED_END = 1;
/** {@link decodeRecordInto}: the record runs past `end`; `slot.size` bytes are needed. */
export const DECODED_INCOMPLETE = 2;
/** {@link decodeRecordInto}: corrupt; `slot.code` / `slot.message` say why. */
export const DECODED_CORRUPT = 3;

/** A reusable decode target for {@link decodeRecordInto} (one per scan, not per record). */
export interface RecordSlot {
  /** Opcode. */
  op: number;
  /** The key, decoded. */
  key: string;
  /** The key's hash for the key index (key_index.ts `keyHash`), or -1 when not taken. */
  keyHash: number;
  /** UTF-8 length of the key. */
  keyLen: number;
  /** The buffer the record was decoded from. */
  buf: Uint8Array;
  /** Offset of the record in `buf`. */
  at: number;
  /** Offset of the value field in `buf`. */
  valueAt: number;
  /** Length of the value field. */
  valueLen: number;
  /** Encoded size of the record (or bytes needed, when incomplete). */
  size: number;
  /** Corruption code, when corrupt. */
  code: RecordCorruption | undefined;
  /** Corruption detail, when corrupt. */
  message: string;
}

/** A fresh {@link RecordSlot}. */
export function newRecordSlot(): RecordSlot {
  return {
    op: 0,
    key: "",
    keyHash: -1,
    keyLen: 0,
    buf: EMPTY,
    at: 0,
    valueAt: 0,
    valueLen: 0,
    size: 0,
    code: undefined,
    message: "",
  };
}

/**
 * The allocation-light decoder behind {@link decodeRecord} (journal replay calls it per record):
 * fills `slot` (positions only, no views) and returns one of the `DECODED_*` codes; the slot is
 * overwritten by the next call. Caps are checked before the body is touched, so a garbage
 * length never makes the caller read megabytes.
 */
export function decodeRecordInto(
  buf: Uint8Array,
  offset: number,
  end: number,
  slot: RecordSlot,
): number {
  const avail = end - offset;
  if (avail < 4) {
    slot.size = RECORD_HEADER_SIZE;
    return DECODED_INCOMPLETE;
  }
  if (
    buf[offset] !== 0x46 || buf[offset + 1] !== 0x53 || buf[offset + 2] !== 0x58 ||
    buf[offset + 3] !== 0x4e
  ) {
    return DECODED_END;
  }
  if (avail < RECORD_HEADER_SIZE) {
    slot.size = RECORD_HEADER_SIZE;
    return DECODED_INCOMPLETE;
  }
  const op = buf[offset + 4];
  const keyLen = buf[offset + 5] | (buf[offset + 6] << 8);
  const valLen = (buf[offset + 7] | (buf[offset + 8] << 8) | (buf[offset + 9] << 16) |
    (buf[offset + 10] << 24)) >>> 0;
  // The order of checks is the original engine's: opcode, caps, shape (all from the header),
  // then completeness, CRC and key encoding.
  if (!isKnownOp(op)) {
    return corrupt(slot, "bad-opcode", `unknown opcode 0x${hex2(op)}`);
  }
  if (keyLen > MAX_KEY_BYTES || valLen > MAX_VALUE_BYTES) {
    return corrupt(
      slot,
      "bad-length",
      `key length ${keyLen} / value length ${valLen} over the caps`,
    );
  }
  const shape = shapeError(op, keyLen, valLen);
  if (shape) return corrupt(slot, "bad-shape", shape);
  const size = RECORD_OVERHEAD + keyLen + valLen;
  slot.size = size;
  if (avail < size) return DECODED_INCOMPLETE;
  const keyAt = offset + RECORD_HEADER_SIZE;
  const bodyEnd = keyAt + keyLen + valLen;
  const stored = (buf[bodyEnd] | (buf[bodyEnd + 1] << 8) | (buf[bodyEnd + 2] << 16) |
    (buf[bodyEnd + 3] << 24)) >>> 0;
  if (crc32cRange(buf, offset, bodyEnd) !== stored) {
    return corrupt(slot, "bad-crc", "record CRC mismatch");
  }
  const key = keyLen === 0 ? "" : decodeKey(buf, keyAt, keyAt + keyLen);
  if (key === undefined) return corrupt(slot, "bad-key", "key is not UTF-8");
  slot.op = op;
  slot.key = key;
  slot.keyHash = keyLen === 0 ? -1 : decodedHash;
  slot.keyLen = keyLen;
  slot.buf = buf;
  slot.at = offset;
  slot.valueAt = keyAt + keyLen;
  slot.valueLen = valLen;
  return DECODED_RECORD;
}

function corrupt(slot: RecordSlot, code: RecordCorruption, message: string): number {
  slot.code = code;
  slot.message = message;
  return DECODED_CORRUPT;
}

/**
 * Decodes the record at `buf[offset..end)` without copying: the value is a view into `buf`.
 */
export function decodeRecord(buf: Uint8Array, offset = 0, end = buf.length): DecodeResult {
  const slot = newRecordSlot();
  switch (decodeRecordInto(buf, offset, end, slot)) {
    case DECODED_RECORD:
      return {
        kind: "record",
        record: {
          op: slot.op,
          key: slot.key,
          keyLen: slot.keyLen,
          value: buf.subarray(slot.valueAt, slot.valueAt + slot.valueLen),
        },
        size: slot.size,
      };
    case DECODED_END:
      return { kind: "end" };
    case DECODED_INCOMPLETE:
      return { kind: "incomplete", need: slot.size };
    default:
      return { kind: "corrupt", code: slot.code!, message: slot.message };
  }
}

/**
 * The shape rules of docs/formats.md, which are the original engine's: Put and Delete accept any
 * key and value lengths within the caps (the original applies them as they are), the others
 * are exact.
 */
function shapeError(op: number, keyLen: number, valLen: number): string | undefined {
  switch (op) {
    case OP_PUT:
    case OP_DELETE:
      return undefined;
    case OP_CHECKPOINT:
      return keyLen !== 0 || valLen !== 8 ? "Checkpoint needs no key and 8 value bytes" : undefined;
    case OP_TXN_PAYLOAD:
      return keyLen === 0 || valLen < 8 || valLen > MAX_TXN_PAYLOAD_BYTES
        ? `TxnPayload needs a key, a txn id and at most ${MAX_TXN_CHUNK} value bytes`
        : undefined;
    case OP_SYNC_BARRIER:
      return keyLen !== 0 || valLen !== 0 ? "SyncBarrier needs no key and no value" : undefined;
    default: // prepare, commit, abort
      return keyLen !== 0 || valLen !== 8 ? "transaction marker needs exactly a txn id" : undefined;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/**
 * Encodes a record into `target` at `offset` and returns its size. The key is bytes, or a string
 * written straight into `target` (pass its UTF-8 length from {@link checkKey} as `keyLen` to
 * skip measuring it). `valueHead` (when given) is written before `value` inside the value field;
 * transaction payloads use it for the txn id so the value is not copied twice. Lengths are the
 * caller's responsibility (see the caps).
 */
export function encodeRecordInto(
  target: Uint8Array,
  offset: number,
  op: number,
  key: Uint8Array | string,
  value: Uint8Array,
  valueHead: Uint8Array = EMPTY,
  keyLen: number = typeof key === "string" ? utf8Length(key) : key.length,
): number {
  const valLen = valueHead.length + value.length;
  const size = RECORD_OVERHEAD + keyLen + valLen;
  target[offset] = 0x46;
  target[offset + 1] = 0x53;
  target[offset + 2] = 0x58;
  target[offset + 3] = 0x4e;
  target[offset + 4] = op;
  target[offset + 5] = keyLen & 0xff;
  target[offset + 6] = keyLen >>> 8;
  target[offset + 7] = valLen & 0xff;
  target[offset + 8] = (valLen >>> 8) & 0xff;
  target[offset + 9] = (valLen >>> 16) & 0xff;
  target[offset + 10] = valLen >>> 24;
  let p = offset + RECORD_HEADER_SIZE;
  if (typeof key === "string") writeKey(target, p, key, keyLen);
  else target.set(key, p);
  p += keyLen;
  if (valueHead.length > 0) {
    target.set(valueHead, p);
    p += valueHead.length;
  }
  target.set(value, p);
  p += value.length;
  const crc = crc32cRange(target, offset, p);
  target[p] = crc & 0xff;
  target[p + 1] = (crc >>> 8) & 0xff;
  target[p + 2] = (crc >>> 16) & 0xff;
  target[p + 3] = crc >>> 24;
  return size;
}

/**
 * Encodes one record. Throws `RangeError` when a length is over the caps (the engine validates
 * user input before it gets here, so this guards programming errors only).
 */
export function encodeRecord(
  op: number,
  key: string | Uint8Array = EMPTY,
  value: Uint8Array = EMPTY,
): Uint8Array {
  const keyBytes = typeof key === "string" ? encoder.encode(key) : key;
  if (!isKnownOp(op)) throw new RangeError(`unknown opcode ${op}`);
  if (keyBytes.length > MAX_KEY_BYTES) throw new RangeError("key over 255 bytes");
  if (value.length > MAX_VALUE_BYTES) throw new RangeError("value over the cap");
  if (shapeError(op, keyBytes.length, value.length)) throw new RangeError("bad record shape");
  const out = new Uint8Array(RECORD_OVERHEAD + keyBytes.length + value.length);
  encodeRecordInto(out, 0, op, keyBytes, value);
  return out;
}

/** Encodes a u64 transaction id (little-endian). */
export function encodeTxnId(id: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, id, true);
  return b;
}

/** Reads the u64 transaction id at the start of a transaction record's value. */
export function readTxnId(value: Uint8Array): bigint {
  return new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0, true);
}

/** The 8-byte Checkpoint value: `generation u32, entries u32`. */
export function checkpointValue(generation: number, entries: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, generation, true);
  v.setUint32(4, entries, true);
  return b;
}

/** Parses a Checkpoint value. */
export function parseCheckpoint(value: Uint8Array): { generation: number; entries: number } {
  const v = new DataView(value.buffer, value.byteOffset, value.length);
  return { generation: v.getUint32(0, true), entries: v.getUint32(4, true) };
}

// ---------------------------------------------------------------------------------------------
// Superblock

/** ASCII `NXS2`. */
export const SUPERBLOCK_MAGIC: Uint8Array = new Uint8Array([0x4e, 0x58, 0x53, 0x32]);
/** Superblock format version. */
export const SUPERBLOCK_VERSION = 1;

/** The decoded NXS2 superblock. */
export interface Superblock {
  /** 0 = region A, 1 = region B. */
  activeRegion: 0 | 1;
  /** Bumped by every compaction; 1 after format. */
  generation: number;
  /** Live entries written by the compaction (or format) that made this generation. */
  liveEntries: number;
}

/** Why a superblock is rejected; stable codes (fsck reports them). */
export type SuperblockProblem =
  | "superblock-magic"
  | "superblock-crc"
  | "superblock-version"
  | "superblock-field";

/**
 * What nexus keeps in the superblock block after the 20 bytes both engines read (the original
 * reads only those, and rewrites the block with zeros after them at its compaction, which simply
 * drops this): where the synced journal ends, and how much of each region may hold non-zero
 * bytes. Valid only beside the superblock it was written with (docs/formats.md).
 */
export interface SuperblockExt {
  /** Byte offset in the active region up to which the journal is known to be synced. */
  durableEnd: number;
  /** Per region (A, B): blocks from its start that may be non-zero; every later block is zero. */
  highWater: [number, number];
}

/** Where {@link SuperblockExt} sits in the superblock block. */
export const SUPERBLOCK_EXT_OFFSET = 64;
const EXT_MAGIC = [0x4e, 0x58, 0x53, 0x58]; // "NXSX"
const EXT_SIZE = 48;

/** Encodes a whole 512-byte superblock block, with `ext` at byte 64 when given (else zeros). */
export function encodeSuperblock(sb: Superblock, ext?: SuperblockExt): Uint8Array {
  const b = encodeSuperblockBase(sb);
  if (ext) {
    const o = SUPERBLOCK_EXT_OFFSET;
    b.set(EXT_MAGIC, o);
    b[o + 4] = 1;
    b[o + 5] = sb.activeRegion;
    const v = new DataView(b.buffer);
    v.setUint32(o + 8, sb.generation, true);
    v.setBigUint64(o + 16, BigInt(ext.durableEnd), true);
    v.setBigUint64(o + 24, BigInt(ext.highWater[0]), true);
    v.setBigUint64(o + 32, BigInt(ext.highWater[1]), true);
    v.setUint32(o + 44, crc32c(b.subarray(o, o + 44)), true);
  }
  return b;
}

/** The {@link SuperblockExt} in `block`, if one is there and belongs to `sb`. */
export function decodeSuperblockExt(block: Uint8Array, sb: Superblock): SuperblockExt | undefined {
  const o = SUPERBLOCK_EXT_OFFSET;
  if (block.length < o + EXT_SIZE) return undefined;
  for (let i = 0; i < 4; i++) if (block[o + i] !== EXT_MAGIC[i]) return undefined;
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  if (crc32c(block.subarray(o, o + 44)) !== v.getUint32(o + 44, true)) return undefined;
  if (block[o + 4] !== 1 || block[o + 5] !== sb.activeRegion) return undefined;
  if (v.getUint32(o + 8, true) !== sb.generation) return undefined;
  return {
    durableEnd: Number(v.getBigUint64(o + 16, true)),
    highWater: [Number(v.getBigUint64(o + 24, true)), Number(v.getBigUint64(o + 32, true))],
  };
}

function encodeSuperblockBase(sb: Superblock): Uint8Array {
  const b = new Uint8Array(512);
  b.set(SUPERBLOCK_MAGIC, 0);
  b[4] = SUPERBLOCK_VERSION;
  b[5] = sb.activeRegion;
  const v = new DataView(b.buffer);
  v.setUint32(8, sb.generation, true);
  v.setUint32(12, sb.liveEntries, true);
  v.setUint32(16, crc32c(b.subarray(0, 16)), true);
  return b;
}

/** True when `block` starts with `NXS2`. */
export function hasSuperblockMagic(block: Uint8Array): boolean {
  return block.length >= 4 && block[0] === 0x4e && block[1] === 0x58 && block[2] === 0x53 &&
    block[3] === 0x32;
}

/** Decodes a superblock block; checks magic, CRC, version and field ranges. */
export function decodeSuperblock(
  block: Uint8Array,
): { ok: true; sb: Superblock } | { ok: false; code: SuperblockProblem; message: string } {
  if (block.length < 20 || !hasSuperblockMagic(block)) {
    return { ok: false, code: "superblock-magic", message: "no NXS2 magic" };
  }
  const v = new DataView(block.buffer, block.byteOffset, block.length);
  if (crc32c(block.subarray(0, 16)) !== v.getUint32(16, true)) {
    return { ok: false, code: "superblock-crc", message: "superblock CRC mismatch" };
  }
  if (block[4] !== SUPERBLOCK_VERSION) {
    return {
      ok: false,
      code: "superblock-version",
      message: `unsupported superblock version ${block[4]}`,
    };
  }
  if (block[5] > 1 || block[6] !== 0 || block[7] !== 0) {
    return {
      ok: false,
      code: "superblock-field",
      message: `bad active region ${block[5]} or reserved bytes`,
    };
  }
  return {
    ok: true,
    sb: {
      activeRegion: block[5] as 0 | 1,
      generation: v.getUint32(8, true),
      liveEntries: v.getUint32(12, true),
    },
  };
}

/** Blocks per region of an NXS2 area of `blockCount` blocks: `(blockCount - 1) / 2`. */
export function regionBlocksFor(blockCount: number): number {
  return Math.floor((blockCount - 1) / 2);
}

/** First block of region `r` (0 = A, 1 = B). */
export function regionStartBlock(blockCount: number, r: 0 | 1): number {
  return 1 + r * regionBlocksFor(blockCount);
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * Validates a key per docs/formats.md (UTF-8, at most 255 bytes, starts with `/state/`, no `.` or
 * `..` component) and returns its UTF-8 bytes. Throws {@link StateFsError} `KEY_TOO_LONG` or
 * `INVALID_KEY`.
 */
export function validateKey(key: string): Uint8Array {
  checkKey(key);
  return keyBytes(key);
}

/** UTF-8 length of a well-formed string, without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) i++, n += 2; // a pair: 2 units, 4 bytes
    else n += 2;
  }
  return n;
}

/**
 * {@link validateKey} without producing the bytes: returns the key's UTF-8 length. The engine
 * calls this on every write and encodes the key straight into the journal buffer.
 */
export function checkKey(key: string): number {
  if (typeof key !== "string" || !key.isWellFormed()) {
    throw new StateFsError("INVALID_KEY", "key is not valid UTF-8");
  }
  // UTF-8 never has fewer bytes than UTF-16 units, so a long string is too long at once.
  const len = key.length > MAX_KEY_BYTES ? key.length : utf8Length(key);
  if (len > MAX_KEY_BYTES) {
    throw new StateFsError("KEY_TOO_LONG", `key is longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (!key.startsWith(KEY_PREFIX)) {
    throw new StateFsError("INVALID_KEY", `key must start with ${KEY_PREFIX}`);
  }
  // Every component follows a "/" (the key starts with one), so "." / ".." components are
  // exactly these substrings.
  if (
    key.includes("/./") || key.includes("/../") || key.endsWith("/.") || key.endsWith("/..")
  ) {
    throw new StateFsError("INVALID_KEY", `key has a "." or ".." component`);
  }
  return len;
}

/**
 * Writes the UTF-8 bytes of `key` (`len` bytes, from {@link checkKey}) into `target` at `at`:
 * ASCII directly, anything else through `encodeInto`.
 */
export function writeKey(target: Uint8Array, at: number, key: string, len: number): void {
  if (len === key.length) {
    for (let i = 0; i < len; i++) target[at + i] = key.charCodeAt(i);
    return;
  }
  encoder.encodeInto(key, target.subarray(at, at + len));
}

const keyScratch = new Uint8Array(3 * MAX_KEY_BYTES);

/**
 * UTF-8 bytes of a key of at most 255 UTF-16 units. `encodeInto` a scratch buffer plus a copy is
 * several times cheaper than `TextEncoder.encode`, and keys are encoded on every write.
 */
export function keyBytes(key: string): Uint8Array {
  if (key.length > MAX_KEY_BYTES) return encoder.encode(key);
  const { written } = encoder.encodeInto(key, keyScratch);
  return keyScratch.slice(0, written);
}

/** Compares two strings in UTF-8 byte order (= code point order; JS `<` is UTF-16 order). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate encodes a code point above U+FFFF, so it sorts after every BMP unit.
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
