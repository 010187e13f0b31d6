/**
 * Disk images: the GPT writer/reader, image recipes (TOML) and their deterministic layout,
 * `mkfs` (build a sparse image with a formatted StateFS partition) and opening an image (GPT
 * or whole-device StateFS) as a block device.
 *
 * @module
 */

export {
  decodeGuid,
  deriveGuid,
  encodeGpt,
  encodeGuid,
  GPT_ENTRIES_SECTORS,
  GPT_ENTRY_COUNT,
  GPT_ENTRY_SIZE,
  GPT_HEAD_SECTORS,
  GPT_TAIL_SECTORS,
  GptError,
  type GptErrorCode,
  type GptHeader,
  type GptImage,
  type GptPartition,
  type GptReadResult,
  type GptTable,
  gptUsableRange,
  LINUX_DATA_TYPE_GUID,
  readGpt,
  SECTOR_SIZE,
  type SectorReader,
  validateTable,
} from "./gpt.ts";
export {
  DEFAULT_ALIGN_BYTES,
  defaultRecipe,
  defaultRecipeText,
  formatSize,
  MAX_IMAGE_BYTES,
  parseRecipe,
  parseSize,
  planImage,
  type Recipe,
  RecipeError,
  type RecipeErrorCode,
  type RecipePartition,
  STATEFS_MIN_BYTES,
  STATEFS_PARTITION,
} from "./recipe.ts";
export {
  ImageError,
  type ImageErrorCode,
  type ImageInfo,
  type OpenedImage,
  openImage,
  type OpenImageOptions,
  probeImage,
  type ProbeOptions,
  type StateFsLocation,
  statImage,
} from "./image.ts";
export { mkfsImage, type MkfsOptions, type MkfsResult } from "./mkfs.ts";
