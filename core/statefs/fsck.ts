/**
 * fsck for StateFS: checks the superblock, checkpoint/superblock agreement, every record,
 * transaction balance and the tail, and reports each problem with a stable code and the device
 * byte offset where it sits. With `repair`, fixes what is repairable without rewriting anything
 * before the end of the valid journal: it zeroes what lies after that end (a torn tail, garbage,
 * or records a corrupt record made unreachable: replay already ignores all of these) and appends
 * a TxnAbort for every transaction left open.
 *
 * Reads NXS2 (superblock + A/B regions) and the legacy layout (records from byte 0); give it the
 * StateFS partition or, for an image without a partition table, the whole device.
 *
 * @module
 */

import type { BlockDevice } from "./block_device.ts";
import { BlockDeviceError } from "./block_device.ts";
import { DEFAULT_MAX_REPLAY_RECORDS } from "./engine.ts";
import type { Superblock, SuperblockExt } from "./journal.ts";
import { StateFsError } from "./errors.ts";
import {
  decodeSuperblock,
  decodeSuperblockExt,
  encodeRecordInto,
  encodeSuperblock,
  encodeTxnId,
  hasSuperblockMagic,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  OP_TXN_ABORT,
  RECORD_HEADER_SIZE,
  RECORD_MAGIC,
  RECORD_OVERHEAD,
  regionBlocksFor,
} from "./journal.ts";
import { isZero, ReplayState, scanJournal, zeroBlocks } from "./replay.ts";
import { probeZeroedDevice, regionCheckpoint } from "./probe.ts";
import { zeroedMessage } from "./engine.ts";
import { BackupDevice, type BackupSink } from "./backup.ts";

/** One problem found by {@link fsck}. */
export interface FsckProblem {
  /**
   * Stable reason: `no-statefs`, `bad-block-size`, `device-too-small`, `superblock-missing`,
   * `superblock-crc`, `lost-synced-tail`,
   * `superblock-version`, `superblock-field`, `checkpoint-missing`, `checkpoint-mismatch`,
   * `replay-bound`, `torn-tail`, `truncated-tail`, `tail-garbage`, `bad-crc`, `unknown-opcode`,
   * `bad-length`, `bad-shape`, `bad-key`, `orphan-txn`, `txn-unbalanced`, `txn-duplicate`,
   * `txn-dropped`, `txn-over-cap`.
   */
  code: string;
  /** Byte offset on the device. */
  offset: number;
  /** Human detail. */
  message: string;
  /** Whether `repair` can fix it. */
  repairable: boolean;
}

/** Overall verdict of {@link fsck}. */
export type FsckStatus = "clean" | "repaired" | "repairable" | "unrecoverable";

/** The result of {@link fsck}. */
export interface FsckReport {
  /** Layout found (`unknown` when block 0 is neither). */
  layout: "nxs2" | "legacy" | "unknown";
  /** `clean`, `repaired` (problems fixed by this run), `repairable`, or `unrecoverable`. */
  status: FsckStatus;
  /** Problems found (before any repair), in device order. */
  problems: FsckProblem[];
  /** Superblock generation (NXS2 only). */
  generation?: number;
  /** Active region (NXS2 only). */
  activeRegion?: "A" | "B";
  /** Valid records in the journal. */
  records: number;
  /** Live keys after replay. */
  liveKeys: number;
  /** Byte offset on the device where the valid journal ends. */
  journalEnd?: number;
}

/** Options for {@link fsck}. */
export interface FsckOptions {
  /** Fix repairable problems (append-only). Default false. */
  repair?: boolean;
  /** The replay bound to check against (default 100,000, as the engine). */
  maxReplayRecords?: number;
  /**
   * Receives the old contents of every block a repair rewrites, before it is rewritten (so the
   * repair can be undone; see backup.ts).
   */
  backup?: BackupSink;
}

/** What a journal repair needs: region geometry, where zeros must end, journal end, orphans. */
interface Fix {
  regionStart: number;
  regionBlocks: number;
  /** Blocks from the region start after which everything is zero already. */
  zeroBlocksEnd: number;
  end: number;
  orphans: bigint[];
}

interface Analysis {
  report: FsckReport;
  /** What repair needs: region geometry, journal end, orphan ids. */
  fix?: Fix;
  /** A superblock to write: block 0 is lost or damaged and a region still holds the journal. */
  rebuild?: Superblock;
}

