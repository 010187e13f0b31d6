/**
 * Disk images: the GPT writer/reader, where a disk keeps its StateFS, image recipes (TOML) and
 * their deterministic layout, `mkfs` (a sparse GPT image with a formatted StateFS partition, or
 * a whole-device StateFS) and opening an image as a block device.
 *
 * @module
 */

export * from "../core/statefs/gpt.ts";
export * from "../core/disk/discover.ts";
export * from "./recipe.ts";
export * from "./image.ts";
export * from "./mkfs.ts";
export * from "./gpt_repair.ts";
