import { assert, assertEquals } from "../tests/assert.ts";
import {
  buildBundle,
  bundledEntry,
  bundleIsFresh,
  type BundleManifest,
  type BundlePlace,
  readManifest,
  REPO_ROOT,
} from "./bundle.ts";
import { VERSION } from "./version.ts";

/** A project of three modules, one loaded on demand, in a temp directory. */
function miniProject(): BundlePlace {
  const root = new URL(`file://${Deno.makeTempDirSync({ prefix: "nexus-bundle-" })}/`);
  Deno.mkdirSync(new URL("cli/", root));
  Deno.writeTextFileSync(new URL("deno.json", root), "{}\n");
  Deno.writeTextFileSync(
    new URL("cli/main.ts", root),
    'import { a } from "./a.ts";\n' +
      'export async function main(): Promise<string> {\n  return a + (await import("./b.ts")).b;\n}\n',
  );
  Deno.writeTextFileSync(new URL("cli/a.ts", root), 'export const a = "a";\n');
  Deno.writeTextFileSync(new URL("cli/b.ts", root), 'export const b = "b";\n');
  return { root, dist: new URL("dist/", root) };
}

/** Runs `body` on a fresh {@link miniProject} whose sources are a minute old; removes it after. */
async function withMiniProject(body: (place: BundlePlace) => void | Promise<void>): Promise<void> {
  const place = miniProject();
  try {
    age(place, -60_000);
    await body(place);
  } finally {
    Deno.removeSync(place.root, { recursive: true });
  }
}

/** Sets a file's modification time `deltaMs` from now. */
function touch(path: URL, deltaMs = 0): void {
  const t = new Date(Date.now() + deltaMs);
  Deno.utimeSync(path, t, t);
}

/**
 * Dates every source of the project `deltaMs` from now: sources written a moment ago would look
 * written while a build ran.
 */
function age(place: BundlePlace, deltaMs: number): void {
  for (const f of ["deno.json", "cli/main.ts", "cli/a.ts", "cli/b.ts"]) {
    touch(new URL(f, place.root), deltaMs);
  }
}

Deno.test("a built bundle names its entry, its chunks and every local module; it runs", () =>
  withMiniProject(async (place) => {
    const entry = await buildBundle(place);
    assert(entry !== undefined, "not built");
    const m = readManifest(place.dist)!;
    assertEquals(Object.keys(m.files), ["cli/a.ts", "cli/b.ts", "cli/main.ts", "deno.json"]);
    assertEquals(m.deno, Deno.version.deno);
    assertEquals(new URL(m.entry, place.dist).href, entry.href);
    assertEquals(m.chunks.length > 0, true, "the dynamic import has a chunk of its own");
    assertEquals(bundleIsFresh(m, place), true);
    assertEquals(await bundledEntry(place), entry.href);
    const { main } = await import(entry.href);
    assertEquals(await main(), "ab");
    // Nothing of the build is left behind but the bundle and its manifest.
    const names = [...Deno.readDirSync(place.dist)].map((e) => e.name);
    assertEquals(names.filter((n) => !/\.js(\.map)?$/.test(n)), ["nexus.json"]);
  }));