/**
 * Checks the StateFS on `dev`. Never throws for bad content (that is what the report is for);
 * rejects with `StateFsError` `IO_ERROR` when the device fails (or refuses a repair write).
 */
export async function fsck(dev: BlockDevice, opts: FsckOptions = {}): Promise<FsckReport> {
  try {
    const first = await analyse(dev, opts);
    if (!opts.repair || first.report.status !== "repairable") return first.report;
    const target = opts.backup ? new BackupDevice(dev, opts.backup) : dev;
    let now = first;
    // A rebuilt superblock can reveal journal problems behind it: at most two passes.
    for (let pass = 0; pass < 2 && now.report.status === "repairable"; pass++) {
      if (now.rebuild) await rebuildSuperblock(target, now.rebuild);
      else if (now.fix) await repair(target, now.fix);
      else break;
      now = await analyse(dev, opts);
    }
    const status: FsckStatus = now.report.status === "clean" ? "repaired" : now.report.status;
    return { ...now.report, problems: first.report.problems, status };
  } catch (err) {
    if (err instanceof StateFsError) throw err;
    if (err instanceof BlockDeviceError) {
      throw new StateFsError("IO_ERROR", `block device: ${err.message}`);
    }
    throw err;
  }
}

function verdict(problems: FsckProblem[]): FsckStatus {
  if (problems.length === 0) return "clean";
  return problems.every((p) => p.repairable) ? "repairable" : "unrecoverable";
}

