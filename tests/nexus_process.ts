/**
 * The command line of a `nexus` process as a user's `deno task nexus` starts it (the task's own
 * flags and permissions, read from `deno.json`, and the repository's config), for the tests and
 * benchmarks that spawn one.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

const ENTRY = new URL("../cli/nexus.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

// "deno run <flags> cli/nexus.ts": the flags a user's run gets, so a spawned nexus cannot drift
// from the task (a memory flag in the task and not here would make the benchmarks lie).
const TASK = config.tasks.nexus.split(/\s+/);
if (TASK[0] !== "deno" || TASK[1] !== "run" || TASK.at(-1) !== "cli/nexus.ts") {
  throw new Error(
    `deno.json's nexus task is not "deno run <flags> cli/nexus.ts": ${TASK.join(" ")}`,
  );
}
const FLAGS = TASK.slice(2, -1);

/** Arguments to `Deno.execPath()` that run `nexus ...args`. */
export function nexusProcessArgs(args: readonly string[]): string[] {
  return ["run", "--quiet", "--config", CONFIG, ...FLAGS, ENTRY, ...args];
}