Deno.test("a bundle is stale when a source, the entry, a chunk or the Deno version changed", () =>
  withMiniProject(async (place) => {
    assert(await buildBundle(place));
    const m = readManifest(place.dist)!;
    const fresh = () => bundleIsFresh(m, place);
    assertEquals(bundleIsFresh(m, place, "0.0.0"), false, "another Deno version");
    const a = new URL("cli/a.ts", place.root);
    touch(a, -30_000);
    assertEquals(fresh(), false, "a source's time");
    const [, mtime] = m.files["cli/a.ts"];
    Deno.utimeSync(a, new Date(mtime), new Date(mtime));
    assertEquals(fresh(), true, "the same time again");
    Deno.writeTextFileSync(a, 'export const a = "A!";\n');
    Deno.utimeSync(a, new Date(mtime), new Date(mtime));
    assertEquals(fresh(), false, "a source's size");
    Deno.writeTextFileSync(a, 'export const a = "a";\n');
    Deno.utimeSync(a, new Date(mtime), new Date(mtime));
    assertEquals(fresh(), true);
    const chunk = new URL(m.chunks[0], place.dist);
    Deno.renameSync(chunk, new URL("moved", place.dist));
    assertEquals(fresh(), false, "a chunk missing");
    Deno.renameSync(new URL("moved", place.dist), chunk);
    Deno.removeSync(new URL(m.entry, place.dist));
    assertEquals(fresh(), false, "the entry missing");
    assertEquals(bundleIsFresh({ ...m, files: {} }, place), false, "a manifest naming nothing");
    // A stale bundle is built again.
    const again = await bundledEntry(place);
    assert(again !== undefined && again !== new URL(m.entry, place.dist).href);
  }));

Deno.test("no bundle: a held lock, an unwritable place, a failed build, a source changed meanwhile", () =>
  withMiniProject(async (place) => {
    Deno.mkdirSync(place.dist);
    const lock = new URL("build.lock", place.dist);
    Deno.writeTextFileSync(lock, "");
    assertEquals(await buildBundle(place), undefined, "another build holds the lock");
    // A lock left by a build that died long ago is taken over.
    touch(lock, -3_600_000);
    assert(await buildBundle(place), "stale lock not taken over");
    assertEquals(readManifest(place.dist) !== undefined, true);

    // A source written after the build started: the build is not trusted.
    touch(new URL("cli/b.ts", place.root), 3_600_000);
    Deno.removeSync(new URL("nexus.json", place.dist));
    assertEquals(await buildBundle(place), undefined, "a source newer than the build");
    assertEquals(readManifest(place.dist), undefined);
    touch(new URL("cli/b.ts", place.root), -60_000);

    // deno bundle fails: its output is kept, nothing else.
    Deno.writeTextFileSync(new URL("cli/a.ts", place.root), "export const a = ;\n");
    touch(new URL("cli/a.ts", place.root), -60_000);
    assertEquals(await buildBundle(place), undefined, "a source that does not parse");
    const log = Deno.readTextFileSync(new URL("build-error.log", place.dist));
    assert(log.includes("a.ts"), log);

    // A dist that cannot be made (its parent is a file).
    const blocked = { root: place.root, dist: new URL("deno.json/dist/", place.root) };
    assertEquals(await buildBundle(blocked), undefined);
  }));

Deno.test("after a failed build, runs go to the sources until a source changes or time passes", () =>
  withMiniProject(async (place) => {
    const a = new URL("cli/a.ts", place.root);
    Deno.writeTextFileSync(a, "export const a = ;\n");
    // Sources older than every time the failure log gets below.
    age(place, -3_600_000);
    assertEquals(await bundledEntry(place), undefined);
    const log = new URL("build-error.log", place.dist);
    const logTime = () => Deno.statSync(log).mtime!.getTime();
    touch(log, -5_000);
    const before = logTime();
    assertEquals(await bundledEntry(place), undefined);
    assertEquals(logTime(), before, "built again though nothing changed");
    // Ten minutes on, it tries again (and fails again).
    touch(log, -660_000);
    assertEquals(await bundledEntry(place), undefined);
    assert(logTime() > before, "not tried again after ten minutes");
    // A source changed since the failure: it tries again, and now builds.
    touch(log, -5_000);
    Deno.writeTextFileSync(a, 'export const a = "a";\n');
    assert(await bundledEntry(place), "not built after the fix");
    assertEquals(readManifest(place.dist) !== undefined, true);
  }));

