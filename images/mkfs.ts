/**
 * `mkfs`: build a disk image. The `gpt` layout (the default) follows a recipe: a sparse file of
 * the image size, the GPT at both ends, and a freshly formatted StateFS (generation 1) in the
 * `nexus-state` partition; every other partition is left as zeros (holes in the file). The
 * `whole-device` layout is the original OS's disk shape: no partition table, the StateFS from
 * byte 0 of the file.
 *
 * Everything that can be checked is checked before the file is touched, and an existing file is
 * only replaced when the caller says so.
 *
 * @module
 */

import { dirname } from "./host_path.ts";
import { FileBlockDevice, StateFs, type StateFsStats } from "../core/statefs/mod.ts";
import { encodeGpt, type GptPartition, type GptTable, SECTOR_SIZE } from "../core/statefs/gpt.ts";
import { ImageError } from "./image.ts";
import {
  defaultRecipe,
  formatSize,
  planImage,
  type Recipe,
  RecipeError,
  STATEFS_MIN_BYTES,
  STATEFS_PARTITION,
} from "./recipe.ts";

/** Disk layouts mkfs builds. */
export type ImageLayout = "gpt" | "whole-device";
/** Every layout, for messages. */
export const IMAGE_LAYOUTS: readonly ImageLayout[] = ["gpt", "whole-device"];

/** Options for {@link mkfsImage}. */
export interface MkfsOptions {
  /** `gpt` (default): partitions from the recipe; `whole-device`: StateFS from byte 0. */
  layout?: ImageLayout;
  /** The recipe (default: `images/recipes/default.toml`); only its size for `whole-device`. */
  recipe?: Recipe;
  /** Image size in bytes, overriding the recipe's. */
  sizeBytes?: number;
  /** Replace an existing file. */
  force?: boolean;
}

/** What {@link mkfsImage} built. */
export interface MkfsResult {
  /** Path of the image. */
  path: string;
  /** The layout built. */
  layout: ImageLayout;
  /** Size of the image in sectors. */
  totalSectors: number;
  /** The partition table written (`gpt` layout only). */
  table?: GptTable;
  /** The StateFS partition (`gpt` layout only). */
  partition?: GptPartition;
  /** The formatted StateFS, as its engine reports it. */
  stats: StateFsStats;
}

async function checkTarget(path: string, force: boolean): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new ImageError("IO_ERROR", `${path}: ${err instanceof Error ? err.message : err}`);
  }
  if (!st.isFile) {
    throw new ImageError("NOT_A_FILE", `${path}: exists and is not a regular file`);
  }
  if (!force) {
    throw new ImageError("EXISTS", `${path}: already exists (use --force to overwrite)`);
  }
}

async function writeAt(file: Deno.FsFile, offset: number, data: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

/**
 * Builds the image at `path`: plans the layout (throwing `RecipeError` when the recipe or size
 * does not work), refuses an existing file unless `force`, writes the sparse file with its GPT,
 * formats the StateFS partition and syncs. On a failure after the file was opened, the
 * half-built file is removed.
 */
export async function mkfsImage(path: string, opts: MkfsOptions = {}): Promise<MkfsResult> {
  const recipe = opts.recipe ?? await defaultRecipe();
  const layout = opts.layout ?? "gpt";
  const sizeBytes = opts.sizeBytes ?? recipe.sizeBytes;
  let table: GptTable | undefined;
  let partition: GptPartition | undefined;
  if (layout === "gpt") {
    table = await planImage(recipe, sizeBytes);
    partition = table.partitions.find((p) => p.name === STATEFS_PARTITION)!;
  } else if (sizeBytes < STATEFS_MIN_BYTES) {
    throw new RecipeError(
      "TOO_SMALL",
      `image size ${
        formatSize(sizeBytes)
      } is too small for a whole-device StateFS: needs at least ${formatSize(STATEFS_MIN_BYTES)}`,
    );
  }
  const totalSectors = sizeBytes / SECTOR_SIZE;
  const gpt = table ? encodeGpt(table) : undefined;
  await checkTarget(path, opts.force ?? false);
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw new ImageError(
      "IO_ERROR",
      `${path}: cannot create its directory: ${err instanceof Error ? err.message : err}`,
    );
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(
      path,
      opts.force ? { write: true, create: true, truncate: true } : { write: true, createNew: true },
    );
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new ImageError("EXISTS", `${path}: already exists (use --force to overwrite)`);
    }
    throw new ImageError("IO_ERROR", `${path}: ${err instanceof Error ? err.message : err}`);
  }
  let device: FileBlockDevice | undefined;
  try {
    try {
      // Extending by truncate leaves holes: only the GPT and the StateFS blocks take space.
      await file.truncate(totalSectors * SECTOR_SIZE);
      if (gpt) {
        await writeAt(file, 0, gpt.head);
        await writeAt(file, gpt.tailLba * SECTOR_SIZE, gpt.tail);
      }
      await file.syncData();
    } finally {
      file.close();
    }
    device = await FileBlockDevice.open(path, {
      offsetBytes: partition ? partition.firstLba * SECTOR_SIZE : 0,
      lengthBytes: partition
        ? (partition.lastLba - partition.firstLba + 1) * SECTOR_SIZE
        : totalSectors * SECTOR_SIZE,
    });
    // The file was just created (or truncated) and extended with holes: all zeros, so format
    // reads and zeroes nothing and the holes stay holes.
    await StateFs.format(device, { zeroed: true });
    const stats = (await StateFs.open(device)).stats();
    return { path, layout, totalSectors, table, partition, stats };
  } catch (err) {
    await Deno.remove(path).catch(() => {});
    if (err instanceof ImageError) throw err;
    throw new ImageError(
      "IO_ERROR",
      `${path}: building the image failed: ${err instanceof Error ? err.message : err}`,
    );
  } finally {
    device?.close();
  }
}
