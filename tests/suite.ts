/**
 * `deno task test` runs the repository's test files in a few shares, each share one test module
 * that imports its part of the files, instead of one runtime per file: the test runner starts a
 * fresh runtime for every module it is given, which costs about 0.3 s of CPU even for an empty
 * file — with 120 files, more than the tests themselves. Each file still runs on its own with
 * `deno test --allow-all path/to/file_test.ts`, and a failure names its file and line either way.
 *
 * The shares find the files themselves (every `*_test.ts` outside build/), so a new test file
 * joins the suite without a list to keep. Type-checking the files is `deno check` in the task.
 *
 * @example Load share 0 of 4 (tests/suite_0.ts)
 * ```ts
 * import { loadShare } from "./suite.ts";
 * await loadShare(0, 4);
 * ```
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
/** Folders that hold no test of the repository's own. */
const SKIP = new Set(["build", "dist", "node_modules"]);

/** Every `*_test.ts` under `dir`, as paths relative to it, sorted. */
export async function findTestFiles(dir: URL = ROOT): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: URL, rel: string) => {
    for await (const e of Deno.readDir(at)) {
      if (e.isDirectory && !SKIP.has(e.name) && !e.name.startsWith(".")) {
        await walk(new URL(`${e.name}/`, at), `${rel}${e.name}/`);
      } else if (e.isFile && e.name.endsWith("_test.ts")) out.push(`${rel}${e.name}`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** The files of share `index` of `count`: every count-th of the sorted list, from `index`. */
export function share(files: readonly string[], index: number, count: number): string[] {
  return files.filter((_, i) => i % count === index);
}

/** Imports share `index` of `count` of the repository's test files, registering their tests. */
export async function loadShare(index: number, count: number): Promise<void> {
  for (const file of share(await findTestFiles(), index, count)) {
    try {
      await import(new URL(file, ROOT).href);
    } catch (err) {
      throw new Error(`loading ${file}: ${err instanceof Error ? err.message : err}`, {
        cause: err,
      });
    }
  }
}
