/**
 * The StateFS engine: a key/value store kept as an append-only journal on a block device, with
 * an in-memory index rebuilt by replay.
 *
 * Layouts. NXS2 (block 0 = superblock, two regions A/B, the active one starting with a
 * Checkpoint) is what {@link StateFs.format} writes. A device whose block 0 is all zeros or starts
 * with a record is the legacy layout (records from byte 0, one region); it is opened as is, and
 * its first compaction migrates it to NXS2 (the new region is written into the second half, then
 * the superblock replaces block 0 in one sector write), which works while the legacy journal
 * still lies entirely within the first half.
 *
 * Crash-safety model. A 512-byte block write is atomic; writes issued since the last completed
 * `sync()` may persist in any subset and any order (including an older write to a block landing
 * after a newer one). Under that model, after a crash at any point, {@link StateFs.open} yields
 * exactly the state after some prefix of the operations, including every operation that was
 * acknowledged before the last completed `sync()` (or compaction), never part of a batch, and a
 * torn tail ends the journal cleanly. How:
 * - appends rewrite the partially filled tail block with zeros after the new tail, and the area
 *   after the tail is kept all zeros durably: the superblock block records per region a
 *   high-water mark after which every block is zero, raised (and synced) before any journal
 *   block past it is written; compaction zeroes its target region up to that mark; after an
 *   open, the first write zeroes whatever a crash left between the tail and the mark (the whole
 *   region when there is no mark) and syncs before appending. So no stale or orphaned record
 *   can ever follow the tail, and no whole region is read to keep it so;
 * - each `sync()` records the synced journal end in the superblock block, so a journal found
 *   shorter than that on open is `CORRUPT` instead of silently missing records;
 * - each record carries a CRC32-C, so a record whose blocks did not all persist ends replay
 *   (collisions aside, 2^-32);
 * - a batch is TxnPrepare, its records, TxnCommit: replay applies it only at the commit, and
 *   transactions left open by a crash get a TxnAbort before anything else is appended;
 * - compaction writes the new region and syncs before the one-sector superblock flip.
 *
 * Appends are buffered and reach the device at `sync()`, `reopen()`, compaction, or once 256 KiB
 * are pending; anything not yet synced is, per the model above, allowed to be lost.
 *
 * @module
 */

import type { BlockDevice } from "./block_device.ts";
import { BlockDeviceError } from "./block_device.ts";
import { StateFsError } from "./errors.ts";
import { KeyIndex } from "./key_index.ts";
import { probeZeroedDevice, type ZeroedDevice } from "./probe.ts";
import {
  checkKey,
  CHECKPOINT_RECORD_SIZE,
  checkpointValue,
  compareUtf8,
  decodeSuperblock,
  decodeSuperblockExt,
  encodeRecordInto,
  encodeSuperblock,
  encodeTxnId,
  hasSuperblockMagic,
  MAX_TXN_CHUNK,
  MAX_VALUE_BYTES,
  OP_CHECKPOINT,
  OP_DELETE,
  OP_PUT,
  OP_TXN_ABORT,
  OP_TXN_COMMIT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
  RECORD_HEADER_SIZE,
  RECORD_MAGIC,
  RECORD_OVERHEAD,
  regionBlocksFor,
  type SuperblockExt,
  utf8Length,
} from "./journal.ts";
import {
  entrySize,
  isZero,
  locatedValue,
  MAX_TXN_BYTES,
  MAX_TXN_KEYS,
  ReplayState,
  scanJournal,
  type ScanResult,
  storedLength,
  type StoredValue,
  zeroBlocks,
} from "./replay.ts";

/** Default bound on records replayed at open (docs/formats.md). */
export const DEFAULT_MAX_REPLAY_RECORDS = 100_000;
/** How far beyond the journal a raised high-water mark reaches (1 MiB, in blocks). */
const HIGH_WATER_STEP = 2048;
/** Most blocks a compaction hands the device in one write (1 MiB). */
const WRITE_PIECE_BLOCKS = 2048;
/** Pending journal bytes that force a write to the device before `sync()`. */
const FLUSH_THRESHOLD = 256 * 1024;
const EMPTY = new Uint8Array(0);
const TXN_MARKER_SIZE = RECORD_OVERHEAD + 8;
/**
 * Most bytes of old replay chunks kept for the next replay to read into (see `#spare`): a
 * reopen then reuses the buffers of the replay before it instead of leaving them to the garbage
 * collector, which lets them pile up.
 */
const SPARE_CHUNK_BYTES = 8 * 1024 * 1024;
const RESOLVED: Promise<void> = Promise.resolve();

/** One index change: a new value, or `undefined` for a removal. */
interface Change {
  key: string;
  value: StoredValue | undefined;
  /** UTF-8 length of the key, when already known. */
  keyLen?: number;
}

/** What block 0 said about the device, before its journal is replayed. */
interface Found {
  layout: "nxs2" | "legacy";
  active: 0 | 1;
  generation: number;
  liveEntries: number;
  /** First block and length of the region holding the journal. */
  start: number;
  blocks: number;
  ext: SuperblockExt | undefined;
  /** The device is all zeros. */
  blank: boolean;
}

/** Options for {@link StateFs.open}. */
export interface StateFsOptions {
  /**
   * Most records replayed at open (default 100,000). A longer journal fails to open with
   * `CORRUPT`; the engine compacts before its own journal would exceed the bound.
   */
  maxReplayRecords?: number;
  /**
   * Record at each `sync()` where the synced journal ends, in the superblock block, so that a
   * synced tail lost later is detected (default true; false only to measure what it costs).
   */
  confirmSyncs?: boolean;
}

/** A snapshot of engine counters. */
export interface StateFsStats {
  /** `nxs2` (superblock + A/B regions) or `legacy` (records from byte 0). */
  layout: "nxs2" | "legacy";
  /** Superblock generation (0 for legacy). */
  generation: number;
  /** The region holding the journal (always "A" for legacy). */
  activeRegion: "A" | "B";
  /** Blocks in the active region. */
  regionBlocks: number;
  /** Records in the active journal. */
  records: number;
  /** Live keys. */
  liveKeys: number;
  /** Bytes a compaction would write (Checkpoint plus one Put per live key). */
  bytesLive: number;
  /** Journal bytes used in the active region. */
  bytesUsed: number;
  /** Compactions done by this instance. */
  compactions: number;
}

