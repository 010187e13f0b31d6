/**
 * Reading the TOML files a user names (manifests, ladders) with one short, stable reason for
 * each way it can fail, so every loader reports unreadable input the same way.
 *
 * @module
 */

/** Why reading failed, in a few words: `no such file`, `is a directory`, or the OS message. */
export function readFailureReason(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads `path` as UTF-8 text; on failure throws the error `fail` builds from the reason, so each
 * caller keeps its own typed error.
 */
export async function readTextFileOr(
  path: string,
  fail: (reason: string) => Error,
): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw fail(readFailureReason(err));
  }
}
