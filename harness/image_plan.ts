/**
 * Which disk image a boot uses and what happens to it first. Without `--image` the boot uses
 * `build/blk.img`, made fresh with the default recipe for every boot unless the image is kept
 * (`--keep-image`: a missing one is created, an existing one kept, the cold-boot lane). An image
 * named with `--image` belongs to the user: it is never deleted or recreated, only created when
 * missing. Plain boots run side by side: each fresh one builds and boots a private image, and
 * a lock serializes the boots that work on the default image in place ({@link leaseImage}).
 *
 * @module
 */

import { basename, dirname } from "../images/host_path.ts";
import { processRunning } from "./child.ts";
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
  /** True when the boot works on the image in place (`--keep-image`, or a named image). */
  inPlace: boolean;
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
  const inPlace = explicit || opts.keepImage;
  if (k === "missing") return { path, action: "create", explicit, inPlace };
  return { path, action: inPlace ? "keep" : "recreate", explicit, inPlace };
}

/** The image one boot runs on, held until {@link ImageLease.release} (or disposal). */
export interface ImageLease extends Disposable {
  /** The file the boot opens. */
  path: string;
  /** Where the image ends up (the plan's path). */
  finalPath: string;
  /**
   * Ends the lease: a private fresh image replaces the default image (atomically, so a reader
   * never sees a half-written file); the lock of a kept default image is released.
   */
  release(): void;
}

/** Builds a fresh image at `path`, replacing what is there when `force`. */
export type MakeImage = (path: string, force: boolean) => Promise<void>;

/** Lock file beside the default image, held by a boot that works on it in place. */
export function lockPathOf(imagePath: string): string {
  return `${imagePath}.lock`;
}

/**
 * Takes the default image's lock (an exclusive `flock` of `IMAGE.lock`, released by the kernel
 * if the process dies, so no lock is ever stale). When another run holds it, `notice` is told
 * which process, and the call waits: that run ends within its own timeout.
 */
export function lockImage(imagePath: string, notice: (text: string) => void): () => void {
  const path = lockPathOf(imagePath);
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  try {
    const holder = Number(new TextDecoder().decode(Deno.readFileSync(path)).trim());
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== Deno.pid) {
      let alive = false;
      try {
        alive = processRunning(holder);
      } catch {
        alive = false;
      }
      if (alive) {
        notice(`waiting for another nexus boot (pid ${holder}) to finish with ${imagePath}`);
      }
    }
    file.lockSync(true);
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (err) {
    file.close();
    throw err;
  }
  return () => {
    try {
      file.truncateSync(0);
      file.unlockSync();
    } finally {
      file.close();
    }
  };
}

/**
 * Claims the image for one boot so that boots can run side by side:
 * - a fresh default image (no `--image`, no `--keep-image`) is built as a private file beside
 *   `build/blk.img` and booted there; {@link ImageLease.release} renames it over the default
 *   image under the lock, so the last run to end leaves its image and no run ever reads one
 *   another run is writing;
 * - a kept default image (`--keep-image`) is booted in place under the lock (a missing one is
 *   first built privately and moved into place only if still missing); a second run waits;
 * - an image named with `--image` is the user's: created when missing, never locked or moved.
 */
export async function leaseImage(
  plan: ImagePlan,
  make: MakeImage,
  notice: (text: string) => void,
): Promise<ImageLease> {
  const finalPath = plan.path;
  if (plan.explicit) {
    if (plan.action === "create") await make(finalPath, false);
    return lease(finalPath, finalPath, () => {});
  }
  const dir = dirname(finalPath);
  await Deno.mkdir(dir, { recursive: true });
  const fresh = async (): Promise<string> => {
    const tmp = await Deno.makeTempFile({ dir, prefix: `${basename(finalPath)}.`, suffix: ".tmp" });
    try {
      await make(tmp, true);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
    return tmp;
  };
  if (plan.inPlace) {
    if (plan.action === "create") {
      const tmp = await fresh();
      try {
        Deno.linkSync(tmp, finalPath); // atomic "create if still missing"
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      } finally {
        Deno.removeSync(tmp);
      }
    }
    return lease(finalPath, finalPath, lockImage(finalPath, notice));
  }
  const tmp = await fresh();
  return lease(tmp, finalPath, () => {
    const unlock = lockImage(finalPath, notice);
    try {
      Deno.renameSync(tmp, finalPath);
    } finally {
      unlock();
    }
  });
}

function lease(path: string, finalPath: string, end: () => void): ImageLease {
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    end();
  };
  return { path, finalPath, release, [Symbol.dispose]: release };
}
