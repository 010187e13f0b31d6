/**
 * Where the StateFS lives on a disk, decided the same way by the image tools (reading a file)
 * and by statefsd (reading through its virtio-blk driver):
 *
 * - a disk with GPT evidence (a protective MBR at LBA 0, a header at LBA 1, or, when LBA 0 is
 *   zero, a backup header at the last LBA) is a GPT disk: the table comes from the valid copy
 *   (a damaged or misplaced copy is a warning), and the StateFS partition is found by its type
 *   GUID first ({@link STATEFS_TYPE_GUID}), then by name (`nexus-state`, or `state` as the
 *   original OS names it);
 * - otherwise a disk whose LBA 0 holds an NXS2 superblock or a journal record is a whole-device
 *   StateFS (the original OS's disk shape: StateFS from byte 0, no partition table);
 * - a disk of zeros is a blank whole device, and so is one that holds nothing but an
 *   interrupted format (see {@link scanBlank}); a disk whose LBA 0 is zero but that holds
 *   anything else is "not blank" and is refused, because it may be a damaged table or StateFS.
 *
 * Only reads; nothing here writes.
 *
 * @example
 * ```ts
 * import { discoverDisk } from "./discover.ts";
 * const disk = new Uint8Array(64 * 512);
 * const read = (lba: number, n: number) => Promise.resolve(disk.slice(lba * 512, (lba + n) * 512));
 * const shape = await discoverDisk(read, 64);
 * console.log(shape.kind); // "whole-device" (blank)
 * ```
 *
 * @module
 */

import {
  GPT_HEAD_SECTORS,
  GPT_TAIL_SECTORS,
  GptError,
  type GptPartition,
  type GptReadResult,
  hasGptSignature,
  hasProtectiveMbr,
  readGpt,
  SECTOR_SIZE,
  type SectorReader,
  STATEFS_TYPE_GUID,
} from "../statefs/gpt.ts";
import {
  checkpointValue,
  encodeRecordInto,
  hasSuperblockMagic,
  OP_CHECKPOINT,
  RECORD_MAGIC,
} from "../statefs/journal.ts";

/** Name nexus gives the StateFS partition. */
export const STATEFS_PARTITION_NAME = "nexus-state";
/** Name the original OS gives its StateFS partition; accepted when nothing else matches. */
export const ORIGINAL_STATEFS_PARTITION_NAME = "state";
/** Sectors read per request while proving a disk blank (64 KiB). */
const SCAN_SECTORS = 128;

/** Stable codes for disks whose StateFS cannot be located. */
export type DiskLayoutErrorCode =
  | "TOO_SMALL"
  | "NOT_AN_IMAGE"
  | "BAD_GPT"
  | "NO_PARTITION"
  | "AMBIGUOUS_PARTITION"
  | "NOT_BLANK";

/** A disk whose StateFS cannot be located, with a stable code. */
export class DiskLayoutError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: DiskLayoutErrorCode, message: string) {
    super(message);
    this.name = "DiskLayoutError";
  }
}

/** What LBA 0 of a whole-device StateFS holds. */
export type WholeDeviceContent = "nxs2" | "legacy" | "blank";

/** Where a disk keeps its StateFS. */
export type DiskShape =
  | {
    kind: "gpt";
    /** The table as read, with both copies and every problem. */
    gpt: GptReadResult;
    /** The StateFS partition. */
    partition: GptPartition;
    /** How the partition was picked. */
    foundBy: "type" | "name";
    /** One line per GPT problem tolerated (a damaged, missing or misplaced copy). */
    warnings: string[];
  }
  | {
    kind: "whole-device";
    /** What LBA 0 holds. */
    content: WholeDeviceContent;
    /** Always empty: a whole device has no table to be damaged. */
    warnings: string[];
  };

/** Options for {@link discoverDisk}. */
export interface DiscoverOptions {
  /** Pick the partition with exactly this name (no type lookup). */
  partition?: string;
}

