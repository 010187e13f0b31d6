/**
 * Journal scanning and replay, shared by the engine and fsck: {@link scanJournal} walks the
 * records of one region (reading the device in large chunks, decoding without copying) and
 * {@link ReplayState} applies them to a key map with the transaction rules of FORMATS.md.
 *
 * @module
 */

import type { BlockDevice } from "./block_device.ts";
import {
  DECODED_CORRUPT,
  DECODED_END,
  DECODED_RECORD,
  decodeRecordInto,
  newRecordSlot,
  OP_CHECKPOINT,
  OP_DELETE,
  OP_PUT,
  OP_TXN_ABORT,
  OP_TXN_COMMIT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
  parseCheckpoint,
  readTxnId,
  RECORD_HEADER_SIZE,
  RECORD_MAGIC,
  RECORD_OVERHEAD,
  type RecordCorruption,
  type RecordSlot,
  utf8Length,
} from "./journal.ts";

/** Blocks read per device request while scanning (1 MiB). */
const CHUNK_BLOCKS = 2048;

/** Why a scan stopped. */
export type ScanStop =
  /** Magic mismatch (zeroed tail) or the region is exactly full: the clean end. */
  | { kind: "clean" }
  /** A record with a valid magic runs past the region end (treated as the clean end). */
  | { kind: "cut" }
  /** A corrupt record at `end`; everything before it is kept. */
  | { kind: "corrupt"; code: RecordCorruption; message: string }
  /** More records than the replay bound allows. */
  | { kind: "limit" };

/** Outcome of {@link scanJournal}. */
export interface ScanResult {
  /** Byte offset in the region where the valid journal ends. */
  end: number;
  /** Valid records seen. */
  records: number;
  /** Why the scan stopped at `end`. */
  stop: ScanStop;
  /** A copy of the block that contains `end` (its bytes before `end` are journal). */
  tailBlock: Uint8Array;
  /** The buffers read, indexed by the chunk part of a locator (see {@link locatedValue}). */
  chunks: Uint8Array[];
}

/**
 * A value replayed from the journal is kept as a locator, a number: chunk index times
 * `LOC_SPAN` plus the record's offset in that chunk. Keeping numbers instead of one typed-array
 * view per record roughly halves the allocation (and garbage collection) of a replay.
 */
export const LOC_SPAN = 2 ** 21;

/** An index value: bytes, or a locator into replay chunks. */
export type StoredValue = Uint8Array | number;

/** The value bytes of the record a locator points at (a view; TxnPayload ids skipped). */
export function locatedValue(chunks: Uint8Array[], loc: number): Uint8Array {
  const buf = chunks[Math.floor(loc / LOC_SPAN)];
  const at = loc % LOC_SPAN;
  const keyLen = buf[at + 5] | (buf[at + 6] << 8);
  const valLen = (buf[at + 7] | (buf[at + 8] << 8) | (buf[at + 9] << 16) | (buf[at + 10] << 24)) >>>
    0;
  const skip = buf[at + 4] === OP_TXN_PAYLOAD ? 8 : 0;
  const start = at + RECORD_HEADER_SIZE + keyLen + skip;
  return buf.subarray(start, start + valLen - skip);
}

/** Length of a stored value without materialising it. */
export function storedLength(chunks: Uint8Array[], v: StoredValue): number {
  if (typeof v !== "number") return v.length;
  const buf = chunks[Math.floor(v / LOC_SPAN)];
  const at = v % LOC_SPAN;
  const valLen = (buf[at + 7] | (buf[at + 8] << 8) | (buf[at + 9] << 16) | (buf[at + 10] << 24)) >>>
    0;
  return buf[at + 4] === OP_TXN_PAYLOAD ? valLen - 8 : valLen;
}

/**
 * Walks the journal in `blockCount` blocks of `dev` from `startBlock`, calling `onRecord` for each
 * valid record with its byte offset in the region and its locator. The slot is reused for the
 * next record; every chunk read is a fresh buffer kept in `chunks`, so locators stay valid.
 */
