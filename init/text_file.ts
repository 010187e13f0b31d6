/**
 * Reading the TOML files a user names (manifests, ladders) with one short, stable reason for
 * each way it can fail, so every loader reports unreadable input the same way.
 *
 * @module
 */

/** Short reasons for the refusals a path can meet, by errno name. */
const ERRNO_REASONS: Readonly<Record<string, string>> = {
  ENAMETOOLONG: "file name too long",
  ENOTDIR: "a part of the path is a file, not a directory",
  ELOOP: "too many levels of symbolic links (a symlink loop?)",
  EACCES: "permission denied",
};

/** Why reading failed, in a few words: `no such file`, `is a directory`, or the OS message. */
export function readFailureReason(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (typeof code === "string" && code in ERRNO_REASONS) return ERRNO_REASONS[code];
  return err instanceof Error ? err.message : String(err);
}

/** What a path that is not a regular file is, for the refusal. */
function notRegular(info: Deno.FileInfo): string {
  if (info.isDirectory) return "is a directory";
  if (info.isFifo) return "is a FIFO, not a regular file (it could block forever)";
  if (info.isCharDevice || info.isBlockDevice) return "is a device, not a regular file";
  if (info.isSocket) return "is a socket, not a regular file";
  return "is not a regular file";
}

/**
 * Reads `path` as UTF-8 text; only a regular file is read. On failure throws the error `fail` builds from the reason, so each
 * caller keeps its own typed error.
 */
export async function readTextFileOr(
  path: string,
  fail: (reason: string) => Error,
): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw fail(readFailureReason(err));
  }
  // A FIFO without a writer would block the read (and the run's timeout) forever.
  if (!info.isFile) throw fail(notRegular(info));
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw fail(readFailureReason(err));
  }
}