/** One validated batch operation: a put (with the value) or a delete (`value` undefined). */
interface BatchEntry {
  key: string;
  keyLen: number;
  value: Uint8Array | undefined;
}

/** Key of the aborted filler transaction's payload (never applied by either engine). */
const FILLER_KEY = "/state/.pad";
/** Smallest filler: TxnPrepare, a TxnPayload with no value bytes, TxnAbort. */
const FILLER_MIN = 3 * (RECORD_OVERHEAD + 8) + FILLER_KEY.length;

/** How {@link StateFs.batch} writes a batch. */
interface BatchPlan {
  puts: BatchEntry[];
  deletes: BatchEntry[];
  abort: boolean;
  /** Bytes of the filler transaction before the commit (0: none). */
  filler: number;
  /** Journal bytes and records the batch appends. */
  bytes: number;
  records: number;
  /** The original's transaction caps or one block cannot hold it: commit by compaction. */
  viaCompaction: boolean;
}

function chunkCount(len: number): number {
  return Math.max(1, Math.ceil(len / MAX_TXN_CHUNK));
}

/**
 * Lays a batch out from journal offset `tail`: where the commit and the deletes start, so that
 * they share one block, and whether the original's transaction caps allow it at all.
 */
function planBatch(entries: BatchEntry[], tail: number, abort: boolean): BatchPlan {
  const puts = entries.filter((e) => e.value !== undefined);
  const deletes = abort ? [] : entries.filter((e) => e.value === undefined);
  let bytes = TXN_MARKER_SIZE;
  let records = 1;
  let txnBytes = 0;
  for (const e of puts) {
    const n = chunkCount(e.value!.length);
    bytes += n * (RECORD_OVERHEAD + e.keyLen + 8) + e.value!.length;
    records += n;
    txnBytes += e.keyLen + e.value!.length;
  }
  let group = TXN_MARKER_SIZE;
  for (const e of deletes) group += RECORD_OVERHEAD + e.keyLen;
  const overCaps = puts.length > MAX_TXN_KEYS || txnBytes > MAX_TXN_BYTES;
  let filler = 0;
  if (deletes.length > 0) {
    const room = 512 - ((tail + bytes) % 512);
    if (group > room) filler = room >= FILLER_MIN ? room : room + 512;
  }
  return {
    puts,
    deletes,
    abort,
    filler,
    bytes: bytes + filler + group,
    records: records + (filler > 0 ? 3 : 0) + 1 + deletes.length,
    viaCompaction: !abort && (overCaps || group > 512),
  };
}

/** One operation of {@link StateFs.batch}. */
export type BatchOp =
  | { op: "put"; key: string; value: Uint8Array }
  | { op: "delete"; key: string };

/** Information passed to {@link StateFs.onCompaction}. */
export interface CompactionInfo {
  /** The new generation. */
  generation: number;
  /** Live entries written. */
  entries: number;
}

function ioError(err: unknown): StateFsError {
  if (err instanceof StateFsError) return err;
  if (err instanceof BlockDeviceError) {
    return new StateFsError("IO_ERROR", `block device: ${err.message}`);
  }
  return new StateFsError("IO_ERROR", (err as Error)?.message ?? String(err));
}

function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) {
    throw new StateFsError("VALUE_TOO_LARGE", "value must be bytes");
  }
  if (value.length > MAX_VALUE_BYTES) {
    throw new StateFsError(
      "VALUE_TOO_LARGE",
      `value is ${value.length} bytes (max ${MAX_VALUE_BYTES})`,
    );
  }
}

/** Why a device with a zeroed block 0 that is not blank cannot be opened. */
export function zeroedMessage(probe: Exclude<ZeroedDevice, { kind: "blank" }>): string {
  return probe.kind === "lost-superblock"
    ? `the superblock (block 0) is zeros but region ${
      probe.region === 0 ? "A" : "B"
    } holds a journal of generation ${probe.generation}: fsck --repair can rebuild it`
    : `block 0 is zeros but the device holds data from byte ${probe.offset}: not blank, not a StateFS`;
}

function checkDevice(dev: BlockDevice): void {
  if (dev.blockSize !== 512) {
    throw new StateFsError("CORRUPT", `block size ${dev.blockSize} (StateFS needs 512)`);
  }
}

/** A StateFS instance over one block device (a partition or a whole device). */
export class StateFs {
  /** Called after every completed compaction (statefsd prints its marker from here). */
  onCompaction?: (info: CompactionInfo) => void;

  readonly #dev: BlockDevice;
  readonly #maxRecords: number;
  readonly #confirmSyncs: boolean;
  #layout: "nxs2" | "legacy" = "nxs2";
  #generation = 0;
  #active: 0 | 1 = 0;
  #regionStart = 0;
  #regionBlocks = 0;
  /** Live keys: new values as bytes, replayed ones as locators into `#chunks`. */
  #index: KeyIndex<StoredValue> = new KeyIndex();
  #chunks: Uint8Array[] = [];
  /** The buffers behind `#chunks` (a chunk may be a view of a larger one). */
  #chunkBufs: Uint8Array[] = [];
  /** Buffers of chunks nothing refers to any more, for the next replay to read into. */
  #spare: Uint8Array[] = [];
  #sorted: string[] | undefined;
  #records = 0;
  #bytesLive = 0;
  #compactions = 0;
  #tail = 0;
  #pend = new Uint8Array(4096);
  #pendStart = 0;
  #dirty = false;
  #needsPrep = false;
  /**
   * Per region (A, B): blocks from its start that may hold non-zero bytes, as far as this
   * instance knows (undefined: unknown, assume the whole region). Lets a compaction zero only
   * what an earlier journal in the target region really used.
   */
  #extent: [number | undefined, number | undefined] = [undefined, undefined];
  #orphans: bigint[] = [];
  #nextTxn = 1n;
  /** A compaction failed during its superblock flip: reload before writing anything. */
  #stale = false;
  /** Why this store must not be written (replay stopped at data it cannot judge). */
  #readOnly: string | undefined;
  /**
   * The superblock on the device carries this instance's {@link SuperblockExt}: `#extent` is
   * then its high-water marks (kept true on the device before any write beyond them) and
   * `#durable` its synced journal end.
   */
  #extOk = false;
  #durable = 0;
  /** The superblock's live entry count (from the last compaction or format). */
  #liveEntries = 0;
  /** The device is all zeros (opened as an empty legacy store). */
  #blank = false;
  #chain: Promise<unknown> = Promise.resolve();
  /** Locked operations queued or running. */
  #busy = 0;

