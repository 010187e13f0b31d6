/**
 * The bundled command tree. A `nexus` process runs from a bundle when it can: loading the ~170
 * modules of the command tree one by one is most of a short command's start-up, and the bundle (an
 * entry, and a chunk per command group and per part they share, so a command still loads only
 * what it runs) loads in a fraction of that. It lives in `dist/` with a manifest of what it was built
 * from: the Deno version, and the size and modification time of every local module in it and of
 * `deno.json` and `deno.lock`. A run whose sources changed since builds it again first (about a
 * second, once); a run that cannot (a read-only checkout, another run building it, a failed
 * build) runs from the sources, as does any run with `NEXUS_NO_BUNDLE` set. After a failed build,
 * runs go to the sources without trying again for ten minutes, unless a source changes.
 *
 * The bundle sits one directory below the repository root, like every module that names a file
 * of the repository from its own URL (`new URL("../images/...", import.meta.url)`), so such names
 * resolve the same from the bundle and from the sources (`bundle_test.ts` holds modules to that).
 *
 * This module loads no other: it runs before the command tree in every process.
 *
 * @example
 * ```ts
 * import { bundledEntry } from "./bundle.ts";
 * const entry = await bundledEntry(); // the bundle's URL, or undefined: run from the sources
 * ```
 *
 * @module
 */

/** The repository root. */
export const REPO_ROOT: URL = new URL("../", import.meta.url);

/** Where the bundle, its source maps and its manifest are kept. */
export const DIST_DIR: URL = new URL("dist/", REPO_ROOT);

/** The entry the bundle is built from. */
const ENTRY = "cli/main.ts";
/** What the bundle is built from besides its modules. */
const CONFIG_FILES = ["deno.json", "deno.lock"];
const MANIFEST = "nexus.json";
const LOCK = "build.lock";
const ERROR_LOG = "build-error.log";
/** Folders of the repository that hold no module of the command tree. */
const SKIP_DIRS = new Set(["build", "dist", "node_modules"]);
/** After a failed build, how long runs go to the sources unless a source changes. */
const RETRY_FAILED_MS = 600_000;
/** A build lock older than this was left by a build that died: it is taken over. */
const STALE_LOCK_MS = 120_000;
/**
 * A bundle file no manifest names any more is removed once it is this old: a process loads its
 * chunks while it starts (the command groups are its only dynamic imports), never this late.
 */
const KEEP_OLD_MS = 600_000;
/** The bundle's own files in the dist directory (the rest is the manifest, the lock, a log). */
const BUNDLE_FILE = /\.js(\.map)?$/;

/** What a bundle was built from. */
export interface BundleManifest {
  /** The Deno version that built it. */
  deno: string;
  /** The entry's file name in the dist directory. */
  entry: string;
  /** The chunks it loads, by file name in the dist directory. */
  chunks: string[];
  /** Every file it was built from, by path from the repository root: `[size, mtime in ms]`. */
  files: Record<string, [number, number]>;
}

/** Where a bundle is built and kept: the repository it is built from, and its directory. */
export interface BundlePlace {
  /** The repository root (its `cli/main.ts` is the entry). */
  root: URL;
  /** The directory of the bundle and its manifest. */
  dist: URL;
}

const HERE: BundlePlace = { root: REPO_ROOT, dist: DIST_DIR };

/** A file of the bundle: a plain name in the dist directory. */
const BUNDLE_NAME = /^[\w.-]+\.js$/;

/** The manifest in `dist`, or undefined when there is none or it is not one. */
export function readManifest(dist: URL): BundleManifest | undefined {
  let m;
  try {
    m = JSON.parse(Deno.readTextFileSync(new URL(MANIFEST, dist)));
  } catch {
    return undefined;
  }
  if (typeof m?.deno !== "string" || typeof m.entry !== "string") return undefined;
  if (!Array.isArray(m.chunks) || typeof m.files !== "object" || m.files === null) return undefined;
  if (![m.entry, ...m.chunks].every((n) => typeof n === "string" && BUNDLE_NAME.test(n))) {
    return undefined;
  }
  const stamps = Object.values(m.files);
  const isStamp = (v: unknown) =>
    Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number");
  return stamps.every(isStamp) ? m as BundleManifest : undefined;
}

