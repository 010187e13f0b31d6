/**
 * Disk images: the GPT writer/reader, image recipes (TOML) and their deterministic layout,
 * `mkfs` (build a sparse image with a formatted StateFS partition) and opening an image (GPT
 * or whole-device StateFS) as a block device.
 *
 * @module
 */

export * from "../core/statefs/gpt.ts";
export * from "./recipe.ts";
export * from "./image.ts";
export * from "./mkfs.ts";