  private constructor(dev: BlockDevice, opts: StateFsOptions) {
    this.#dev = dev;
    const max = opts.maxReplayRecords ?? DEFAULT_MAX_REPLAY_RECORDS;
    if (!Number.isInteger(max) || max < 2) throw new RangeError("maxReplayRecords must be >= 2");
    this.#maxRecords = max;
    this.#confirmSyncs = opts.confirmSyncs ?? true;
  }

  /**
   * Formats `dev` as an empty NXS2 StateFS: generation 1, region A active, `Checkpoint{1, 0}`,
   * zeros after it. Needs at least 3 blocks (superblock plus two one-block regions). Pass
   * `zeroed: true` only for a device known to be all zeros (a file just created): then nothing
   * is read or zeroed, which keeps formatting a large sparse image instant.
   */
  static async format(dev: BlockDevice, opts: { zeroed?: boolean } = {}): Promise<void> {
    checkDevice(dev);
    const rb = regionBlocksFor(dev.blockCount);
    if (rb < 1) {
      throw new StateFsError("NO_SPACE", `device of ${dev.blockCount} blocks is too small`);
    }
    try {
      const first = new Uint8Array(512);
      encodeRecordInto(first, 0, OP_CHECKPOINT, EMPTY, checkpointValue(1, 0));
      await dev.write(1, first);
      if (!opts.zeroed) await zeroBlocks(dev, 2, rb - 1);
      await dev.sync();
      await dev.write(
        0,
        encodeSuperblock({ activeRegion: 0, generation: 1, liveEntries: 0 }, {
          durableEnd: CHECKPOINT_RECORD_SIZE,
          highWater: [1, opts.zeroed ? 0 : rb],
        }),
      );
      await dev.sync();
    } catch (err) {
      throw ioError(err);
    }
  }

  /**
   * Opens the StateFS on `dev` (NXS2, or legacy when block 0 is zeros or a record) and replays
   * its journal. Rejects with `CORRUPT` (unknown content at block 0, bad superblock, checkpoint
   * missing or disagreeing with the superblock, journal longer than the replay bound) or
   * `IO_ERROR`. A corrupt record inside the journal is not an error: replay keeps what precedes it.
   */
  static async open(dev: BlockDevice, opts: StateFsOptions = {}): Promise<StateFs> {
    checkDevice(dev);
    const fs = new StateFs(dev, opts);
    await fs.#load();
    return fs;
  }

