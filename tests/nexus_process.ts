/**
 * The command line of a `nexus` process as a user's `deno task nexus` starts it (the task's
 * permissions, the repository's config), for the tests and benchmarks that spawn one.
 *
 * @module
 */

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Arguments to `Deno.execPath()` that run `nexus ...args`. */
export function nexusProcessArgs(args: readonly string[]): string[] {
  return [
    "run",
    "--quiet",
    "--config",
    CONFIG,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    MAIN,
    ...args,
  ];
}
