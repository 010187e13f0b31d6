/**
 * Journal scanning and replay, shared by the engine and fsck: {@link scanJournal} walks the
 * records of one region (reading the device in large chunks, decoding without copying) and
 * {@link ReplayState} applies them to a key map with the transaction rules of docs/formats.md.
 *
 * @module
 */

import { type BlockDevice, readBlocksInto } from "./block_device.ts";
import { KeyIndex } from "./key_index.ts";
import {
  DECODED_CORRUPT,
  DECODED_END,
  DECODED_RECORD,
  decodeRecordInto,
  MAX_VALUE_BYTES,
  newRecordSlot,
  OP_CHECKPOINT,
  OP_DELETE,
  OP_PUT,
  OP_SYNC_BARRIER,
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

/** Most blocks read per device request while scanning (1 MiB). */
const CHUNK_BLOCKS = 2048;
/**
 * Blocks of a scan's first request (64 KiB); each further one doubles up to {@link CHUNK_BLOCKS}.
 * Most journals a boot opens are a few KiB: a first 1 MiB read was nearly all zeros.
 */
const FIRST_CHUNK_BLOCKS = 128;
/**
 * Blocks read past a journal's expected end (see {@link scanJournal}) in the same request, so a
 * journal that ends there is seen to end without another one.
 */
const TAIL_SLACK_BLOCKS = 8;

/** Why a scan stopped. */
export type ScanStop =
  /** Magic mismatch (zeroed tail) or the region is exactly full: the clean end. */
  | { kind: "clean" }
  /** A record with a valid magic runs past the region end (treated as the clean end). */
  | { kind: "cut" }
  /**
   * A corrupt record at `end`; everything before it is kept. `op` is its opcode byte (0 where a
   * torn header reads as zeros; any other unknown value is a record kind this engine lacks).
   */
  | { kind: "corrupt"; code: RecordCorruption; message: string; op: number }
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
 * next record; every chunk read is a buffer of its own kept in `chunks`, so locators stay valid.
 * Chunks are fresh buffers from `dev.read`, or, with `alloc`, buffers `alloc(bytes)` hands out
 * (to be reused once nothing refers to them), read into.
 *
 * `expectEnd` (bytes, default 0) is where the journal is expected to reach, such as the synced
 * end the superblock records: up to there the region is read in the largest chunks, and past it
 * in small ones that double, so a replay reads little more than the journal. It only shapes the
 * requests; what the scan finds is the same whatever it says.
 */
export async function scanJournal(
  dev: BlockDevice,
  startBlock: number,
  blockCount: number,
  maxRecords: number,
  onRecord: (rec: RecordSlot, offset: number, loc: number) => void,
  chunks: Uint8Array[] = [],
  expectEnd = 0,
  alloc?: (bytes: number) => Uint8Array,
): Promise<ScanResult> {
  const bs = dev.blockSize;
  let buf: Uint8Array = new Uint8Array(0);
  let base = 0; // region offset of buf[0], always block aligned
  let pos = 0;
  let next = 0; // next region block to read
  let records = 0;
  let stop: ScanStop;
  const slot = newRecordSlot();
  let locBase = 0;
  let chunkBlocks = FIRST_CHUNK_BLOCKS;
  const expectBlocks = Math.min(blockCount, Math.ceil(Math.max(0, expectEnd) / bs));
  for (;;) {
    const r = decodeRecordInto(buf, pos, buf.length, slot);
    if (r === DECODED_RECORD) {
      onRecord(slot, base + pos, locBase + pos);
      records++;
      pos += slot.size;
      // The original engine refuses a journal that reaches the bound: `maxRecords` records
      // already fail, not only more.
      if (records >= maxRecords) {
        stop = { kind: "limit" };
        break;
      }
      continue;
    }
    if (r === DECODED_END) {
      stop = { kind: "clean" };
      break;
    }
    if (r === DECODED_CORRUPT) {
      stop = { kind: "corrupt", code: slot.code!, message: slot.message, op: buf[pos + 4] };
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
    let want: number;
    if (from < expectBlocks) {
      want = Math.min(CHUNK_BLOCKS, expectBlocks - from + TAIL_SLACK_BLOCKS);
    } else {
      want = chunkBlocks;
      chunkBlocks = Math.min(chunkBlocks * 2, CHUNK_BLOCKS);
    }
    const n = Math.min(
      Math.max(want, Math.ceil(((base + pos) % bs + slot.size) / bs) + 1),
      blockCount - from,
    );
    if (alloc) {
      buf = alloc(n * bs);
      await readBlocksInto(dev, startBlock + from, buf);
    } else buf = await dev.read(startBlock + from, n);
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
  /**
   * `txn-unbalanced` (payload, commit or abort of a transaction that is not open),
   * `txn-duplicate` (prepared again while open: the open one is dropped), `txn-dropped`
   * (a prepare beyond {@link MAX_OPEN_TXNS} open transactions: untracked, never applied) or
   * `txn-over-cap` (a payload over the transaction caps: the whole transaction is void).
   */
  code: "txn-unbalanced" | "txn-duplicate" | "txn-dropped" | "txn-over-cap";
  /** Region byte offset of the record. */
  offset: number;
  /** Human detail. */
  message: string;
}

/** Most transactions open at once; a prepare beyond it is ignored (the original's cap). */
export const MAX_OPEN_TXNS = 8;
/** Most distinct keys one transaction may carry. */
export const MAX_TXN_KEYS = 32;
/** Most bytes (key bytes plus value bytes) one transaction may carry. */
export const MAX_TXN_BYTES: number = 128 * 1024;
/** Most bytes carried by all open transactions together. */
export const MAX_TXN_TOTAL_BYTES: number = 256 * 1024;

interface TxnValue {
  /** Locators of the TxnPayload chunks, in journal order. */
  parts: number[];
  /** Value bytes so far. */
  len: number;
}

interface OpenTxn {
  offset: number;
  /** Set by a cap violation: the transaction stays open but its commit applies nothing. */
  poisoned: boolean;
  bytes: number;
  entries: Map<string, TxnValue>;
}

/**
 * Applies records to a key map with the original engine's semantics (docs/formats.md): Put and
 * Delete apply at once (a Delete is never held by a transaction); a Checkpoint resets the map
 * and every open transaction; SyncBarrier changes nothing; TxnPayload chunks for one key
 * concatenate in journal order and the transaction applies at its TxnCommit, unless a cap was
 * broken (then it applies nothing); TxnAbort discards. Transactions still open at the end are
 * orphans and apply nothing.
 */
export class ReplayState {
  /** The live keys, each with the locator of its value (or the bytes of a chunked value). */
  readonly map: KeyIndex<StoredValue> = new KeyIndex();
  /**
   * The encoded size of a Put of every live key with its value ({@link entrySize}), kept as
   * records apply: a pass over the map afterwards measured most keys' length a second time.
   */
  liveBytes = 0;
  /** The Checkpoint at region offset 0, if any. */
  checkpoint: { generation: number; entries: number } | undefined;
  /** Highest transaction id seen (0 when none). */
  maxTxnId = 0n;
  /** Transaction problems seen. */
  readonly issues: TxnIssue[] = [];
  readonly #open = new Map<bigint, OpenTxn>();
  #openBytes = 0;

  /** `chunks` is the scan's buffer list (see {@link scanJournal}), for chunked values. */
  constructor(readonly chunks: Uint8Array[]) {}

  /** Applies one record found at region offset `offset`, its value at locator `loc`. */
  apply(rec: RecordSlot, offset: number, loc: number): void {
    switch (rec.op) {
      case OP_PUT: {
        // A Put record is exactly its entry's size.
        const old = this.map.swap(rec.key, loc, rec.keyHash);
        this.liveBytes += old === undefined
          ? rec.size
          : rec.valueLen - storedLength(this.chunks, old);
        return;
      }
      case OP_DELETE: {
        const old = this.map.get(rec.key);
        if (old === undefined) return;
        this.map.delete(rec.key);
        this.liveBytes -= RECORD_OVERHEAD + rec.keyLen + storedLength(this.chunks, old);
        return;
      }
      case OP_SYNC_BARRIER:
        return;
      case OP_CHECKPOINT: {
        const cp = parseCheckpoint(rec.buf.subarray(rec.valueAt, rec.valueAt + 8));
        if (offset === 0) this.checkpoint = cp;
        this.map.clear();
        this.liveBytes = 0;
        this.#open.clear();
        this.#openBytes = 0;
        return;
      }
    }
    const id = readTxnId(rec.buf.subarray(rec.valueAt, rec.valueAt + 8));
    if (id > this.maxTxnId) this.maxTxnId = id;
    const txn = this.#open.get(id);
    switch (rec.op) {
      case OP_TXN_PREPARE:
        if (txn) {
          this.#issue("txn-duplicate", offset, `txn ${id} prepared again while open`);
          this.#take(id);
        }
        if (this.#open.size >= MAX_OPEN_TXNS) {
          this.#issue("txn-dropped", offset, `txn ${id}: more than ${MAX_OPEN_TXNS} open`);
          return;
        }
        this.#open.set(id, { offset, poisoned: false, bytes: 0, entries: new Map() });
        return;
      case OP_TXN_PAYLOAD:
        if (!txn) {
          this.#issue("txn-unbalanced", offset, `payload for txn ${id} which is not open`);
          return;
        }
        this.#payload(txn, id, rec, offset, loc);
        return;
      case OP_TXN_COMMIT:
      case OP_TXN_ABORT: {
        const what = rec.op === OP_TXN_COMMIT ? "commit" : "abort";
        if (!txn) {
          this.#issue("txn-unbalanced", offset, `${what} of txn ${id} which is not open`);
          return;
        }
        this.#take(id);
        if (rec.op === OP_TXN_ABORT || txn.poisoned) return;
        for (const [key, v] of txn.entries) {
          const value = this.#joined(v);
          const old = this.map.swap(key, value);
          this.liveBytes += old === undefined
            ? entrySize(key, v.len)
            : v.len - storedLength(this.chunks, old);
        }
        return;
      }
    }
  }

  #payload(txn: OpenTxn, id: bigint, rec: RecordSlot, offset: number, loc: number): void {
    if (txn.poisoned) return;
    const chunk = rec.valueLen - 8;
    const have = txn.entries.get(rec.key);
    const added = have ? chunk : rec.keyLen + chunk;
    if (
      (have ? have.len + chunk > MAX_VALUE_BYTES : txn.entries.size >= MAX_TXN_KEYS) ||
      txn.bytes + added > MAX_TXN_BYTES || this.#openBytes + added > MAX_TXN_TOTAL_BYTES
    ) {
      this.#issue("txn-over-cap", offset, `txn ${id} is over the transaction caps: void`);
      this.#openBytes -= txn.bytes;
      txn.bytes = 0;
      txn.entries.clear();
      txn.poisoned = true;
      return;
    }
    if (have) {
      have.parts.push(loc);
      have.len += chunk;
    } else txn.entries.set(rec.key, { parts: [loc], len: chunk });
    txn.bytes += added;
    this.#openBytes += added;
  }

  /** One chunk stays a locator; several are joined into fresh bytes. */
  #joined(v: TxnValue): StoredValue {
    if (v.parts.length === 1) return v.parts[0];
    const out = new Uint8Array(v.len);
    let at = 0;
    for (const loc of v.parts) {
      const part = locatedValue(this.chunks, loc);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  #take(id: bigint): void {
    const txn = this.#open.get(id);
    if (!txn) return;
    this.#openBytes -= txn.bytes;
    this.#open.delete(id);
  }

  #issue(code: TxnIssue["code"], offset: number, message: string): void {
    this.issues.push({ code, offset, message });
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
  // One scan buffer for the whole range: the chunks are only looked at, never kept.
  const scan = new Uint8Array(Math.min(CHUNK_BLOCKS, count) * bs);
  for (let b = 0; b < count; b += CHUNK_BLOCKS) {
    const n = Math.min(CHUNK_BLOCKS, count - b);
    const data = scan.subarray(0, n * bs);
    await readBlocksInto(dev, start + b, data);
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
    // Only as many zeros as the span needs: after a crash the span is usually a block or two,
    // and a whole chunk's 1 MiB per call was most of the crash tests' time.
    if (!zeros || zeros.length < len) zeros = new Uint8Array(len);
    await dev.write(start + b + first, zeros.subarray(0, len));
    wrote = true;
  }
  return wrote;
}
