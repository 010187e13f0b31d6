/**
 * `deno task test` runs every test file exactly once through its shares (tests/suite.ts): the
 * task names every share, the shares split the files without gap or overlap, and the file search
 * sees what `deno test` would.
 */
import { assert, assertEquals } from "./assert.ts";
import { findTestFiles, share } from "./suite.ts";
import { withTempDir } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("suite: the shares the test task runs hold every test file exactly once", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task: string = config.tasks.test;
  const named = [...task.matchAll(/tests\/suite_\d+\.ts/g)].map((m) => m[0]);
  assert(named.length > 1, `the test task runs shares in parallel: ${task}`);
  assert(/deno check '\*\*\/\*_test\.ts'/.test(task), "the task type-checks every test file");
  const files = await findTestFiles();
  const seen = new Map<string, string>();
  for (const path of named) {
    const text = await Deno.readTextFile(new URL(path, ROOT));
    const m = /loadShare\((\d+), (\d+)\)/.exec(text);
    assert(m, `${path} loads a share`);
    assertEquals(Number(m[2]), named.length, `${path}: one share per file the task names`);
    for (const f of share(files, Number(m[1]), Number(m[2]))) {
      assert(!seen.has(f), `${f} is in ${seen.get(f)} and ${path}`);
      seen.set(f, path);
    }
  }
  assertEquals(files.filter((f) => !seen.has(f)), [], "files no share loads");
  for (const f of ["tests/suite_test.ts", "core/kernel/kernel_test.ts", "images/mkfs_test.ts"]) {
    assert(seen.has(f), f);
  }
});

Deno.test("suite: the file search takes *_test.ts files, not build/, hidden folders or other files", async () => {
  await withTempDir("nexus-suite-", async (dir) => {
    for (
      const f of [
        "a/b_test.ts",
        "a/c.ts",
        "a/d_test.tsx",
        "build/x_test.ts",
        ".git/y_test.ts",
        "z_test.ts",
      ]
    ) {
      const path = `${dir}/${f}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, "");
    }
    assertEquals(await findTestFiles(new URL(`file://${dir}/`)), ["a/b_test.ts", "z_test.ts"]);
  });
  assertEquals(share(["a", "b", "c", "d", "e"], 1, 2), ["b", "d"]);
});