/** `[size, mtime in ms]` of a file, or undefined when it is missing. */
function fileStamp(path: URL): [number, number] | undefined {
  try {
    const st = Deno.statSync(path);
    return [st.size, st.mtime?.getTime() ?? -1];
  } catch {
    return undefined;
  }
}

/**
 * True when the bundle `manifest` names is whole in `place` and was built by this Deno version
 * from exactly the files there now (same sizes and modification times).
 */
export function bundleIsFresh(
  manifest: BundleManifest,
  place: BundlePlace = HERE,
  denoVersion: string = Deno.version.deno,
): boolean {
  if (manifest.deno !== denoVersion) return false;
  for (const name of [manifest.entry, ...manifest.chunks]) {
    if (fileStamp(new URL(name, place.dist)) === undefined) return false;
  }
  const files = Object.entries(manifest.files);
  if (files.length === 0) return false;
  for (const [path, [size, mtime]] of files) {
    const now = fileStamp(new URL(path, place.root));
    if (now === undefined || now[0] !== size || now[1] !== mtime) return false;
  }
  return true;
}

/** Takes the build lock; false when another build holds it. */
function takeLock(lock: URL): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.openSync(lock, { createNew: true, write: true }).close();
      return true;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) return false;
      const held = fileStamp(lock);
      if (held !== undefined && Date.now() - held[1] < STALE_LOCK_MS) return false;
      removeQuietly(lock);
    }
  }
  return false;
}

function removeQuietly(path: URL, recursive = false): void {
  try {
    Deno.removeSync(path, { recursive });
  } catch { /* already gone */ }
}

/**
 * Builds the bundle of `place.root`'s command tree into `place.dist` (an entry and the chunks of
 * its dynamic imports, so a command still loads only what it runs) and writes its manifest;
 * returns the entry's URL, or undefined when it was not built: the directory is not writable,
 * another build holds the lock, `deno bundle` failed (its output is kept in `build-error.log`),
 * or a source changed while it ran.
 */
export async function buildBundle(place: BundlePlace = HERE): Promise<URL | undefined> {
  const { root, dist } = place;
  try {
    Deno.mkdirSync(dist, { recursive: true });
  } catch {
    return undefined;
  }
  const lock = new URL(LOCK, dist);
  if (!takeLock(lock)) return undefined;
  const started = Date.now();
  const id = `${started.toString(36)}-${Deno.pid}`;
  const tmp = new URL(`.build-${id}/`, dist);
  try {
    const built = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--config",
        new URL("deno.json", root).pathname,
        "--code-splitting",
        "--sourcemap=external",
        "--outdir",
        tmp.pathname,
        new URL(ENTRY, root).pathname,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!built.success) {
      const text = new TextDecoder().decode(built.stderr) + new TextDecoder().decode(built.stdout);
      Deno.writeTextFileSync(new URL(ERROR_LOG, dist), text);
      return undefined;
    }
    const names = [...Deno.readDirSync(tmp)].map((e) => e.name);
    const chunks = names.filter((n) => n.endsWith(".js") && n !== "main.js").sort();
    if (!names.includes("main.js")) return undefined;
    const files = bundledFiles(root, names.filter((n) => n.endsWith(".js.map")), tmp);
    // A source written while the bundle was built may or may not be in it: build again later.
    if (files === undefined || Object.values(files).some(([, mtime]) => mtime >= started)) {
      return undefined;
    }
    // Chunks are named by their content, so one already there is the same file; the entry gets
    // a name of its own, so a run loading the previous one never reads a half-written file.
    const entry = `main-${id}.js`;
    for (const n of names) {
      const to = n === "main.js" ? entry : n === "main.js.map" ? `${entry}.map` : n;
      Deno.renameSync(new URL(n, tmp), new URL(to, dist));
    }
    const manifest: BundleManifest = { deno: Deno.version.deno, entry, chunks, files };
    const next = new URL(`${MANIFEST}.${id}.tmp`, dist);
    Deno.writeTextFileSync(next, JSON.stringify(manifest));
    Deno.renameSync(next, new URL(MANIFEST, dist));
    removeQuietly(new URL(ERROR_LOG, dist));
    removeOld(dist, manifest);
    return new URL(entry, dist);
  } catch {
    return undefined;
  } finally {
    removeQuietly(tmp, true);
    removeQuietly(lock);
  }
}

