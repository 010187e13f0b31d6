/**
 * Opening a disk image: check that the file is usable, find where its StateFS lives (the rules
 * are `core/disk/discover.ts`'s, shared with statefsd: a GPT partition found by type, then by
 * name; or a whole-device StateFS as the original OS writes it; or a provably blank file), and
 * hand out a block device over it.
 *
 * A GPT with one damaged or misplaced copy is read from the valid copy, with a warning; a write
 * is refused while a copy is damaged or missing (`fsck --repair` rewrites it first), so nothing
 * is ever written through a table only half there.
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
  type GptReadResult,
  type GptTable,
  parseGptHeader,
  SECTOR_SIZE,
} from "../core/statefs/gpt.ts";
import {
  discoverDisk,
  DiskLayoutError,
  gptCopiesIntact,
  type WholeDeviceContent,
} from "../core/disk/discover.ts";

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
  | "CORRUPT"
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
  wholeDevice?: WholeDeviceContent;
  /** Where the StateFS is. */
  statefs: StateFsLocation;
  /** The GPT as read (both copies and their problems); `undefined` for a whole device. */
  gpt?: GptReadResult;
  /** How the StateFS partition was found: by its type GUID or by name. */
  foundBy?: "type" | "name";
  /** Problems tolerated (a damaged, missing or misplaced GPT copy), one line each. */
  warnings: string[];
  /** False while a GPT copy is damaged or missing: writes refuse until it is repaired. */
  gptIntact: boolean;
}

/** Options for {@link probeImage} and {@link openImage}. */
export interface ProbeOptions {
  /**
   * Pick the StateFS partition with exactly this name. Default: the partition of the StateFS
   * type, else the one named `nexus-state`, else `state`.
   */
  partition?: string;
}

const LAYOUT_CODES: Record<DiskLayoutError["code"], ImageErrorCode> = {
  TOO_SMALL: "TOO_SMALL",
  NOT_AN_IMAGE: "NOT_AN_IMAGE",
  BAD_GPT: "BAD_GPT",
  NO_PARTITION: "NO_PARTITION",
  AMBIGUOUS_PARTITION: "NO_PARTITION",
  NOT_BLANK: "CORRUPT",
};

/** Reads exactly `length` bytes at `offset` of an open image; a short file is an IO_ERROR. */
export async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const out = await readUpTo(file, offset, length);
  if (out.length < length) {
    throw new ImageError("IO_ERROR", `short read at byte ${offset + out.length}`);
  }
  return out;
}

/** Up to `length` bytes of `file` from `offset`: fewer only where the file ends. */
export async function readUpTo(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return out.subarray(0, got);
}

/** Checks that `path` is an existing regular file; returns its size. */
export async function statImage(path: string): Promise<number> {
  return (await statFile(path)).size;
}

async function statFile(path: string): Promise<Deno.FileInfo> {
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
  return st;
}

/**
 * Probes an image without changing it: file checks, then where the StateFS lives (a GPT read
 * from its valid copy, a whole-device StateFS, or a provably blank file).
 * Throws {@link ImageError} when the file is not a usable image.
 */
export async function probeImage(path: string, opts: ProbeOptions = {}): Promise<ImageInfo> {
  const st = await statFile(path);
  const sizeBytes = st.size;
  const totalSectors = sizeBytes / SECTOR_SIZE;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new ImageError("IO_ERROR", `${path}: ${err instanceof Error ? err.message : err}`);
  }
  try {
    const read = (lba: number, count: number) =>
      readAt(file, lba * SECTOR_SIZE, count * SECTOR_SIZE);
    // A header that is sound on its own but points past the end of the file means the file
    // was cut short; say so rather than report the missing backup.
    if (totalSectors >= GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1) {
      try {
        const h = parseGptHeader(await read(1, 1), 1, Number.MAX_SAFE_INTEGER);
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
    let shape;
    try {
      // A file without one allocated block is all holes: blank without reading it.
      const holes = st.blocks === 0;
      const scanRead = holes
        ? (_lba: number, count: number) => Promise.resolve(new Uint8Array(count * SECTOR_SIZE))
        : read;
      shape = await discoverDisk(scanRead, totalSectors, { partition: opts.partition });
    } catch (err) {
      if (err instanceof DiskLayoutError) {
        throw new ImageError(LAYOUT_CODES[err.code], `${path}: ${err.message}`);
      }
      throw err;
    }
    if (shape.kind === "whole-device") {
      return {
        path,
        sizeBytes,
        totalSectors,
        wholeDevice: shape.content,
        statefs: { offsetBytes: 0, lengthBytes: sizeBytes },
        warnings: [],
        gptIntact: true,
      };
    }
    const partition = shape.partition;
    return {
      path,
      sizeBytes,
      totalSectors,
      table: shape.gpt.table,
      gpt: shape.gpt,
      foundBy: shape.foundBy,
      statefs: {
        partition,
        offsetBytes: partition.firstLba * SECTOR_SIZE,
        lengthBytes: (partition.lastLba - partition.firstLba + 1) * SECTOR_SIZE,
      },
      warnings: shape.warnings,
      gptIntact: gptCopiesIntact(shape.gpt),
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
  if (opts.write && !info.gptIntact) {
    const why = (info.gpt?.problems ?? []).map((p) => p.message).join("; ");
    throw new ImageError(
      "CORRUPT",
      `${path}: corrupt partition table (${why}); nothing written (repair it first: nexus image fsck --repair ${path})`,
    );
  }
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
