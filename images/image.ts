/**
 * Opening a disk image: check that the file is usable, read and verify its GPT, find the StateFS
 * partition by name, and hand out a block device over it. A file with no partition table that
 * holds a whole-device StateFS (NXS2 superblock, legacy journal from byte 0, or all zeros, as
 * the original OS writes it) opens too, as one device over the whole file.
 *
 * Probing only reads; a device is opened read-only unless the caller asks to write.
 *
 * @module
 */

import { FileBlockDevice } from "../core/statefs/mod.ts";
import {
  GPT_HEAD_SECTORS,
  GPT_TAIL_SECTORS,
  GptError,
  type GptPartition,
  type GptTable,
  hasGptSignature,
  hasProtectiveMbr,
  parseGptHeader,
  readGpt,
  SECTOR_SIZE,
} from "../core/statefs/gpt.ts";
import { STATEFS_PARTITION } from "./recipe.ts";

/** Stable codes for images that cannot be used. */
export type ImageErrorCode =
  | "NOT_FOUND"
  | "NOT_A_FILE"
  | "EXISTS"
  | "TOO_SMALL"
  | "UNALIGNED"
  | "NOT_AN_IMAGE"
  | "BAD_GPT"
  | "NO_PARTITION"
  | "IO_ERROR";

/** An image file that cannot be used as asked, with a stable code. */
export class ImageError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: ImageErrorCode, message: string) {
    super(message);
    this.name = "ImageError";
  }
}

/** What a probe found where the StateFS lives. */
export interface StateFsLocation {
  /** The partition holding it, or `undefined` for a whole-device StateFS. */
  partition?: GptPartition;
  /** Byte offset of the StateFS area in the file. */
  offsetBytes: number;
  /** Length of the StateFS area in bytes. */
  lengthBytes: number;
}

/** The result of probing an image file. */
export interface ImageInfo {
  /** Path as given. */
  path: string;
  /** File size in bytes. */
  sizeBytes: number;
  /** File size in 512-byte sectors. */
  totalSectors: number;
  /** The partition table, or `undefined` when the file is a whole-device StateFS. */
  table?: GptTable;
  /**
   * What block 0 of a whole-device StateFS looks like: an NXS2 superblock, a v1 record, or
   * zeros (an empty legacy device). `undefined` for GPT images.
   */
  wholeDevice?: "nxs2" | "legacy" | "blank";
  /** Where the StateFS is. */
  statefs: StateFsLocation;
}

/** Options for {@link probeImage} and {@link openImage}. */
export interface ProbeOptions {
  /** Name of the StateFS partition (default `nexus-state`). */
  partition?: string;
}

const NXS2_MAGIC = [0x4e, 0x58, 0x53, 0x32]; // "NXS2"
const RECORD_MAGIC = [0x46, 0x53, 0x58, 0x4e]; // u32 0x4E585346, little-endian

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  if (got < length) {
    throw new ImageError("IO_ERROR", `short read at byte ${offset + got}`);
  }
  return out;
}

/** Checks that `path` is an existing regular file; returns its size. */
export async function statImage(path: string): Promise<number> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ImageError("NOT_FOUND", `${path}: no such file`);
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new ImageError("IO_ERROR", `${path}: permission denied`);
    }
    throw new ImageError("IO_ERROR", `${path}: ${err instanceof Error ? err.message : err}`);
  }
  if (st.isDirectory) throw new ImageError("NOT_A_FILE", `${path}: is a directory`);
  if (!st.isFile) throw new ImageError("NOT_A_FILE", `${path}: not a regular file`);
  if (st.size < SECTOR_SIZE) {
    throw new ImageError(
      "TOO_SMALL",
      `${path}: file too small (${st.size} bytes; an image holds at least one ${SECTOR_SIZE}-byte sector)`,
    );
  }
  if (st.size % SECTOR_SIZE !== 0) {
    throw new ImageError(
      "UNALIGNED",
      `${path}: size ${st.size} bytes is not a multiple of ${SECTOR_SIZE}`,
    );
  }
  return st.size;
}

/**
 * Probes an image without changing it: file checks, GPT (both copies must be valid and
 * agree) or whole-device StateFS detection, and the StateFS partition lookup.
 * Throws {@link ImageError} when the file is not a usable image.
 */
