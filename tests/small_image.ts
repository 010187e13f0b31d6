/**
 * The small image tests boot and damage when what they prove does not depend on the default
 * image's 64 MiB: the cost of a boot, a copy or a scan grows with the image, the ladder does not.
 *
 * @module
 */

import { mkfsImage } from "../images/mkfs.ts";
import { parseRecipe, type Recipe } from "../images/recipe.ts";

/** The path of `images/recipes/small.toml`, as campaign replay lines name it. */
export const SMALL_RECIPE: string = shippedPath("small");

/** The path of `images/recipes/tiny.toml`, as campaign replay lines name it. */
export const TINY_RECIPE: string = shippedPath("tiny");

function shippedPath(name: string): string {
  return new URL(`../images/recipes/${name}.toml`, import.meta.url).pathname;
}

/**
 * `images/recipes/small.toml`: a 2 MiB GPT image holding only the StateFS partition (sector 40
 * on); the ladder passes on it.
 */
export const SMALL_GPT: Recipe = parseRecipe(await Deno.readTextFile(SMALL_RECIPE), "small");

/**
 * `images/recipes/tiny.toml`: a 512 KiB GPT image. The ladder passes on it too, since its StateFS
 * proofs scale the large-journal and compaction proofs to the region. A boot on it costs about
 * half the CPU of one on {@link SMALL_GPT}, which pays for the seed sweeps; a journal past one
 * replay chunk needs the larger image.
 */
export const TINY_GPT: Recipe = parseRecipe(await Deno.readTextFile(TINY_RECIPE), "tiny");

/** Makes a fresh {@link SMALL_GPT} image at `path` (replacing any file there); returns `path`. */
export async function makeSmallImage(path: string): Promise<string> {
  await mkfsImage(path, { recipe: SMALL_GPT, force: true });
  return path;
}