export async function scanJournal(
  dev: BlockDevice,
  startBlock: number,
  blockCount: number,
  maxRecords: number,
  onRecord: (rec: RecordSlot, offset: number, loc: number) => void,
): Promise<ScanResult> {
  const bs = dev.blockSize;
  let buf: Uint8Array = new Uint8Array(0);
  let base = 0; // region offset of buf[0], always block aligned
  let pos = 0;
  let next = 0; // next region block to read
  let records = 0;
  let stop: ScanStop;
  const slot = newRecordSlot();
  const chunks: Uint8Array[] = [];
  let locBase = 0;
  for (;;) {
    const r = decodeRecordInto(buf, pos, buf.length, slot);
    if (r === DECODED_RECORD) {
      if (records >= maxRecords) {
        stop = { kind: "limit" };
        break;
      }
      onRecord(slot, base + pos, locBase + pos);
      records++;
      pos += slot.size;
      continue;
    }
    if (r === DECODED_END) {
      stop = { kind: "clean" };
      break;
    }
    if (r === DECODED_CORRUPT) {
      stop = { kind: "corrupt", code: slot.code!, message: slot.message };
      break;
    }
    // Incomplete: read on, unless the region is exhausted.
    if (next >= blockCount) {
      const left = buf.length - pos;
      const magic = left >= 4 &&
        ((buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0) ===
          RECORD_MAGIC;
      stop = magic ? { kind: "cut" } : { kind: "clean" };
      break;
    }
    // Read on from the block holding `pos` (re-reading that partial block from the device is
    // cheaper than joining buffers), at least enough for the pending record.
    const from = (base + pos - ((base + pos) % bs)) / bs;
    const n = Math.min(
      Math.max(CHUNK_BLOCKS, Math.ceil(((base + pos) % bs + slot.size) / bs) + 1),
      blockCount - from,
    );
    buf = await dev.read(startBlock + from, n);
    locBase = chunks.length * LOC_SPAN;
    chunks.push(buf);
    pos = base + pos - from * bs;
    base = from * bs;
    next = from + n;
  }
  const end = base + pos;
  const blockStart = Math.floor(pos / bs) * bs;
  const tailBlock = new Uint8Array(bs);
  tailBlock.set(buf.subarray(blockStart, Math.min(blockStart + bs, buf.length)));
  return { end, records, stop, tailBlock, chunks };
}

/** Encoded size of the Put record holding `key` with a value of `valueLen` bytes. */
export function entrySize(key: string, valueLen: number, keyLen = utf8Length(key)): number {
  return RECORD_OVERHEAD + keyLen + valueLen;
}

/** A transaction issue found during replay (fsck reports these). */
export interface TxnIssue {
  /** `txn-unbalanced` (payload/commit/abort of a transaction never prepared) or `txn-duplicate`. */
  code: "txn-unbalanced" | "txn-duplicate";
  /** Region byte offset of the record. */
  offset: number;
  /** Human detail. */
  message: string;
}

interface OpenTxn {
  offset: number;
  ops: Array<{ key: string; value: number | undefined }>;
}

/**
 * Applies records to a key map. Transaction rules: TxnPayload records and Delete records that
 * appear while a transaction is open (between its TxnPrepare and its TxnCommit/TxnAbort) are held
 * by that transaction and applied only when its commit is replayed. Delete has no transactional
 * twin in the record set, so a batch's deletes are written inside the transaction's span; the
 * engine never leaves a transaction open across other writes (orphans get a TxnAbort first).
 */
export class ReplayState {
  /** The live keys, each with the locator of its value. */
  readonly map = new Map<string, StoredValue>();
  /** The Checkpoint at region offset 0, if any. */
  checkpoint: { generation: number; entries: number } | undefined;
  /** Highest transaction id seen (0 when none). */
  maxTxnId = 0n;
  /** Transaction balance problems seen. */
  readonly issues: TxnIssue[] = [];
  readonly #open = new Map<bigint, OpenTxn>();
  #lastOpen: bigint | undefined;

  /** Applies one record found at region offset `offset`, its value at locator `loc`. */
  apply(rec: RecordSlot, offset: number, loc: number): void {
    switch (rec.op) {
      case OP_PUT:
        this.map.set(rec.key, loc);
        return;
      case OP_DELETE: {
        const txn = this.#lastOpen === undefined ? undefined : this.#open.get(this.#lastOpen);
        if (txn) txn.ops.push({ key: rec.key, value: undefined });
        else this.map.delete(rec.key);
        return;
      }
      case OP_CHECKPOINT:
        if (offset === 0) {
          this.checkpoint = parseCheckpoint(rec.buf.subarray(rec.valueAt, rec.valueAt + 8));
        }
        return;
    }
    const id = readTxnId(rec.buf.subarray(rec.valueAt, rec.valueAt + 8));
    if (id > this.maxTxnId) this.maxTxnId = id;
    const txn = this.#open.get(id);
    switch (rec.op) {
      case OP_TXN_PREPARE:
        if (txn) {
          this.issues.push({
            code: "txn-duplicate",
            offset,
            message: `txn ${id} prepared twice`,
          });
          return;
        }
        this.#open.set(id, { offset, ops: [] });
        this.#lastOpen = id;
        return;
      case OP_TXN_PAYLOAD:
        if (!txn) {
          this.issues.push({
            code: "txn-unbalanced",
            offset,
            message: `payload for txn ${id} which is not open`,
          });
          return;
        }
        txn.ops.push({ key: rec.key, value: loc });
        return;
      case OP_TXN_COMMIT:
      case OP_TXN_ABORT:
        if (!txn) {
          this.issues.push({
            code: "txn-unbalanced",
            offset,
            message: `${
              rec.op === OP_TXN_COMMIT ? "commit" : "abort"
            } of txn ${id} which is not open`,
          });
          return;
        }
        if (rec.op === OP_TXN_COMMIT) {
          for (const o of txn.ops) {
            if (o.value !== undefined) this.map.set(o.key, o.value);
            else this.map.delete(o.key);
          }
        }
        this.#open.delete(id);
        this.#lastOpen = undefined;
        for (const k of this.#open.keys()) this.#lastOpen = k; // the most recent still open
        return;
    }
  }

  /** Transactions prepared but neither committed nor aborted (orphans), oldest first. */
  openTransactions(): Array<{ id: bigint; offset: number }> {
    return [...this.#open].map(([id, t]) => ({ id, offset: t.offset }));
  }
}

/** True when every byte of `b` is zero. */
export function isZero(b: Uint8Array): boolean {
  let i = 0;
  const n = b.length;
  if ((b.byteOffset & 7) === 0) {
    const words = new Float64Array(b.buffer, b.byteOffset, n >>> 3);
    // Any non-zero bit pattern is non-zero as a double except -0 (sign bit only), which `!== 0`
    // misses; Object.is catches it. NaN patterns compare unequal to 0 as wanted.
    for (let w = 0; w < words.length; w++) {
      const x = words[w];
      if (x !== 0 || Object.is(x, -0)) return false;
    }
    i = words.length << 3;
  }
  for (; i < n; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Makes blocks `[start, start + count)` of `dev` all zeros, writing only blocks that are not zero
 * already (so sparse image files stay sparse). Returns true when anything was written.
 */
export async function zeroBlocks(dev: BlockDevice, start: number, count: number): Promise<boolean> {
  const bs = dev.blockSize;
  let wrote = false;
  let zeros: Uint8Array | undefined;
  for (let b = 0; b < count; b += CHUNK_BLOCKS) {
    const n = Math.min(CHUNK_BLOCKS, count - b);
    const data = await dev.read(start + b, n);
    if (isZero(data)) continue;
    // Rewrite the span from the first to the last dirty block of this chunk in one request.
    let first = -1;
    let last = -1;
    for (let k = 0; k < n; k++) {
      if (!isZero(data.subarray(k * bs, (k + 1) * bs))) {
        if (first < 0) first = k;
        last = k;
      }
    }
    const len = (last - first + 1) * bs;
    if (!zeros || zeros.length < len) zeros = new Uint8Array(CHUNK_BLOCKS * bs);
    await dev.write(start + b + first, zeros.subarray(0, len));
    wrote = true;
  }
  return wrote;
}
