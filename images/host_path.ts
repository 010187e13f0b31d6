/**
 * The few POSIX path operations nexus needs on host paths (an image file, its directory, a path
 * the user typed). `node:path` does the same, but importing it starts Deno's Node compatibility
 * layer, about 25 ms of CPU in every nexus process; these four are all the CLI and the image
 * tools use.
 *
 * @example
 * ```ts
 * import { basename, dirname, isAbsolute, join } from "./host_path.ts";
 * dirname("build/blk.img"); // "build"
 * basename("build/blk.img"); // "blk.img"
 * isAbsolute("/tmp/x.img"); // true
 * join("/home/me/", "x.img"); // "/home/me/x.img"
 * ```
 *
 * @module
 */

/** `path` without trailing slashes (a root of only slashes stays "/"). */
function trimTrailing(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" && path !== "" ? "/" : trimmed;
}

/**
 * The directory part of `path` as `node:path` gives it: "." for a bare name, trailing slashes
 * ignored, and only the one slash before the last part dropped (`a//b` gives `a/`).
 */
export function dirname(path: string): string {
  const root = path.startsWith("/");
  const p = path.replace(/\/+$/, "");
  const end = p.lastIndexOf("/");
  if (end < 1) return root ? "/" : ".";
  // POSIX leaves a leading "//" implementation-defined; node:path keeps it.
  return root && end === 1 ? "//" : p.slice(0, end);
}

/** The last part of `path`, trailing slashes ignored ("" for "/"). */
export function basename(path: string): string {
  const p = trimTrailing(path);
  if (p === "/") return "";
  return p.slice(p.lastIndexOf("/") + 1);
}

/** True for a path from the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/**
 * `rel` under the directory `dir`: one slash between them, `rel` kept as typed (the file system
 * resolves `.` and `..`; messages show what the user wrote).
 */
export function join(dir: string, rel: string): string {
  if (dir === "") return rel;
  if (rel === "") return dir;
  return `${dir.replace(/\/+$/, "")}/${rel.replace(/^\/+/, "")}`;
}
