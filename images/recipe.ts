/**
 * Image recipes: a TOML description of a disk image (its size, partition alignment and
 * partitions) and the deterministic layout it resolves to. The same recipe and size always give
 * the same partition table, GUIDs included, so the same recipe gives a byte-identical image.
 *
 * ```toml
 * size = "64M"          # image size; `--size` overrides it
 * align = "1M"          # partition start alignment (default 1M)
 * [[partition]]
 * name = "nexus-state"  # required: the StateFS partition
 * size = "rest"         # a size, or "rest" (at most one): what the others leave, aligned down
 * type = "statefs"      # optional: "statefs", "linux-data" or a type GUID; the default is
 *                       # "statefs" for nexus-state and "linux-data" for every other partition
 * ```
 *
 * @module
 */

import { parse as parseToml } from "smol-toml";
import {
  deriveGuid,
  GPT_NAME_MAX,
  GPT_TAIL_SECTORS,
  type GptTable,
  gptUsableRange,
  isGuid,
  LINUX_DATA_TYPE_GUID,
  SECTOR_SIZE,
  STATEFS_TYPE_GUID,
} from "../core/statefs/gpt.ts";

/** Name of the partition that holds the StateFS; every recipe has exactly one. */
export const STATEFS_PARTITION = "nexus-state";
/** Smallest StateFS partition a recipe may ask for. */
export const STATEFS_MIN_BYTES = 64 * 1024;
/** Largest image nexus builds. */
export const MAX_IMAGE_BYTES = 2 ** 40;
/** Partition start alignment when the recipe does not name one. */
export const DEFAULT_ALIGN_BYTES = 1024 * 1024;
/** Partition type aliases a recipe may use instead of a GUID. */
export const TYPE_ALIASES: Readonly<Record<string, string>> = {
  "linux-data": LINUX_DATA_TYPE_GUID,
  "statefs": STATEFS_TYPE_GUID,
};

/** Stable codes for recipe failures. */
export type RecipeErrorCode = "BAD_SIZE" | "BAD_RECIPE" | "TOO_SMALL";

/** A recipe or size that cannot be used, with a stable code. */
export class RecipeError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: RecipeErrorCode, message: string) {
    super(message);
    this.name = "RecipeError";
  }
}

/** One partition of a recipe. */
export interface RecipePartition {
  /** Partition name (GPT name, at most 36 UTF-16 code units). */
  name: string;
  /** Size in bytes (a multiple of 512), or "rest" for what the others leave. */
  size: number | "rest";
  /** Partition type GUID. */
  typeGuid: string;
}

/** A parsed, validated recipe. */
export interface Recipe {
  /** Where the recipe came from (a path, or "default"), for messages. */
  source: string;
  /** Image size in bytes. */
  sizeBytes: number;
  /** Partition start alignment in bytes. */
  alignBytes: number;
  /** Partitions in table order. */
  partitions: RecipePartition[];
}

const SIZE_RE = /^(\d+)\s*(?:([KMGT])(?:iB)?)?$/i;
const UNIT: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses a size: plain bytes (`67108864`) or a number with a binary unit (`512K`, `64M`,
 * `64MiB`, `1G`). The result must be positive, a multiple of 512 and at most 1 TiB.
 */
export function parseSize(value: unknown, what = "size"): number {
  let bytes: number;
  if (typeof value === "number" || typeof value === "bigint") {
    bytes = Number(value);
  } else if (typeof value === "string") {
    const m = SIZE_RE.exec(value.trim());
    if (!m) {
      throw new RecipeError(
        "BAD_SIZE",
        `bad ${what} "${value}": expected bytes or a number with K, M, G or T (e.g. 64M, 64MiB, 512K)`,
      );
    }
    bytes = Number(m[1]) * (m[2] ? UNIT[m[2].toUpperCase()] : 1);
  } else {
    throw new RecipeError(
      "BAD_SIZE",
      `bad ${what}: expected a string like "64M" or a number of bytes`,
    );
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new RecipeError(
      "BAD_SIZE",
      `bad ${what} ${String(value)}: must be a positive number of bytes`,
    );
  }
  if (bytes > MAX_IMAGE_BYTES) {
    throw new RecipeError("BAD_SIZE", `bad ${what} ${String(value)}: at most 1T`);
  }
  if (bytes % SECTOR_SIZE !== 0) {
    throw new RecipeError(
      "BAD_SIZE",
      `bad ${what} ${String(value)}: ${bytes} bytes is not a multiple of ${SECTOR_SIZE}`,
    );
  }
  return bytes;
}

