/**
 * Which disk image a boot uses and what happens to it first. Without `--image` the boot uses
 * `build/blk.img`, made fresh with the default recipe for every boot unless the image is kept
 * (`--keep-image`: a missing one is created, an existing one kept, the cold-boot lane). An image
 * named with `--image` belongs to the user: it is never deleted or recreated, only created when
 * missing.
 *
 * @module
 */

import { HarnessError } from "./errors.ts";
import { readFailureReason } from "../init/text_file.ts";

/** The image a boot uses when none is named. */
export const DEFAULT_IMAGE_PATH = "build/blk.img";

/** What to do with the image before booting. */
export type ImageAction = "create" | "recreate" | "keep";

/** The decision for one boot. */
export interface ImagePlan {
  /** Image path. */
  path: string;
  /** create: it is missing; recreate: replace the managed default image; keep: boot it as is. */
  action: ImageAction;
  /** True when the user named the image. */
  explicit: boolean;
}

/** What is at a path. */
export type PathKind = "file" | "missing" | "other";

/** Shortens a long path for a one-line message. */
function shortPath(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 38)}...${path.slice(-38)}`;
}

/**
 * Looks at `path` without following it into an error. A path the system refuses (too long,
 * under a regular file, a symlink loop) is a {@link HarnessError} `BAD_OPTION` naming it.
 */
export function pathKind(path: string): PathKind {
  try {
    return Deno.statSync(path).isFile ? "file" : "other";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw new HarnessError("BAD_OPTION", `image ${shortPath(path)}: ${readFailureReason(err)}`);
  }
}

/**
 * Decides the image plan. Throws {@link HarnessError} `BAD_OPTION` when the path holds something
 * other than a file (a directory), which no boot can use.
 */
export function planImage(
  opts: { image?: string; keepImage: boolean; defaultPath?: string },
  kind: (path: string) => PathKind = pathKind,
): ImagePlan {
  const explicit = opts.image !== undefined;
  const path = opts.image ?? opts.defaultPath ?? DEFAULT_IMAGE_PATH;
  const k = kind(path);
  if (k === "other") {
    throw new HarnessError("BAD_OPTION", `image ${path} is not a regular file`);
  }
  if (k === "missing") return { path, action: "create", explicit };
  return { path, action: explicit || opts.keepImage ? "keep" : "recreate", explicit };
}