export async function probeImage(path: string, opts: ProbeOptions = {}): Promise<ImageInfo> {
  const sizeBytes = await statImage(path);
  const totalSectors = sizeBytes / SECTOR_SIZE;
  const wanted = opts.partition ?? STATEFS_PARTITION;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new ImageError("IO_ERROR", `${path}: ${err instanceof Error ? err.message : err}`);
  }
  try {
    const lba0 = await readAt(file, 0, SECTOR_SIZE);
    const lba1 = totalSectors > 1 ? await readAt(file, SECTOR_SIZE, SECTOR_SIZE) : undefined;
    const gpt = hasProtectiveMbr(lba0) || (lba1 !== undefined && hasGptSignature(lba1));
    if (!gpt) {
      const whole = startsWith(lba0, NXS2_MAGIC)
        ? "nxs2"
        : startsWith(lba0, RECORD_MAGIC)
        ? "legacy"
        : lba0.every((b) => b === 0)
        ? "blank"
        : undefined;
      if (!whole) {
        const mbr = lba0[510] === 0x55 && lba0[511] === 0xaa;
        throw new ImageError(
          "NOT_AN_IMAGE",
          mbr
            ? `${path}: has an MBR partition table without GPT; not a nexus image`
            : `${path}: not a nexus image (no GPT, no StateFS superblock, no journal record at byte 0)`,
        );
      }
      return {
        path,
        sizeBytes,
        totalSectors,
        wholeDevice: whole,
        statefs: { offsetBytes: 0, lengthBytes: sizeBytes },
      };
    }
    if (totalSectors < GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1) {
      throw new ImageError(
        "TOO_SMALL",
        `${path}: file too small (${sizeBytes} bytes) to hold the GPT it starts with`,
      );
    }
    // A header that is sound on its own but points past the end of the file means the file
    // was cut short; say so rather than report the missing backup.
    if (lba1 !== undefined) {
      try {
        const h = parseGptHeader(lba1, 1, Number.MAX_SAFE_INTEGER);
        if (h.alternateLba >= totalSectors) {
          throw new ImageError(
            "TOO_SMALL",
            `${path}: file is ${sizeBytes} bytes but its GPT describes ${
              (h.alternateLba + 1) * SECTOR_SIZE
            } (truncated?)`,
          );
        }
      } catch (err) {
        if (!(err instanceof GptError)) throw err;
      }
    }
    const read = (lba: number, count: number) =>
      readAt(file, lba * SECTOR_SIZE, count * SECTOR_SIZE);
    let result;
    try {
      result = await readGpt(read, totalSectors);
    } catch (err) {
      if (err instanceof GptError) throw new ImageError("BAD_GPT", `${path}: ${err.message}`);
      throw err;
    }
    if (result.problems.length > 0) {
      throw new ImageError("BAD_GPT", `${path}: ${result.problems[0].message}`);
    }
    const partition = result.table.partitions.find((p) => p.name === wanted);
    if (!partition) {
      const names = result.table.partitions.map((p) => p.name || `#${p.index}`).join(", ");
      throw new ImageError(
        "NO_PARTITION",
        `${path}: no partition named "${wanted}" (partitions: ${names || "none"})`,
      );
    }
    return {
      path,
      sizeBytes,
      totalSectors,
      table: result.table,
      statefs: {
        partition,
        offsetBytes: partition.firstLba * SECTOR_SIZE,
        lengthBytes: (partition.lastLba - partition.firstLba + 1) * SECTOR_SIZE,
      },
    };
  } finally {
    file.close();
  }
}

/** Options for {@link openImage}. */
export interface OpenImageOptions extends ProbeOptions {
  /** Open the StateFS area for writing (default: read-only). */
  write?: boolean;
}

/** A probed image with a block device over its StateFS area. */
export interface OpenedImage {
  /** What the probe found. */
  info: ImageInfo;
  /** The StateFS area as a block device (read-only unless opened for writing). */
  device: FileBlockDevice;
  /** Closes the device. */
  close(): void;
}

/** Probes `path` and opens a block device over its StateFS area. */
export async function openImage(path: string, opts: OpenImageOptions = {}): Promise<OpenedImage> {
  const info = await probeImage(path, opts);
  let device: FileBlockDevice;
  try {
    device = await FileBlockDevice.open(path, {
      offsetBytes: info.statefs.offsetBytes,
      lengthBytes: info.statefs.lengthBytes,
      readOnly: !opts.write,
    });
  } catch (err) {
    throw new ImageError("IO_ERROR", `${path}: ${err instanceof Error ? err.message : err}`);
  }
  return { info, device, close: () => device.close() };
}