/** Removes bundle files `manifest` does not name once they are old enough (see KEEP_OLD_MS). */
function removeOld(dist: URL, manifest: BundleManifest): void {
  const keep = new Set([manifest.entry, ...manifest.chunks].flatMap((n) => [n, `${n}.map`]));
  for (const e of Deno.readDirSync(dist)) {
    if (!e.isFile || keep.has(e.name) || !BUNDLE_FILE.test(e.name)) continue;
    const stamp = fileStamp(new URL(e.name, dist));
    if (stamp !== undefined && Date.now() - stamp[1] > KEEP_OLD_MS) {
      removeQuietly(new URL(e.name, dist));
    }
  }
}

/**
 * The files a bundle was built from, stamped: every local module its source maps list, and the
 * configuration files. Undefined when a map is unreadable or they name nothing local.
 */
function bundledFiles(
  root: URL,
  maps: string[],
  dir: URL,
): Record<string, [number, number]> | undefined {
  const paths = new Set<string>();
  for (const name of maps) {
    const map = new URL(name, dir);
    let sources: unknown;
    try {
      sources = JSON.parse(Deno.readTextFileSync(map)).sources;
    } catch {
      return undefined;
    }
    if (!Array.isArray(sources)) return undefined;
    for (const s of sources) {
      if (typeof s !== "string") continue;
      const url = new URL(s, map);
      // npm packages come from Deno's cache, pinned by deno.lock.
      if (url.protocol === "file:" && url.href.startsWith(root.href)) {
        paths.add(decodeURIComponent(url.href.slice(root.href.length)));
      }
    }
  }
  if (paths.size === 0) return undefined;
  for (const f of CONFIG_FILES) if (fileStamp(new URL(f, root)) !== undefined) paths.add(f);
  const files: Record<string, [number, number]> = {};
  for (const p of [...paths].sort()) {
    const stamp = fileStamp(new URL(p, root));
    if (stamp === undefined) return undefined;
    files[p] = stamp;
  }
  return files;
}

/**
 * The URL of a bundle of the command tree built from the sources as they are now, building it
 * when the one in `dist/` is missing or stale; undefined means "run from the sources" (see the
 * module notes for when).
 */
export async function bundledEntry(place: BundlePlace = HERE): Promise<string | undefined> {
  try {
    if (Deno.env.get("NEXUS_NO_BUNDLE")) return undefined;
  } catch {
    return undefined; // no permission to read the environment: no permission to build either
  }
  const manifest = readManifest(place.dist);
  if (manifest !== undefined && bundleIsFresh(manifest, place)) {
    return new URL(manifest.entry, place.dist).href;
  }
  if (failedLately(place)) return undefined;
  return (await buildBundle(place))?.href;
}

/**
 * True when the last build failed a short while ago and no module or configuration file of the
 * repository changed since: building again would fail the same way and cost every run a second.
 */
function failedLately(place: BundlePlace): boolean {
  const failed = fileStamp(new URL(ERROR_LOG, place.dist));
  if (failed === undefined || Date.now() - failed[1] >= RETRY_FAILED_MS) return false;
  return !changedSince(place.root, failed[1], place.dist);
}

/** True when a module or configuration file under `dir` was modified at or after `time`. */
function changedSince(dir: URL, time: number, dist: URL): boolean {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.name.startsWith(".") || SKIP_DIRS.has(e.name)) continue;
    const at = new URL(e.isDirectory ? `${e.name}/` : e.name, dir);
    if (e.isDirectory) {
      if (at.href !== dist.href && changedSince(at, time, dist)) return true;
    } else if (/\.(ts|json|lock)$/.test(e.name) && (fileStamp(at)?.[1] ?? -1) >= time) {
      return true;
    }
  }
  return false;
}