async function analyse(dev: BlockDevice, opts: FsckOptions): Promise<Analysis> {
  const problems: FsckProblem[] = [];
  const bad = (code: string, offset: number, message: string, repairable = false) =>
    problems.push({ code, offset, message, repairable });
  const finish = (layout: FsckReport["layout"], extra: Partial<FsckReport> = {}): Analysis => ({
    report: { layout, status: verdict(problems), problems, records: 0, liveKeys: 0, ...extra },
  });

  if (dev.blockSize !== 512) {
    bad("bad-block-size", 0, `block size ${dev.blockSize}, StateFS needs 512`);
    return finish("unknown");
  }
  if (dev.blockCount < 1) {
    bad("device-too-small", 0, "empty device");
    return finish("unknown");
  }
  const b0 = await dev.read(0, 1);
  let layout: "nxs2" | "legacy";
  let regionStart: number;
  let regionBlocks: number;
  let generation: number | undefined;
  let liveEntries = 0;
  let activeRegion: "A" | "B" | undefined;
  let ext: SuperblockExt | undefined;
  if (isZero(b0)) {
    const probe = await probeZeroedDevice(dev);
    if (probe.kind === "lost-superblock") {
      bad("superblock-missing", 0, zeroedMessage(probe), true);
      return { ...finish("nxs2"), rebuild: rebuildFrom(probe) };
    }
    if (probe.kind === "data") {
      bad("no-statefs", probe.offset, zeroedMessage(probe));
      return finish("unknown");
    }
    // Blank (at most the Checkpoint of a format cut off before its superblock): nothing to check.
    return finish("legacy", { journalEnd: 0 });
  }
  if (hasSuperblockMagic(b0)) {
    layout = "nxs2";
    const d = decodeSuperblock(b0);
    if (!d.ok) {
      // The journal itself still says which region and generation were active.
      const best = await newestCheckpoint(dev);
      if (best) {
        bad(
          d.code,
          0,
          `${d.message}; region ${
            best.region === 0 ? "A" : "B"
          } holds generation ${best.generation}`,
          true,
        );
        return { ...finish(layout), rebuild: rebuildFrom(best) };
      }
      bad(d.code, 0, d.message);
      return finish(layout);
    }
    const rb = regionBlocksFor(dev.blockCount);
    if (rb < 1) {
      bad("device-too-small", 0, `${dev.blockCount} blocks cannot hold two regions`);
      return finish(layout);
    }
    generation = d.sb.generation;
    liveEntries = d.sb.liveEntries;
    ext = decodeSuperblockExt(b0, d.sb);
    activeRegion = d.sb.activeRegion === 0 ? "A" : "B";
    regionStart = 1 + d.sb.activeRegion * rb;
    regionBlocks = rb;
  } else if (readU32(b0, 0) === RECORD_MAGIC) {
    layout = "legacy";
    regionStart = 0;
    regionBlocks = dev.blockCount;
  } else {
    bad("no-statefs", 0, "block 0 holds neither an NXS2 superblock nor a journal record");
    return finish("unknown");
  }
  const base = regionStart * 512;
  const regionBytes = regionBlocks * 512;

  const chunks: Uint8Array[] = [];
  const state = new ReplayState(chunks);
  const scan = await scanJournal(
    dev,
    regionStart,
    regionBlocks,
    Number.MAX_SAFE_INTEGER,
    (r, o, l) => state.apply(r, o, l),
    chunks,
  );
  const bound = opts.maxReplayRecords ?? DEFAULT_MAX_REPLAY_RECORDS;
  if (scan.records >= bound) {
    bad(
      "replay-bound",
      base,
      `${scan.records} records: a journal of ${bound} or more records cannot be opened`,
    );
  }
  if (layout === "nxs2") {
    const cp = state.checkpoint;
    if (!cp) {
      bad("checkpoint-missing", base, "active region does not start with a Checkpoint");
    } else if (cp.generation !== generation || cp.entries !== liveEntries) {
      bad(
        "checkpoint-mismatch",
        base,
        `checkpoint {${cp.generation}, ${cp.entries}} vs superblock {${generation}, ${liveEntries}}`,
      );
    }
  }
  if (ext && scan.end < ext.durableEnd) {
    bad(
      "lost-synced-tail",
      base + scan.end,
      `the journal ends here but a sync confirmed it up to device offset ${base + ext.durableEnd}`,
    );
  }
  for (const issue of state.issues) bad(issue.code, base + issue.offset, issue.message);
  const orphans = state.openTransactions();
  const abortsFit = scan.end + orphans.length * (RECORD_OVERHEAD + 8) <= regionBytes;
  for (const o of orphans) {
    bad(
      "orphan-txn",
      base + o.offset,
      `transaction ${o.id} never committed or aborted${abortsFit ? "" : " (no room to abort it)"}`,
      abortsFit,
    );
  }

  // The tail: whatever follows the valid journal must be zeros. Up to the high-water mark when
  // the superblock carries one (the engine keeps everything after it zero), else to the end.
  const hw = ext && layout === "nxs2" ? ext.highWater[activeRegion === "B" ? 1 : 0] : undefined;
  const zeroCheckEnd = hw !== undefined && hw * 512 >= scan.end
    ? Math.min(regionBytes, hw * 512)
    : regionBytes;
  const end = scan.end;
  const stop = scan.stop;
  if (stop.kind === "cut") {
    bad("truncated-tail", base + end, "a record runs past the end of the region", true);
  } else if (stop.kind === "corrupt" && stop.code === "bad-opcode" && stop.op !== 0) {
    // A record of a kind this engine does not know (a newer format?) is data, never garbage.
    bad("unknown-opcode", base + end, `${stop.message}: replay stops here`);
  } else if (stop.kind === "corrupt") {
    const extent = await recordExtent(dev, regionStart, regionBytes, end);
    const beyond = await firstNonZero(dev, regionStart, zeroCheckEnd, extent);
    if (beyond < 0) {
      bad("torn-tail", base + end, `last record is incomplete (${stop.message})`, true);
    } else {
      bad(
        stop.code,
        base + end,
        `${stop.message}; journal bytes after it (from device offset ${
          base + beyond
        }) are unreachable`,
        true,
      );
    }
  } else if (stop.kind === "clean") {
    const garbage = await firstNonZero(dev, regionStart, zeroCheckEnd, end);
    if (garbage >= 0) {
      bad("tail-garbage", base + garbage, "non-zero bytes after the end of the journal", true);
    }
  }
  problems.sort((a, b) => a.offset - b.offset);
  return {
    report: {
      layout,
      status: verdict(problems),
      problems,
      ...(generation !== undefined ? { generation, activeRegion } : {}),
      records: scan.records,
      liveKeys: state.map.size,
      journalEnd: base + end,
    },
    fix: {
      regionStart,
      regionBlocks,
      zeroBlocksEnd: zeroCheckEnd / 512,
      end,
      orphans: orphans.map((o) => o.id),
    },
  };
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Region offset just past the record that starts at `at`: by its header when the lengths are
 * within the caps, else just past the header (a header torn across two blocks reads as garbage).
 */
async function recordExtent(
  dev: BlockDevice,
  regionStart: number,
  regionBytes: number,
  at: number,
): Promise<number> {
  const firstBlock = Math.floor(at / 512);
  const blocks = Math.min(2, regionBytes / 512 - firstBlock);
  const head = await dev.read(regionStart + firstBlock, blocks);
  const o = at - firstBlock * 512;
  const headerEnd = Math.min(regionBytes, at + RECORD_HEADER_SIZE);
  if (head.length - o < RECORD_HEADER_SIZE) return headerEnd;
  const keyLen = head[o + 5] | (head[o + 6] << 8);
  const valLen = readU32(head, o + 7);
  if (keyLen > MAX_KEY_BYTES || valLen > MAX_VALUE_BYTES) return headerEnd;
  return Math.min(regionBytes, at + RECORD_OVERHEAD + keyLen + valLen);
}

/** Region offset of the first non-zero byte at or after `from`, or -1. */
async function firstNonZero(
  dev: BlockDevice,
  regionStart: number,
  regionBytes: number,
  from: number,
): Promise<number> {
  const CHUNK = 2048;
  const totalBlocks = regionBytes / 512;
  for (let b = Math.floor(from / 512); b < totalBlocks; b += CHUNK) {
    const n = Math.min(CHUNK, totalBlocks - b);
    const data = await dev.read(regionStart + b, n);
    const skip = Math.max(0, from - b * 512);
    const part = data.subarray(skip);
    if (isZero(part)) continue;
    for (let i = 0; i < part.length; i++) if (part[i] !== 0) return b * 512 + skip + i;
  }
  return -1;
}

function rebuildFrom(cp: { region: 0 | 1; generation: number; entries: number }): Superblock {
  return { activeRegion: cp.region, generation: cp.generation, liveEntries: cp.entries };
}

/** The region whose start holds the Checkpoint of the highest generation, if any. */
async function newestCheckpoint(
  dev: BlockDevice,
): Promise<{ region: 0 | 1; generation: number; entries: number } | undefined> {
  let best: { region: 0 | 1; generation: number; entries: number } | undefined;
  for (const r of [0, 1] as const) {
    const cp = await regionCheckpoint(dev, r);
    if (cp && (!best || cp.generation > best.generation)) best = { region: r, ...cp };
  }
  return best;
}

/** Writes the superblock the surviving Checkpoint describes (one sector), and syncs. */
async function rebuildSuperblock(dev: BlockDevice, sb: Superblock): Promise<void> {
  await dev.write(0, encodeSuperblock(sb));
  await dev.sync();
}

/** Zeroes everything after the journal end, appends TxnAbort for orphans, syncs. */
async function repair(
  dev: BlockDevice,
  fix: Fix,
): Promise<void> {
  const { regionStart, regionBlocks, zeroBlocksEnd, end, orphans } = fix;
  const tailBlock = Math.floor(end / 512);
  // First make the area after the end zeros (durably), then append: no stale byte can follow.
  if (tailBlock < regionBlocks) {
    const block = await dev.read(regionStart + tailBlock, 1);
    const inBlock = end - tailBlock * 512;
    if (!isZero(block.subarray(inBlock))) {
      block.fill(0, inBlock);
      await dev.write(regionStart + tailBlock, block);
    }
    if (zeroBlocksEnd > tailBlock + 1) {
      await zeroBlocks(dev, regionStart + tailBlock + 1, zeroBlocksEnd - tailBlock - 1);
    }
  }
  await dev.sync();
  if (orphans.length === 0) return;
  const size = orphans.length * (RECORD_OVERHEAD + 8);
  if (end + size > regionBlocks * 512) {
    throw new StateFsError("NO_SPACE", "no room in the region to append the TxnAbort records");
  }
  const startByte = tailBlock * 512;
  const blocks = Math.ceil((end + size - startByte) / 512);
  const buf = new Uint8Array(blocks * 512);
  buf.set(await dev.read(regionStart + tailBlock, 1));
  let p = end - startByte;
  for (const id of orphans) {
    p += encodeRecordInto(buf, p, OP_TXN_ABORT, new Uint8Array(0), encodeTxnId(id));
  }
  await dev.write(regionStart + tailBlock, buf);
  await dev.sync();
}
