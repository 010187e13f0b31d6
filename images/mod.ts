/**
 * Disk images: the GPT writer/reader, where a disk keeps its StateFS, image recipes (TOML) and
 * their deterministic layout, `mkfs` (a sparse GPT image with a formatted StateFS partition, or
 * a whole-device StateFS) and opening an image as a block device.
 *
 * @example Build a default image and look inside it
 * ```ts
 * import { mkfsImage, probeImage } from "./mod.ts";
 *
 * await mkfsImage("build/demo.img", { force: true }); // 64 MiB, GPT, an empty StateFS
 * const info = await probeImage("build/demo.img");
 * console.log(info);
 * ```
 *
 * @module
 */

export * from "../core/statefs/gpt.ts";
export * from "../core/disk/discover.ts";
export * from "./recipe.ts";
export * from "./image.ts";
export * from "./mkfs.ts";
export * from "./gpt_repair.ts";