  async #load(): Promise<void> {
    const dev = this.#dev;
    if (dev.blockCount < 1) throw new StateFsError("CORRUPT", "empty device");
    let b0: Uint8Array;
    try {
      b0 = await dev.read(0, 1);
    } catch (err) {
      throw ioError(err);
    }
    let layout: "nxs2" | "legacy";
    let active: 0 | 1 = 0;
    let generation = 0;
    let liveEntries = 0;
    let start: number;
    let blocks: number;
    let ext: SuperblockExt | undefined;
    let blank = false;
    if (hasSuperblockMagic(b0)) {
      const d = decodeSuperblock(b0);
      if (!d.ok) throw new StateFsError("CORRUPT", d.message);
      ext = decodeSuperblockExt(b0, d.sb);
      const rb = regionBlocksFor(dev.blockCount);
      if (rb < 1) throw new StateFsError("CORRUPT", "device too small for NXS2 regions");
      layout = "nxs2";
      active = d.sb.activeRegion;
      generation = d.sb.generation;
      liveEntries = d.sb.liveEntries;
      start = 1 + active * rb;
      blocks = rb;
    } else if (isZero(b0)) {
      // Blank, or a StateFS that lost block 0: never to be taken for an empty store.
      let probe;
      try {
        probe = await probeZeroedDevice(dev);
      } catch (err) {
        throw ioError(err);
      }
      if (probe.kind !== "blank") throw new StateFsError("CORRUPT", zeroedMessage(probe));
      blank = true;
      layout = "legacy";
      start = 0;
      blocks = dev.blockCount;
    } else if (((b0[0] | (b0[1] << 8) | (b0[2] << 16) | (b0[3] << 24)) >>> 0) === RECORD_MAGIC) {
      layout = "legacy";
      start = 0;
      blocks = dev.blockCount;
    } else {
      throw new StateFsError("CORRUPT", "neither an NXS2 superblock nor a journal at block 0");
    }
    const chunks: Uint8Array[] = [];
    const state = new ReplayState(chunks);
    const taken: Uint8Array[] = [];
    let scan;
    try {
      scan = await scanJournal(
        dev,
        start,
        blocks,
        this.#maxRecords,
        (r, o, l) => state.apply(r, o, l),
        chunks,
        ext?.durableEnd,
        (bytes) => this.#takeChunk(bytes, taken),
      );
    } catch (err) {
      this.#recycle(taken);
      throw ioError(err);
    }
    try {
      this.#install(
        { layout, active, generation, liveEntries, start, blocks, ext, blank },
        state,
        scan,
      );
    } catch (err) {
      this.#recycle(taken);
      throw err;
    }
    this.#recycle(this.#chunkBufs);
    this.#chunkBufs = taken;
  }

  /** A buffer of `bytes` for a replay chunk: a spare one when one is large enough. */
  #takeChunk(bytes: number, taken: Uint8Array[]): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.#spare.length; i++) {
      const len = this.#spare[i].length;
      if (len >= bytes && (best < 0 || len < this.#spare[best].length)) best = i;
    }
    const buf = best < 0 ? new Uint8Array(bytes) : this.#spare.splice(best, 1)[0];
    taken.push(buf);
    return buf.subarray(0, bytes);
  }

  /** Keeps buffers no chunk refers to any more for the next replay, up to a bound. */
  #recycle(bufs: Uint8Array[]): void {
    let held = 0;
    for (const b of this.#spare) held += b.length;
    for (const b of bufs) {
      if (held + b.length > SPARE_CHUNK_BYTES) continue;
      this.#spare.push(b);
      held += b.length;
    }
  }

  /**
   * What the active region's high-water mark can say once a compaction leaves it: after a
   * prepare this instance zeroed everything past its tail up to the mark and wrote nothing past
   * its tail since, so the region is zeros from the tail's block on, which spares the next
   * compaction into it zeroing (and reading) the rest up to the mark. Without that knowledge
   * (a compaction as the first write after an open), the mark stays.
   */
  #leftBehind(): number | undefined {
    const mark = this.#extent[this.#active];
    if (this.#needsPrep || mark === undefined) return mark;
    return Math.min(mark, Math.ceil(this.#tail / 512));
  }

  /** Checks what a replay found against the superblock and makes it this instance's state. */
  #install(found: Found, state: ReplayState, scan: ScanResult): void {
    const { layout, active, generation, liveEntries, start, blocks, ext, blank } = found;
    if (scan.stop.kind === "limit") {
      throw new StateFsError(
        "CORRUPT",
        `journal has ${this.#maxRecords} records or more (the replay bound)`,
      );
    }
    // A record kind this engine does not know is data it cannot judge: appending would write
    // over it (and everything after it), so the store is read-only until fsck says otherwise.
    const stop = scan.stop;
    const unknown = stop.kind === "corrupt" && stop.code === "bad-opcode" && stop.op !== 0
      ? `${stop.message} at journal offset ${scan.end}: nothing is written over it`
      : undefined;
    if (ext && scan.end < ext.durableEnd) {
      throw new StateFsError(
        "CORRUPT",
        `the journal ends at byte ${scan.end} of its region but a sync confirmed it up to byte ${ext.durableEnd}: synced records are lost`,
      );
    }
    if (layout === "nxs2") {
      const cp = state.checkpoint;
      if (!cp) throw new StateFsError("CORRUPT", "active region does not start with a Checkpoint");
      if (cp.generation !== generation || cp.entries !== liveEntries) {
        throw new StateFsError(
          "CORRUPT",
          `checkpoint {${cp.generation}, ${cp.entries}} disagrees with superblock {${generation}, ${liveEntries}}`,
        );
      }
    }
    // Install the replayed state.
    this.#layout = layout;
    this.#active = active;
    this.#generation = generation;
    this.#regionStart = start;
    this.#regionBlocks = blocks;
    this.#index = state.map;
    this.#chunks = scan.chunks;
    this.#sorted = undefined;
    this.#records = scan.records;
    this.#bytesLive = (layout === "nxs2" ? CHECKPOINT_RECORD_SIZE : 0) + state.liveBytes;
    this.#tail = scan.end;
    this.#pendStart = scan.end - (scan.end % 512);
    this.#pend.fill(0);
    this.#pend.set(scan.tailBlock.subarray(0, scan.end - this.#pendStart));
    this.#dirty = false;
    this.#orphans = state.openTransactions().map((t) => t.id);
    this.#nextTxn = state.maxTxnId + 1n;
    this.#needsPrep = true;
    this.#extent = ext ? [ext.highWater[0], ext.highWater[1]] : [undefined, undefined];
    // A journal past the high-water mark was grown by another writer: the mark says nothing.
    if (ext && Math.ceil(scan.end / 512) > ext.highWater[active]) this.#extent[active] = undefined;
    this.#extOk = ext !== undefined;
    this.#liveEntries = liveEntries;
    this.#blank = blank;
    this.#durable = ext?.durableEnd ?? 0;
    this.#stale = false;
    this.#readOnly = unknown;
  }

  /** Runs `fn` after every earlier mutation finished (one writer at a time). */
  #lock<T>(fn: () => Promise<T>): Promise<T> {
    this.#busy++;
    const p = this.#chain.then(fn);
    const done = () => {
      this.#busy--;
    };
    this.#chain = p.then(done, done);
    return p;
  }

  /**
   * True when a simple append may run synchronously: nothing is queued or running, no recovery
   * or scrub is pending, and `bytes` fit. The fast path then does exactly what the locked path
   * would, minus the promise hops (a put costs about a microsecond either way otherwise).
   */
  #canAppendNow(bytes: number): boolean {
    return this.#busy === 0 && !this.#stale && !this.#needsPrep && this.#orphans.length === 0 &&
      this.#readOnly === undefined &&
      this.#fits(bytes, 1);
  }

  /** True when the tail should be written out or the journal compacted after an append. */
  #followUpDue(): boolean {
    return this.#tail - this.#pendStart >= FLUSH_THRESHOLD ||
      (this.#tail * 2 >= this.#regionBytes && this.#bytesLive * 2 < this.#tail);
  }

  /** Flushes and/or compacts after a fast-path append, when due. */
  #afterAppend(): Promise<void> {
    if (!this.#followUpDue()) return RESOLVED;
    return this.#lock(async () => {
      await this.#maybeFlush();
      await this.#maybeAutoCompact();
    });
  }

  get #regionBytes(): number {
    return this.#regionBlocks * 512;
  }

  // -------------------------------------------------------------------------------------------
  // Journal tail

  /** Reserves `len` bytes at the tail in the pending buffer; returns their offset in it. */
  #reserve(len: number): number {
    const used = this.#tail - this.#pendStart;
    const need = Math.ceil((used + len) / 512) * 512;
    if (need > this.#pend.length) {
      const grown = new Uint8Array(Math.max(need, this.#pend.length * 2));
      grown.set(this.#pend.subarray(0, used));
      this.#pend = grown;
    }
    this.#tail += len;
    this.#dirty = true;
    return used;
  }

  #append(
    op: number,
    key: string,
    keyLen: number,
    value: Uint8Array,
    head: Uint8Array = EMPTY,
  ): void {
    const size = RECORD_OVERHEAD + keyLen + head.length + value.length;
    const at = this.#reserve(size);
    encodeRecordInto(this.#pend, at, op, key, value, head, keyLen);
    this.#records++;
  }

  /** Writes pending tail blocks to the device (the partial last block padded with zeros). */
  async #flush(): Promise<void> {
    if (!this.#dirty) return;
    const used = this.#tail - this.#pendStart;
    const blocks = Math.ceil(used / 512);
    try {
      await this.#raiseHighWater(this.#pendStart / 512 + blocks);
      await this.#dev.write(
        this.#regionStart + this.#pendStart / 512,
        this.#pend.subarray(0, blocks * 512),
      );
    } catch (err) {
      throw ioError(err);
    }
    const newStart = this.#tail - (this.#tail % 512);
    const from = newStart - this.#pendStart;
    const keep = this.#tail - newStart;
    this.#pend.copyWithin(0, from, from + keep);
    this.#pend.fill(0, keep, used);
    this.#pendStart = newStart;
    this.#dirty = false;
  }

  /**
   * Before journal blocks up to `end` are written: when that passes the active region's
   * high-water mark, move the mark a step beyond and make it durable first, so the superblock
   * never claims zeros where a crash could leave journal bytes.
   */
  async #raiseHighWater(end: number): Promise<void> {
    const hw = this.#extent[this.#active];
    if (!this.#extOk || hw === undefined || end <= hw) return;
    this.#extent[this.#active] = Math.min(this.#regionBlocks, Math.max(end, hw + HIGH_WATER_STEP));
    await this.#dev.write(0, this.#superblockBlock());
    await this.#dev.sync();
  }

  /** The superblock block as this instance knows it, with its {@link SuperblockExt}. */
  #superblockBlock(): Uint8Array {
    const rb = this.#regionBlocks;
    return encodeSuperblock(
      { activeRegion: this.#active, generation: this.#generation, liveEntries: this.#liveEntries },
      {
        durableEnd: this.#durable,
        highWater: [this.#extent[0] ?? rb, this.#extent[1] ?? rb],
      },
    );
  }

  async #maybeFlush(): Promise<void> {
    if (this.#tail - this.#pendStart >= FLUSH_THRESHOLD) await this.#flush();
  }

  /**
   * First write after an open: zero whatever a crash left after the tail (synced, so no stale
   * record can surface behind later appends), and abort transactions left open.
   */
  async #prepare(): Promise<void> {
    await this.#recover();
    this.#checkWritable();
    if (this.#blank) {
      // A blank device becomes what mkfs makes: proven zeros need no zeroing.
      try {
        await StateFs.format(this.#dev, { zeroed: true });
      } catch (err) {
        throw ioError(err);
      }
      await this.#load();
    }
    if (this.#layout === "legacy" && this.#canMigrate()) {
      // A legacy journal only migrates while it ends before region B; migrating at the first
      // write (rather than when it is half full) keeps that true for every journal nexus grows.
      await this.#compact();
      return;
    }
    if (this.#needsPrep) {
      // Zero what a crash may have left after the tail: up to the high-water mark when the
      // superblock carries one (everything after it is zero already), else the whole region.
      const firstAfterTail = Math.floor(this.#tail / 512) + 1;
      const known = this.#layout === "nxs2" ? this.#extent[this.#active] : undefined;
      const dirty = Math.min(known ?? this.#regionBlocks, this.#regionBlocks);
      try {
        if (firstAfterTail < dirty) {
          const wrote = await zeroBlocks(
            this.#dev,
            this.#regionStart + firstAfterTail,
            dirty - firstAfterTail,
          );
          if (wrote) await this.#dev.sync();
        }
        if (this.#layout === "nxs2" && (known === undefined || !this.#extOk)) {
          // From here on the superblock says where the zeros start. The zeros must be durable
          // before it says so.
          this.#extent[this.#active] = Math.min(firstAfterTail, this.#regionBlocks);
          await this.#dev.sync();
          this.#extOk = true;
          await this.#dev.write(0, this.#superblockBlock());
        }
      } catch (err) {
        throw ioError(err);
      }
      this.#needsPrep = false;
    }
    if (this.#orphans.length > 0) {
      const size = this.#orphans.length * TXN_MARKER_SIZE;
      if (this.#fits(size, this.#orphans.length)) {
        for (const id of this.#orphans) this.#append(OP_TXN_ABORT, "", 0, EMPTY, encodeTxnId(id));
        this.#orphans = [];
      } else {
        await this.#compact(); // a compacted journal has no transactions at all
      }
    }
  }

  #checkWritable(): void {
    if (this.#readOnly !== undefined) throw new StateFsError("CORRUPT", this.#readOnly);
  }

  /**
   * After a compaction failed during its superblock flip, the active region on the medium is
   * unknown; both regions hold the whole state (compaction flushes the old journal first), so
   * a reload finds it wherever the flip left it.
   */
  async #recover(): Promise<void> {
    if (this.#stale) await this.#load();
  }

  /** Room for `bytes` more journal bytes and `records` more records (below the replay bound). */
  #fits(bytes: number, records: number): boolean {
    return this.#tail + bytes <= this.#regionBytes && this.#records + records < this.#maxRecords;
  }

  /**
   * Commits one mutation: `write` appends its records (`bytes` / `records` of them) and
   * `changes` is its effect on the index. When the journal has no room, the change is applied
   * to the index and a compaction writes the resulting state instead (atomic through the
   * superblock flip), so an update that only fits once its own garbage is gone still succeeds.
   * `NO_SPACE` (nothing changed) when even the compacted state does not fit.
   */
  async #commit(
    bytes: number,
    records: number,
    write: () => void,
    changes: Change[],
  ): Promise<void> {
    if (this.#fits(bytes, records)) {
      write();
      this.#applyChanges(changes);
      return;
    }
    await this.#commitByCompaction(changes, {
      legacy: "legacy journal full and too long to migrate",
      full: (n) => `journal full: ${n} live keys would not fit in a region`,
    });
  }

  /** Applies index changes; returns the changes that undo them. */
  #applyChanges(
    changes: Change[],
  ): Change[] {
    const undo: Change[] = [];
    for (const c of changes) {
      undo.push({ key: c.key, value: this.#index.get(c.key) });
      if (c.value !== undefined) this.#set(c.key, c.value, c.keyLen);
      else this.#remove(c.key);
    }
    return undo.reverse();
  }

  #liveRecordBytes(): number {
    return this.#bytesLive - (this.#layout === "nxs2" ? CHECKPOINT_RECORD_SIZE : 0);
  }

  /** A legacy journal that can become NXS2 now: it ends before region B, its data fits one. */
  #canMigrate(): boolean {
    const target = this.#compactTarget();
    return target !== undefined &&
      CHECKPOINT_RECORD_SIZE + this.#liveRecordBytes() <= target.regionBlocks * 512 &&
      1 + this.#index.size < this.#maxRecords;
  }

  /** Mostly garbage and at least half full: compact without being asked. */
  async #maybeAutoCompact(): Promise<void> {
    if (this.#tail * 2 < this.#regionBytes || this.#bytesLive * 2 >= this.#tail) return;
    if (this.#compactTarget() === undefined) return;
    const target = this.#compactTarget()!;
    if (CHECKPOINT_RECORD_SIZE + this.#liveRecordBytes() > target.regionBlocks * 512) return;
    await this.#compact();
  }

  // -------------------------------------------------------------------------------------------
  // Public operations

  /** Sets `key` to a copy of `value`. Rejects `INVALID_KEY`, `KEY_TOO_LONG`, `VALUE_TOO_LARGE`, `NO_SPACE`, `IO_ERROR`. */
  put(key: string, value: Uint8Array): Promise<void> {
    let keyLen: number;
    try {
      keyLen = checkKey(key);
      checkValue(value);
    } catch (err) {
      return Promise.reject(err);
    }
    const size = RECORD_OVERHEAD + keyLen + value.length;
    if (this.#canAppendNow(size)) {
      const copy = value.slice();
      this.#append(OP_PUT, key, keyLen, copy);
      this.#set(key, copy, keyLen);
      return this.#afterAppend();
    }
    return this.#lock(async () => {
      await this.#prepare();
      const copy = value.slice();
      await this.#commit(
        size,
        1,
        () => this.#append(OP_PUT, key, keyLen, copy),
        [{ key, value: copy, keyLen }],
      );
      await this.#maybeFlush();
      await this.#maybeAutoCompact();
    });
  }

  /** A copy of the value of `key`, or `undefined`. Rejects `INVALID_KEY` / `KEY_TOO_LONG`. */
  get(key: string): Promise<Uint8Array | undefined> {
    try {
      checkKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    const v = this.#index.get(key);
    return Promise.resolve(v === undefined ? undefined : this.#bytes(v).slice());
  }

  /** Removes `key`. Rejects `NOT_FOUND` when it is absent (nothing is written then). */
  delete(key: string): Promise<void> {
    let keyLen: number;
    try {
      keyLen = checkKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#canAppendNow(RECORD_OVERHEAD + keyLen)) {
      if (!this.#index.has(key)) {
        return Promise.reject(new StateFsError("NOT_FOUND", `no such key: ${key}`));
      }
      this.#append(OP_DELETE, key, keyLen, EMPTY);
      this.#remove(key);
      return this.#afterAppend();
    }
    return this.#lock(async () => {
      if (!this.#index.has(key)) throw new StateFsError("NOT_FOUND", `no such key: ${key}`);
      await this.#prepare();
      await this.#commit(
        RECORD_OVERHEAD + keyLen,
        1,
        () => this.#append(OP_DELETE, key, keyLen, EMPTY),
        [{ key, value: undefined }],
      );
      await this.#maybeFlush();
      await this.#maybeAutoCompact();
    });
  }

  /**
   * Up to `limit` keys starting with `prefix`, in UTF-8 byte order. The prefix is a plain string
   * prefix (no key rules); a non-positive limit yields nothing.
   */
  list(prefix: string, limit: number): string[] {
    const out: string[] = [];
    if (!(limit > 0)) return out;
    const sorted = this.#sortedKeys();
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8(sorted[mid], prefix) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && out.length < limit; i++) {
      if (!sorted[i].startsWith(prefix)) break;
      out.push(sorted[i]);
    }
    return out;
  }

  /**
   * Applies `ops` atomically: after any crash either all of them or none are visible, read by
   * nexus or by the original engine. Validates every op first, in order (a delete of a key
   * absent at that point of the batch is `NOT_FOUND`); on any error nothing is written. Only the
   * last op per key matters. Written as TxnPrepare, the puts as TxnPayload chunks of at most
   * 8,192 value bytes, TxnCommit, then the deletes as plain Delete records in the same 512-byte
   * block as the commit (a block write is atomic; a filler transaction that is aborted moves
   * them to a fresh block when needed). A batch the transaction caps or that block cannot hold
   * is applied by a compaction instead (atomic through the superblock flip). With
   * `abort: true` the puts are written and aborted and nothing changes; no Delete is written.
   */
  batch(ops: BatchOp[], opts: { abort?: boolean } = {}): Promise<void> {
    const enc: BatchEntry[] = [];
    try {
      for (const o of ops) {
        const keyLen = checkKey(o.key);
        if (o.op === "put") {
          checkValue(o.value);
          enc.push({ key: o.key, keyLen, value: o.value.slice() });
        } else if (o.op === "delete") {
          enc.push({ key: o.key, keyLen, value: undefined });
        } else {
          throw new StateFsError("INVALID_KEY", `unknown batch op ${(o as { op: string }).op}`);
        }
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#lock(async () => {
      // Last op per key: the original concatenates every payload of a key in one transaction.
      const last = new Map<string, BatchEntry>();
      for (const e of enc) {
        const exists = last.has(e.key)
          ? last.get(e.key)!.value !== undefined
          : this.#index.has(e.key);
        if (!e.value && !exists) throw new StateFsError("NOT_FOUND", `no such key: ${e.key}`);
        last.delete(e.key);
        last.set(e.key, e);
      }
      if (last.size === 0) return;
      await this.#prepare();
      const plan = planBatch([...last.values()], this.#tail, opts.abort === true);
      const write = () => this.#writeBatch(plan);
      if (opts.abort) {
        // Nothing changes; only room is needed (no room: nothing to write for an abort).
        if (this.#fits(plan.bytes, plan.records)) write();
        return;
      }
      const changes: Change[] = [...last.values()];
      if (plan.viaCompaction) await this.#commitByCompaction(changes);
      else await this.#commit(plan.bytes, plan.records, write, changes);
      await this.#maybeFlush();
      await this.#maybeAutoCompact();
    });
  }

  #writeBatch(plan: BatchPlan): void {
    const id = encodeTxnId(this.#nextTxn++);
    this.#append(OP_TXN_PREPARE, "", 0, EMPTY, id);
    for (const e of plan.puts) {
      const v = e.value!;
      for (let at = 0; at === 0 || at < v.length; at += MAX_TXN_CHUNK) {
        this.#append(OP_TXN_PAYLOAD, e.key, e.keyLen, v.subarray(at, at + MAX_TXN_CHUNK), id);
      }
    }
    if (plan.filler > 0) {
      const pad = encodeTxnId(this.#nextTxn++);
      this.#append(OP_TXN_PREPARE, "", 0, EMPTY, pad);
      const n = plan.filler - FILLER_MIN;
      this.#append(OP_TXN_PAYLOAD, FILLER_KEY, FILLER_KEY.length, new Uint8Array(n), pad);
      this.#append(OP_TXN_ABORT, "", 0, EMPTY, pad);
    }
    this.#append(plan.abort ? OP_TXN_ABORT : OP_TXN_COMMIT, "", 0, EMPTY, id);
    for (const e of plan.deletes) this.#append(OP_DELETE, e.key, e.keyLen, EMPTY);
  }

  /**
   * Applies `changes` to the index and writes the result by a compaction (atomic flip); on
   * `NO_SPACE` (worded by `why`: a legacy journal too long to migrate, or too many live keys)
   * or a failed compaction the index is restored.
   */
  async #commitByCompaction(
    changes: Change[],
    why: { legacy: string; full: (liveKeys: number) => string } = {
      legacy: "this batch needs a compaction and the legacy journal is too long to migrate",
      full: (n) => `${n} live keys would not fit in a region`,
    },
  ): Promise<void> {
    const undo = this.#applyChanges(changes);
    const target = this.#compactTarget();
    if (
      target === undefined ||
      CHECKPOINT_RECORD_SIZE + this.#liveRecordBytes() > target.regionBlocks * 512 ||
      1 + this.#index.size >= this.#maxRecords
    ) {
      this.#applyChanges(undo);
      throw new StateFsError(
        "NO_SPACE",
        target === undefined ? why.legacy : why.full(this.#index.size),
      );
    }
    try {
      await this.#compact();
    } catch (err) {
      this.#applyChanges(undo);
      throw err;
    }
  }

  /** Writes everything pending and flushes the device: the durability boundary. */
  sync(): Promise<void> {
    return this.#lock(async () => {
      await this.#recover();
      await this.#flush();
      try {
        await this.#dev.sync();
        // Confirm where the synced journal ends, so that losing it later is detected. Issued
        // after the flush completed, the claim is true whenever this write lands: it needs no
        // flush of its own (the next one carries it).
        if (this.#confirmSyncs && this.#extOk && this.#tail > this.#durable) {
          this.#durable = this.#tail;
          await this.#dev.write(0, this.#superblockBlock());
        }
      } catch (err) {
        throw ioError(err);
      }
    });
  }

  /**
   * Writes what is pending, drops every in-memory structure and replays from the device (what a
   * restart would see, minus anything still only in the device's volatile cache).
   */
  reopen(): Promise<void> {
    return this.#lock(async () => {
      await this.#flush();
      // Past a prepare (or a compaction) this instance wrote every block of the region, and
      // none after its tail: those are zeros on the device already. When the replay ends at the
      // same tail, the first write after the reopen need not read them again to prove it.
      const zeroed = this.#needsPrep || this.#stale ? undefined : {
        start: this.#regionStart,
        generation: this.#generation,
        tail: this.#tail,
        extent: this.#extent[this.#active],
      };
      await this.#load();
      if (
        zeroed !== undefined && this.#regionStart === zeroed.start &&
        this.#generation === zeroed.generation && this.#tail === zeroed.tail &&
        this.#extent[this.#active] === zeroed.extent && this.#readOnly === undefined
      ) {
        this.#needsPrep = false;
      }
    });
  }

  /**
   * Compacts now (for legacy, migrates to NXS2). `NO_SPACE` when the live data does not fit a
   * region or a legacy journal is too long to migrate.
   */
  compact(): Promise<void> {
    return this.#lock(async () => {
      // No #prepare: a compaction rewrites the whole state into a zeroed region, so whatever a
      // crash left after the tail and any orphan transactions stop mattering once it is done.
      await this.#recover();
      this.#checkWritable();
      if (this.#compactTarget() === undefined) {
        throw new StateFsError(
          "NO_SPACE",
          "the legacy journal is too long to migrate (it must fit in the first half)",
        );
      }
      await this.#compact();
    });
  }

  /** Counters for `inspect` and tests. */
  stats(): StateFsStats {
    return {
      layout: this.#layout,
      generation: this.#generation,
      activeRegion: this.#active === 0 ? "A" : "B",
      regionBlocks: this.#regionBlocks,
      records: this.#records,
      liveKeys: this.#index.size,
      bytesLive: this.#bytesLive,
      bytesUsed: this.#tail,
      compactions: this.#compactions,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Index helpers

  /** The bytes of a stored value (a view; callers copy before handing it out). */
  #bytes(v: StoredValue): Uint8Array {
    return typeof v === "number" ? locatedValue(this.#chunks, v) : v;
  }

  #set(key: string, value: StoredValue, keyLen = utf8Length(key)): void {
    const old = this.#index.get(key);
    if (old !== undefined) {
      this.#bytesLive -= storedLength(this.#chunks, old);
    } else {
      this.#bytesLive += RECORD_OVERHEAD + keyLen;
      if (this.#sorted) this.#sorted.splice(this.#lowerBound(key), 0, key);
    }
    this.#index.set(key, value);
    this.#bytesLive += storedLength(this.#chunks, value);
  }

  #remove(key: string): void {
    const old = this.#index.get(key);
    if (old === undefined) return;
    this.#index.delete(key);
    this.#bytesLive -= entrySize(key, storedLength(this.#chunks, old));
    if (this.#sorted) this.#sorted.splice(this.#lowerBound(key), 1);
  }

  #lowerBound(key: string): number {
    const s = this.#sorted!;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8(s[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #sortedKeys(): string[] {
    if (!this.#sorted) this.#sorted = [...this.#index.keys()].sort(compareUtf8);
    return this.#sorted;
  }

  // -------------------------------------------------------------------------------------------
  // Compaction

  /** Where a compaction would write, or undefined when it cannot (legacy journal too long). */
  #compactTarget(): { region: 0 | 1; startBlock: number; regionBlocks: number } | undefined {
    const rb = regionBlocksFor(this.#dev.blockCount);
    if (rb < 1) return undefined;
    if (this.#layout === "nxs2") {
      const region = this.#active === 0 ? 1 : 0;
      return { region, startBlock: 1 + region * rb, regionBlocks: rb };
    }
    // Legacy: region B must not overlap the legacy journal, which stays live until the flip.
    const usedBlocks = Math.ceil(this.#tail / 512);
    if (usedBlocks > 1 + rb) return undefined;
    return { region: 1, startBlock: 1 + rb, regionBlocks: rb };
  }

  /**
   * Checkpoint plus one Put per live key (byte order) into the inactive region, zeros after it
   * to the region end, sync, superblock flip, sync.
   */
  async #compact(): Promise<void> {
    const target = this.#compactTarget();
    if (!target) throw new StateFsError("NO_SPACE", "cannot compact this journal");
    const keys = this.#sortedKeys();
    const generation = this.#layout === "nxs2" ? this.#generation + 1 : 1;
    const size = CHECKPOINT_RECORD_SIZE + this.#liveRecordBytes();
    const regionBytes = target.regionBlocks * 512;
    if (size > regionBytes) throw new StateFsError("NO_SPACE", "live data does not fit a region");
    const blocks = Math.ceil(size / 512);
    const buf = new Uint8Array(blocks * 512);
    let p = encodeRecordInto(
      buf,
      0,
      OP_CHECKPOINT,
      EMPTY,
      checkpointValue(generation, keys.length),
    );
    const entries = new KeyIndex<StoredValue>();
    for (const k of keys) {
      const v = this.#bytes(this.#index.get(k)!);
      const keyLen = utf8Length(k);
      const valueAt = p + RECORD_HEADER_SIZE + keyLen;
      p += encodeRecordInto(buf, p, OP_PUT, k, v, EMPTY, keyLen);
      // Re-point values at the new buffer so replay chunks of the old journal can be freed.
      entries.set(k, buf.subarray(valueAt, valueAt + v.length));
    }
    // The old journal goes out first, so that whichever region ends up active holds every
    // acknowledged operation (see #recover).
    await this.#flush();
    let flipping = false;
    try {
      // In pieces the size of a replay chunk: a device that must snapshot what it is handed
      // (the virtio driver does, for a write longer than one batch) then needs no copy of it all.
      for (let at = 0; at < blocks; at += WRITE_PIECE_BLOCKS) {
        const end = Math.min(blocks, at + WRITE_PIECE_BLOCKS);
        await this.#dev.write(target.startBlock + at, buf.subarray(at * 512, end * 512));
      }
      const dirty = Math.min(
        this.#extent[target.region] ?? target.regionBlocks,
        target.regionBlocks,
      );
      if (dirty > blocks) await zeroBlocks(this.#dev, target.startBlock + blocks, dirty - blocks);
      await this.#dev.sync();
      // From here the flip may or may not reach the medium: on failure, the next write reloads
      // from the device rather than appending to a region that might no longer be active.
      flipping = true;
      const other = this.#layout === "nxs2" ? this.#leftBehind() : undefined;
      const rb = target.regionBlocks;
      const highWater: [number, number] = target.region === 0
        ? [blocks, other ?? rb]
        : [other ?? rb, blocks];
      await this.#dev.write(
        0,
        encodeSuperblock({ activeRegion: target.region, generation, liveEntries: keys.length }, {
          durableEnd: size,
          highWater,
        }),
      );
      await this.#dev.sync();
    } catch (err) {
      if (flipping) this.#stale = true;
      throw ioError(err);
    }
    if (this.#layout !== "nxs2") this.#extent = [undefined, undefined]; // legacy blocks overlap A
    else this.#extent[this.#active] = this.#leftBehind();
    this.#layout = "nxs2";
    this.#active = target.region;
    this.#generation = generation;
    this.#regionStart = target.startBlock;
    this.#regionBlocks = target.regionBlocks;
    this.#index = entries;
    this.#chunks = []; // every value now lives in `buf`
    this.#recycle(this.#chunkBufs);
    this.#chunkBufs = [];
    this.#records = 1 + keys.length;
    this.#bytesLive = size;
    this.#tail = size;
    this.#pendStart = size - (size % 512);
    this.#pend.fill(0);
    this.#pend.set(buf.subarray(this.#pendStart, size));
    this.#dirty = false;
    this.#needsPrep = false;
    this.#orphans = [];
    this.#extent[target.region] = blocks;
    this.#extOk = true;
    this.#durable = size;
    this.#liveEntries = keys.length;
    this.#compactions++;
    this.onCompaction?.({ generation, entries: keys.length });
  }
}