/** Formats a byte count with the largest binary unit that divides it (`64 MiB`, `1536 B`). */
export function formatSize(bytes: number): string {
  for (
    const [unit, n] of [["TiB", 2 ** 40], ["GiB", 2 ** 30], ["MiB", 2 ** 20], [
      "KiB",
      2 ** 10,
    ]] as const
  ) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} B`;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function checkKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new RecipeError(
        "BAD_RECIPE",
        `${where}: unknown key "${key}" (expected ${allowed.join(", ")})`,
      );
    }
  }
}

/** Parses and validates recipe TOML text; `source` names it in messages. */
export function parseRecipe(text: string, source: string): Recipe {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new RecipeError("BAD_RECIPE", `recipe ${source}: invalid TOML: ${first}`);
  }
  const where = `recipe ${source}`;
  checkKeys(doc, ["size", "align", "partition"], where);
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof RecipeError) throw new RecipeError(err.code, `${where}: ${err.message}`);
      throw err;
    }
  };
  const sizeBytes = doc.size === undefined ? 64 * 2 ** 20 : wrap(() => parseSize(doc.size, "size"));
  const alignBytes = doc.align === undefined
    ? DEFAULT_ALIGN_BYTES
    : wrap(() => parseSize(doc.align, "align"));
  if (!Array.isArray(doc.partition) || doc.partition.length === 0) {
    throw new RecipeError("BAD_RECIPE", `${where}: needs at least one [[partition]]`);
  }
  const names = new Set<string>();
  const partitions: RecipePartition[] = doc.partition.map((raw: unknown, i: number) => {
    const pw = `${where}: partition ${i + 1}`;
    if (!isTable(raw)) throw new RecipeError("BAD_RECIPE", `${pw}: not a table`);
    checkKeys(raw, ["name", "size", "type"], pw);
    const name = raw.name;
    if (typeof name !== "string" || name.length === 0) {
      throw new RecipeError("BAD_RECIPE", `${pw}: needs a non-empty string "name"`);
    }
    if (name.length > GPT_NAME_MAX || name.includes("\0")) {
      throw new RecipeError(
        "BAD_RECIPE",
        `${pw}: name "${name}" must be at most ${GPT_NAME_MAX} UTF-16 code units, without NUL`,
      );
    }
    if (names.has(name)) {
      throw new RecipeError("BAD_RECIPE", `${where}: partition name "${name}" repeats`);
    }
    names.add(name);
    if (raw.size === undefined) {
      throw new RecipeError("BAD_RECIPE", `${pw} ("${name}"): needs a "size" (or "rest")`);
    }
    const size = raw.size === "rest"
      ? "rest"
      : wrap(() => parseSize(raw.size, `size of "${name}"`));
    let typeGuid = name === STATEFS_PARTITION ? STATEFS_TYPE_GUID : LINUX_DATA_TYPE_GUID;
    if (raw.type !== undefined) {
      if (typeof raw.type !== "string") {
        throw new RecipeError("BAD_RECIPE", `${pw} ("${name}"): "type" must be a string`);
      }
      const alias = TYPE_ALIASES[raw.type];
      if (alias) typeGuid = alias;
      else if (isGuid(raw.type) && !/^[0-]+$/.test(raw.type)) typeGuid = raw.type.toUpperCase();
      else {
        throw new RecipeError(
          "BAD_RECIPE",
          `${pw} ("${name}"): type "${raw.type}" is neither ${
            Object.keys(TYPE_ALIASES).join(", ")
          } nor a non-zero GUID`,
        );
      }
    }
    return { name, size, typeGuid };
  });
  if (partitions.filter((p) => p.size === "rest").length > 1) {
    throw new RecipeError("BAD_RECIPE", `${where}: at most one partition may have size "rest"`);
  }
  if (!names.has(STATEFS_PARTITION)) {
    throw new RecipeError("BAD_RECIPE", `${where}: needs a partition named "${STATEFS_PARTITION}"`);
  }
  const state = partitions.find((p) => p.name === STATEFS_PARTITION)!;
  if (state.size !== "rest" && state.size < STATEFS_MIN_BYTES) {
    throw new RecipeError(
      "BAD_RECIPE",
      `${where}: "${STATEFS_PARTITION}" must be at least ${formatSize(STATEFS_MIN_BYTES)}`,
    );
  }
  return { source, sizeBytes, alignBytes, partitions };
}

/** The text of the default recipe shipped with nexus (`images/recipes/default.toml`). */
export function defaultRecipeText(): Promise<string> {
  // Named from the repository root (`../`) so the bundled entry in dist/ finds it too.
  return Deno.readTextFile(new URL("../images/recipes/default.toml", import.meta.url));
}

/** Loads the default recipe. */
export async function defaultRecipe(): Promise<Recipe> {
  return parseRecipe(await defaultRecipeText(), "default");
}

/** A partition placed on the disk, before GUIDs are assigned. */
interface Placed {
  name: string;
  typeGuid: string;
  firstLba: number;
  lastLba: number;
}

function place(recipe: Recipe, totalSectors: number, restSectors: number): Placed[] {
  const align = recipe.alignBytes / SECTOR_SIZE;
  let next = Math.ceil(gptUsableRange(totalSectors).firstUsableLba / align) * align;
  return recipe.partitions.map((p) => {
    const sectors = p.size === "rest" ? restSectors : p.size / SECTOR_SIZE;
    const firstLba = next;
    next = Math.ceil((firstLba + sectors) / align) * align;
    return { name: p.name, typeGuid: p.typeGuid, firstLba, lastLba: firstLba + sectors - 1 };
  });
}

/**
 * Resolves `recipe` into a partition table for an image of `sizeBytes` (default: the recipe's
 * size): partitions in recipe order, each start aligned, "rest" filling what is left (aligned
 * down), and GUIDs derived from the resolved layout. Throws {@link RecipeError} `TOO_SMALL`
 * when the partitions do not fit.
 */
export async function planImage(recipe: Recipe, sizeBytes = recipe.sizeBytes): Promise<GptTable> {
  const totalSectors = sizeBytes / SECTOR_SIZE;
  const align = recipe.alignBytes / SECTOR_SIZE;
  const hasRest = recipe.partitions.some((p) => p.size === "rest");
  // Smallest sensible "rest": one alignment unit, and never below the StateFS minimum.
  const minRest = Math.ceil(Math.max(align, STATEFS_MIN_BYTES / SECTOR_SIZE) / align) * align;
  const minimal = place(recipe, Number.MAX_SAFE_INTEGER / 4, hasRest ? minRest : 0);
  const neededSectors = (minimal.at(-1)?.lastLba ?? 0) + 1 + GPT_TAIL_SECTORS;
  // The exact minimum is rarely a round number, so the message also names a round size that fits.
  const roundSectors = Math.ceil(neededSectors / align) * align;
  const { lastUsableLba } = gptUsableRange(totalSectors);
  const tooSmall = () =>
    new RecipeError(
      "TOO_SMALL",
      `image size ${
        formatSize(sizeBytes)
      } is too small for recipe ${recipe.source}: needs at least ${
        neededSectors * SECTOR_SIZE
      } bytes (${formatSize(roundSectors * SECTOR_SIZE)} fits)`,
    );
  if (totalSectors < neededSectors) throw tooSmall();
  let rest = 0;
  if (hasRest) {
    const withoutRest = place(recipe, totalSectors, 0);
    const end = withoutRest.at(-1)!.lastLba + 1;
    rest = Math.floor((lastUsableLba + 1 - end) / align) * align;
  }
  const placed = place(recipe, totalSectors, rest);
  if (placed.at(-1)!.lastLba > lastUsableLba) throw tooSmall();
  const seed = JSON.stringify({ v: 1, totalSectors, placed });
  const partitions = [];
  for (const [i, p] of placed.entries()) {
    partitions.push({
      index: i + 1,
      typeGuid: p.typeGuid,
      uniqueGuid: await deriveGuid(`nexus-partition:${i + 1}:${seed}`),
      firstLba: p.firstLba,
      lastLba: p.lastLba,
      attributes: 0n,
      name: p.name,
    });
  }
  return {
    totalSectors,
    diskGuid: await deriveGuid(`nexus-disk:${seed}`),
    ...gptUsableRange(totalSectors),
    partitions,
  };
}
