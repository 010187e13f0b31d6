/**
 * CLI error values and exit codes. Every user-caused failure becomes one line on stderr and a
 * documented exit code; stack traces are reserved for bugs.
 *
 * Exit codes: 0 success; 1 verification failure (failed check, repairable problem, boot FAIL);
 * 2 usage, configuration or unusable input.
 *
 * @module
 */

/** Success. */
export const EXIT_OK = 0;
/** A check ran and found problems (boot FAIL, fsck repaired/repairable, slots invalid). */
export const EXIT_FAIL = 1;
/** Usage error, configuration error, or unusable input. */
export const EXIT_USAGE = 2;

/** An error the user caused; the CLI prints `nexus: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  /** Creates an error that ends the command with `exitCode` (default 2). */
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = "CliError";
  }
}

/** What the operating system's refusals mean, in words (by errno name). */
const SYSTEM_REASONS: Readonly<Record<string, string>> = {
  ENAMETOOLONG: "file name too long",
  ENOTDIR: "a part of the path is a file, not a directory",
  ELOOP: "too many levels of symbolic links (a symlink loop?)",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EEXIST: "already exists",
};

/** Shortens a path for a one-line message: its start and its end. */
export function shortPath(path: string, max = 80): string {
  if (path.length <= max) return path;
  const half = Math.floor((max - 3) / 2);
  return `${path.slice(0, half)}...${path.slice(path.length - half)} (${path.length} characters)`;
}

/**
 * Describes a file-system refusal (a Deno error carrying an errno `code`) as one line naming the
 * path, or null when `err` is something else (a bug, which keeps its stack trace).
 */
export function describeSystemError(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string" || !(code in SYSTEM_REASONS)) return null;
  // Deno's message ends with the call and the path: `...: stat '/some/path'`.
  const m = /: (\w+) '(.*)'(?: -> '(.*)')?$/s.exec(err.message);
  const where = m ? `${m[1]} ${shortPath(m[2])}` : "a path";
  return `cannot ${where}: ${SYSTEM_REASONS[code]}`;
}