Deno.test("readManifest refuses what is not a manifest", () =>
  withMiniProject((place) => {
    assertEquals(readManifest(place.dist), undefined, "no dist at all");
    Deno.mkdirSync(place.dist);
    const at = new URL("nexus.json", place.dist);
    const bad = [
      "",
      "{",
      "null",
      "[]",
      '{"deno":"2","entry":"e.js","chunks":[]}',
      '{"deno":"2","entry":"../e.js","chunks":[],"files":{}}',
      '{"deno":"2","entry":"e.js","chunks":["c/d.js"],"files":{}}',
      '{"deno":"2","entry":"e.js","chunks":[],"files":{"a.ts":5}}',
      '{"deno":"2","entry":"e.js","chunks":[],"files":{"a.ts":[5,"x"]}}',
    ];
    for (const text of bad) {
      Deno.writeTextFileSync(at, text);
      assertEquals(readManifest(place.dist), undefined, text);
    }
    const ok: BundleManifest = { deno: "2", entry: "e.js", chunks: [], files: {} };
    Deno.writeTextFileSync(at, JSON.stringify(ok));
    assertEquals(readManifest(place.dist), ok);
  }));

Deno.test("NEXUS_NO_BUNDLE runs from the sources", async () => {
  Deno.env.set("NEXUS_NO_BUNDLE", "1");
  try {
    await withMiniProject(async (place) => {
      assertEquals(await bundledEntry(place), undefined);
      assertEquals(readManifest(place.dist), undefined, "nothing was built");
    });
  } finally {
    Deno.env.delete("NEXUS_NO_BUNDLE");
  }
});

/** Every local module of the command tree, from `deno info` (dynamic imports included). */
async function commandTreeModules(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "info",
      "--json",
      "--config",
      new URL("deno.json", REPO_ROOT).pathname,
      new URL("cli/main.ts", REPO_ROOT).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  return (graph.modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith(REPO_ROOT.href) && s.endsWith(".ts"))
    .map((s) => s.slice(REPO_ROOT.href.length));
}

Deno.test("every file the command tree names from its own URL resolves the same from dist/", async () => {
  // The bundle sits one directory below the root: a module one directory below it naming a file
  // as "../<path>" names the same file from either place; anything else would not.
  const modules = await commandTreeModules();
  assert(modules.includes("cli/boot.ts") && modules.includes("core/statefs/engine.ts"));
  const named: string[] = [];
  for (const path of modules) {
    const text = Deno.readTextFileSync(new URL(path, REPO_ROOT));
    for (const m of text.matchAll(/import\.meta\.(\w+)/g)) {
      const at = m.index!;
      const line = text.slice(text.lastIndexOf("\n", at) + 1, text.indexOf("\n", at));
      if (m[1] === "main" || /createRequire\(import\.meta\.url\)/.test(line)) continue;
      const url = line.match(/new URL\("([^"]+)", import\.meta\.url\)/);
      assert(url !== null, `${path}: import.meta.${m[1]} other than new URL("../...")`);
      assert(url[1].startsWith("../"), `${path}: "${url[1]}" is not named from the root`);
      assertEquals(path.split("/").length, 2, `${path} is not one directory below the root`);
      named.push(`${path} ${url[1]}`);
    }
  }
  assert(named.length >= 4, named.join("\n"));
});

Deno.test("the real command tree bundles, and its bundle runs", async () => {
  const dist = new URL(`file://${Deno.makeTempDirSync({ prefix: "nexus-dist-" })}/`);
  try {
    const entry = await buildBundle({ root: REPO_ROOT, dist });
    assert(entry !== undefined, "not built");
    const files = Object.keys(readManifest(dist)!.files);
    for (const f of ["cli/main.ts", "cli/boot.ts", "core/statefs/engine.ts", "deno.json"]) {
      assert(files.includes(f), f);
    }
    assertEquals(files.filter((f) => f.endsWith("_test.ts") || f.startsWith("tests/")), []);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-all", entry.pathname, "--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(out.stdout).trim(), VERSION);
  } finally {
    Deno.removeSync(dist, { recursive: true });
  }
});