/** Whether every byte of `b` is zero (four bytes at a time where the view is aligned). */
function allZero(b: Uint8Array): boolean {
  const head = b.byteOffset % 4 === 0 ? b.length - (b.length % 4) : 0;
  if (head > 0) {
    const words = new Uint32Array(b.buffer, b.byteOffset, head / 4);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  }
  for (let i = head; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function startsWithRecord(b: Uint8Array): boolean {
  return ((b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0) === RECORD_MAGIC;
}

/** What an interrupted NXS2 format leaves in block 1: `Checkpoint{1, 0}` and zeros. */
function interruptedFormatBlock(): Uint8Array {
  const b = new Uint8Array(SECTOR_SIZE);
  encodeRecordInto(b, 0, OP_CHECKPOINT, new Uint8Array(0), checkpointValue(1, 0));
  return b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The outcome of {@link scanBlank}. */
export type BlankScan =
  | {
    blank: true;
    /** True when block 1 holds the `Checkpoint{1, 0}` of a format that never wrote block 0. */
    interruptedFormat: boolean;
  }
  | {
    blank: false;
    /** First block (relative to `start`) that holds data. */
    firstDataBlock: number;
  };

/**
 * Proves an area of `count` blocks from `start` blank: every block zero, except that block 1
 * may hold exactly what an NXS2 format writes before its superblock (`Checkpoint{1, 0}` then
 * zeros), the garbage a format cut short leaves. Anything else is data that may be a damaged
 * StateFS or table, so the area is not blank. Reads the whole area in 64 KiB requests.
 */
export async function scanBlank(
  read: SectorReader,
  start: number,
  count: number,
): Promise<BlankScan> {
  let interrupted = false;
  for (let at = 0; at < count; at += SCAN_SECTORS) {
    const n = Math.min(SCAN_SECTORS, count - at);
    const bytes = await read(start + at, n);
    if (allZero(bytes)) continue;
    for (let i = 0; i < n; i++) {
      const block = bytes.subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE);
      if (allZero(block)) continue;
      if (at + i === 1 && sameBytes(block, interruptedFormatBlock())) {
        interrupted = true;
        continue;
      }
      return { blank: false, firstDataBlock: at + i };
    }
  }
  return { blank: true, interruptedFormat: interrupted };
}

/**
 * Picks the StateFS partition: by exact name when `name` is given; otherwise the one partition
 * of type {@link STATEFS_TYPE_GUID}, else the one named `nexus-state`, else the one named
 * `state`. Throws {@link DiskLayoutError} `NO_PARTITION` or `AMBIGUOUS_PARTITION`.
 */
export function pickStateFsPartition(
  partitions: readonly GptPartition[],
  name?: string,
): { partition: GptPartition; foundBy: "type" | "name" } {
  const one = (list: GptPartition[], what: string): GptPartition | undefined => {
    if (list.length > 1) {
      throw new DiskLayoutError(
        "AMBIGUOUS_PARTITION",
        `${list.length} partitions ${what} (${list.map((p) => `#${p.index}`).join(", ")})`,
      );
    }
    return list[0];
  };
  if (name !== undefined) {
    const p = one(partitions.filter((p) => p.name === name), `named "${name}"`);
    if (p) return { partition: p, foundBy: "name" };
    throw new DiskLayoutError("NO_PARTITION", noPartitionMessage(partitions, `named "${name}"`));
  }
  const typed = one(
    partitions.filter((p) => p.typeGuid === STATEFS_TYPE_GUID),
    `have the StateFS type ${STATEFS_TYPE_GUID}`,
  );
  if (typed) return { partition: typed, foundBy: "type" };
  for (const n of [STATEFS_PARTITION_NAME, ORIGINAL_STATEFS_PARTITION_NAME]) {
    const p = one(partitions.filter((p) => p.name === n), `named "${n}"`);
    if (p) return { partition: p, foundBy: "name" };
  }
  throw new DiskLayoutError(
    "NO_PARTITION",
    noPartitionMessage(
      partitions,
      `of type ${STATEFS_TYPE_GUID} or named "${STATEFS_PARTITION_NAME}" or "${ORIGINAL_STATEFS_PARTITION_NAME}"`,
    ),
  );
}

function noPartitionMessage(partitions: readonly GptPartition[], what: string): string {
  const names = partitions.map((p) => p.name || `#${p.index}`).join(", ");
  return `no partition ${what} (partitions: ${names || "none"})`;
}

/** One warning line per problem of a GPT that is still usable. */
export function gptWarnings(gpt: GptReadResult): string[] {
  const out = gpt.problems.map((p) => p.message);
  if (gpt.source === "backup") out.push("using the backup GPT");
  return out;
}

/**
 * Whether the GPT's problems leave both copies intact (only a misplaced backup or a missing
 * protective MBR would remain), i.e. whether a write may trust the table as is.
 */
export function gptCopiesIntact(gpt: GptReadResult): boolean {
  return gpt.primary.ok && gpt.backup.ok &&
    gpt.problems.every((p) => p.code === "BACKUP_MISPLACED");
}

/**
 * Decides where the StateFS of a disk of `totalSectors` sectors lives (see the module doc).
 * Throws {@link DiskLayoutError}; a GPT whose copies are both unusable, or both valid but
 * different, is `BAD_GPT`.
 */
export async function discoverDisk(
  read: SectorReader,
  totalSectors: number,
  opts: DiscoverOptions = {},
): Promise<DiskShape> {
  if (!Number.isSafeInteger(totalSectors) || totalSectors < 1) {
    throw new DiskLayoutError("TOO_SMALL", `a disk of ${totalSectors} sectors holds nothing`);
  }
  const lba0 = await read(0, 1);
  const lba1 = totalSectors > 1 ? await read(1, 1) : undefined;
  const last = totalSectors > 1 ? await read(totalSectors - 1, 1) : undefined;
  const statefsAt0 = hasSuperblockMagic(lba0) || startsWithRecord(lba0);
  const gptEvidence = hasProtectiveMbr(lba0) || (lba1 !== undefined && hasGptSignature(lba1)) ||
    (!statefsAt0 && last !== undefined && hasGptSignature(last));
  if (gptEvidence) {
    if (totalSectors < GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1) {
      throw new DiskLayoutError(
        "TOO_SMALL",
        `${totalSectors} sectors is too small to hold the GPT the disk starts with`,
      );
    }
    let gpt: GptReadResult;
    try {
      gpt = await readGpt(read, totalSectors);
    } catch (err) {
      if (err instanceof GptError) throw new DiskLayoutError("BAD_GPT", err.message);
      throw err;
    }
    const disagree = gpt.problems.find((p) => p.code === "BACKUP_MISMATCH");
    if (disagree) {
      // Two self-consistent copies that differ: nothing says which one is right.
      throw new DiskLayoutError("BAD_GPT", disagree.message);
    }
    const { partition, foundBy } = pickStateFsPartition(gpt.table.partitions, opts.partition);
    return { kind: "gpt", gpt, partition, foundBy, warnings: gptWarnings(gpt) };
  }
  if (hasSuperblockMagic(lba0)) return { kind: "whole-device", content: "nxs2", warnings: [] };
  if (startsWithRecord(lba0)) return { kind: "whole-device", content: "legacy", warnings: [] };
  if (!allZero(lba0)) {
    const mbr = lba0[510] === 0x55 && lba0[511] === 0xaa;
    throw new DiskLayoutError(
      "NOT_AN_IMAGE",
      mbr
        ? "has an MBR partition table without GPT; not a nexus image"
        : "not a nexus image (no GPT, no StateFS superblock, no journal record at byte 0)",
    );
  }
  const scan = await scanBlank(read, 0, totalSectors);
  if (!scan.blank) {
    throw new DiskLayoutError(
      "NOT_BLANK",
      `sector 0 is zero but sector ${scan.firstDataBlock} holds data: not a blank disk (a damaged partition table or StateFS?); nothing was written`,
    );
  }
  return { kind: "whole-device", content: "blank", warnings: [] };
}
