/**
 * `nexus image`: build and inspect disk images with a StateFS partition, and read or change the
 * StateFS offline. Parsing and printing only; the work is done in `images/` and
 * `core/statefs/`.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { CliError, EXIT_FAIL, EXIT_USAGE } from "./errors.ts";
import { action, arg, docs, type NexusContext, option, optionalArg, toggle } from "./command.ts";
import { io, setExitCode, writeAll } from "./io.ts";
import { readTextFileOr } from "../init/text_file.ts";
import { colorEnabled, type Painter, painter } from "../harness/style.ts";
import {
  defaultRecipe,
  formatSize,
  IMAGE_LAYOUTS,
  ImageError,
  type ImageInfo,
  type ImageLayout,
  LINUX_DATA_TYPE_GUID,
  mkfsImage,
  openImage,
  parseRecipe,
  parseSize,
  planImageGptRepair,
  probeImage,
  type Recipe,
  RecipeError,
  repairImageGpt,
  SECTOR_SIZE,
  type SectorWrite,
  STATEFS_TYPE_GUID,
  statImage,
} from "../images/mod.ts";
import {
  BlockDeviceError,
  encodeBackupEntry,
  encodeBackupHeader,
  FileBlockDevice,
  fsck,
  parseBackup,
  restoreBackup,
  StateFs,
  StateFsError,
} from "../core/statefs/mod.ts";

/** The exit-code footer of one image subcommand: what 0 means for it, and 1 where it has one. */
function exitCodes(ok: string, one?: string): string {
  return `\nExit codes: 0 ${ok}; ${one ? `1 ${one}; ` : ""}2 usage error or unusable image.`;
}

/** Colour for standard output (harness/style.ts decides and styles). */
function stdoutPainter(): Painter {
  let on = false;
  try {
    on = colorEnabled(io().stdout.isTerminal(), io().env("NO_COLOR"));
  } catch {
    on = false; // no env permission: stay plain
  }
  return painter(on);
}

function writeOut(data: Uint8Array): Promise<void> {
  // A reader that stops early (`| head`) ends output quietly.
  writeAll(io().stdout, data);
  return Promise.resolve();
}

function print(line = ""): Promise<void> {
  return writeOut(new TextEncoder().encode(line + "\n"));
}

/** Turns the errors a user can cause into one-line {@link CliError}s; bugs pass through. */
function toCliError(err: unknown, image?: string): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof ImageError || err instanceof RecipeError) {
    return new CliError(err.message, EXIT_USAGE);
  }
  if (err instanceof StateFsError) {
    const where = image ? `${image}: ` : "";
    switch (err.code) {
      case "NOT_FOUND":
        return new CliError(`${where}${err.message}`, EXIT_FAIL);
      case "CORRUPT":
        return new CliError(
          `${where}StateFS is corrupt: ${err.message} (run: nexus image fsck ${
            image ?? "<image>"
          })`,
          EXIT_USAGE,
        );
      default:
        return new CliError(`${where}${err.message}`, EXIT_USAGE);
    }
  }
  if (err instanceof BlockDeviceError) {
    return new CliError(`${image ? `${image}: ` : ""}${err.message}`, EXIT_USAGE);
  }
  return err;
}

/**
 * A command's implementation whose errors become {@link CliError}s naming the image (its first
 * argument), handed to `run` to print.
 */
function guarded<F, A extends [string, ...(string | undefined)[]]>(
  fn: (flags: F, ...args: A) => Promise<void>,
): (this: NexusContext, flags: F, ...args: A) => Promise<void> {
  return action(async (flags: F, ...args: A) => {
    try {
      await fn(flags, ...args);
    } catch (err) {
      throw toCliError(err, args[0]);
    }
  });
}

async function loadRecipe(path: string): Promise<Recipe> {
  const text = await readTextFileOr(path, (why) => new CliError(`recipe ${path}: ${why}`));
  return parseRecipe(text, path);
}

async function readValue(source: string): Promise<Uint8Array> {
  if (source === "-") return new Uint8Array(await new Response(io().stdin()).arrayBuffer());
  try {
    const st = await Deno.stat(source);
    if (st.isDirectory) throw new CliError(`${source}: is a directory`);
    return await Deno.readFile(source);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof Deno.errors.NotFound) throw new CliError(`${source}: no such file`);
    throw new CliError(`${source}: ${err instanceof Error ? err.message : err}`);
  }
}

/** Opens the StateFS of `image`, runs `fn`, and always closes the device. */
async function withStateFs<T>(
  image: string,
  write: boolean,
  fn: (fs: StateFs, info: ImageInfo) => Promise<T>,
): Promise<T> {
  const img = await openImage(image, { write });
  warn(img.info);
  try {
    const fs = await StateFs.open(img.device);
    return await fn(fs, img.info);
  } finally {
    img.close();
  }
}

function typeName(guid: string): string {
  return guid === LINUX_DATA_TYPE_GUID
    ? "Linux filesystem data"
    : guid === STATEFS_TYPE_GUID
    ? "nexus StateFS"
    : guid;
}

/** Prints the problems a probe tolerated (a damaged or misplaced GPT copy) to stderr. */
function warn(info: ImageInfo): void {
  for (const w of info.warnings) writeAll(io().stderr, `nexus: warning: ${info.path}: ${w}\n`);
}

function table(rows: string[][], indent = "  "): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => indent + r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
}

function describeLocation(info: ImageInfo): string {
  const s = info.statefs;
  if (!s.partition) {
    return `whole device (${info.wholeDevice}), ${formatSize(s.lengthBytes)}`;
  }
  return `partition ${s.partition.index} "${s.partition.name}" at byte ${s.offsetBytes}, ${
    formatSize(s.lengthBytes)
  }${info.foundBy === "name" ? " (found by name)" : ""}`;
}

function partitionsJson(info: ImageInfo) {
  return (info.table?.partitions ?? []).map((p) => ({
    index: p.index,
    name: p.name,
    typeGuid: p.typeGuid,
    uniqueGuid: p.uniqueGuid,
    firstLba: p.firstLba,
    lastLba: p.lastLba,
    sectors: p.lastLba - p.firstLba + 1,
    sizeBytes: (p.lastLba - p.firstLba + 1) * SECTOR_SIZE,
  }));
}

function imageJson(info: ImageInfo) {
  return {
    image: info.path,
    sizeBytes: info.sizeBytes,
    sectors: info.totalSectors,
    table: info.table ? "gpt" : "none",
    layout: info.table ? "gpt" : "whole-device",
    diskGuid: info.table?.diskGuid ?? null,
    gptSource: info.gpt?.source ?? null,
    warnings: info.warnings,
    partitions: partitionsJson(info),
  };
}

function parseLayout(text: string | undefined): ImageLayout {
  if (text === undefined) return "gpt";
  if (!(IMAGE_LAYOUTS as readonly string[]).includes(text)) {
    throw new CliError(`--layout "${text}": expected ${IMAGE_LAYOUTS.join(" or ")}`);
  }
  return text as ImageLayout;
}

async function mkfsAction(
  image: string,
  opts: { size?: string; recipe?: string; force?: boolean; layout?: string },
): Promise<void> {
  const layout = parseLayout(opts.layout);
  if (layout === "whole-device" && opts.recipe !== undefined) {
    throw new CliError(
      "--recipe lays out partitions; a whole-device image has none (give --size instead)",
    );
  }
  const recipe = opts.recipe ? await loadRecipe(opts.recipe) : await defaultRecipe();
  const sizeBytes = opts.size === undefined ? recipe.sizeBytes : parseSize(opts.size, "size");
  const r = await mkfsImage(image, { recipe, sizeBytes, force: opts.force, layout });
  const paint = stdoutPainter();
  if (!r.table) {
    await print(
      `${paint("bold", "created")} ${image}: ${
        formatSize(r.totalSectors * SECTOR_SIZE)
      } (${r.totalSectors} sectors), whole device (no partition table)`,
    );
    await print(
      `StateFS formatted from byte 0: layout ${r.stats.layout}, generation ${r.stats.generation}`,
    );
    return;
  }
  await print(
    `${paint("bold", "created")} ${image}: ${
      formatSize(r.table.totalSectors * SECTOR_SIZE)
    } (${r.table.totalSectors} sectors), GPT with ${r.table.partitions.length} partitions`,
  );
  for (
    const line of table(
      r.table.partitions.map((p) => [
        String(p.index),
        p.name,
        `${p.firstLba}..${p.lastLba}`,
        formatSize((p.lastLba - p.firstLba + 1) * SECTOR_SIZE),
      ]),
    )
  ) await print(line);
  await print(
    `StateFS formatted in "${
      r.partition!.name
    }": layout ${r.stats.layout}, generation ${r.stats.generation}`,
  );
}

async function inspectAction(image: string, opts: { json?: boolean }): Promise<void> {
  const { info, stats } = await withStateFs(
    image,
    false,
    (fs, info) => Promise.resolve({ info, stats: fs.stats() }),
  );
  if (opts.json) {
    await print(JSON.stringify(
      {
        ...imageJson(info),
        statefs: {
          partition: info.statefs.partition?.name ?? null,
          wholeDevice: info.wholeDevice ?? null,
          offsetBytes: info.statefs.offsetBytes,
          sizeBytes: info.statefs.lengthBytes,
          ...stats,
        },
      },
      null,
      2,
    ));
    return;
  }
  const paint = stdoutPainter();
  const rows: string[][] = [
    ["image", image],
    [
      "size",
      `${formatSize(info.sizeBytes)} (${info.sizeBytes} bytes, ${info.totalSectors} sectors)`,
    ],
    [
      "table",
      info.table
        ? `GPT, disk GUID ${info.table.diskGuid}${
          info.gpt?.source === "backup" ? " (from the backup copy)" : ""
        }`
        : "none (whole-device StateFS)",
    ],
  ];
  for (const line of table(rows, "")) await print(line);
  if (info.table) {
    await print(paint("bold", "partitions"));
    const prows = [["#", "name", "start", "end", "sectors", "size", "type"]];
    for (const p of info.table.partitions) {
      const sectors = p.lastLba - p.firstLba + 1;
      prows.push([
        String(p.index),
        p.name,
        String(p.firstLba),
        String(p.lastLba),
        String(sectors),
        formatSize(sectors * SECTOR_SIZE),
        typeName(p.typeGuid),
      ]);
    }
    for (const line of table(prows)) await print(line);
  }
  await print(`${paint("bold", "statefs")}  ${describeLocation(info)}`);
  const nxs2 = stats.layout === "nxs2";
  const srows: string[][] = [
    ["layout", nxs2 ? "NXS2 (superblock, A/B regions)" : "legacy (journal from block 0)"],
    ["generation", nxs2 ? String(stats.generation) : "-"],
    [
      "active region",
      nxs2
        ? `${stats.activeRegion} (${stats.regionBlocks} blocks per region)`
        : `whole device (${stats.regionBlocks} blocks)`,
    ],
    ["records", String(stats.records)],
    ["live keys", String(stats.liveKeys)],
    ["bytes live", String(stats.bytesLive)],
    ["bytes used", String(stats.bytesUsed)],
  ];
  for (const line of table(srows)) await print(line);
}

/** A file name beside `image` that does not exist yet: `IMAGE.fsck-backup`, then `.1`, `.2`... */
async function freshBackupPath(image: string): Promise<string> {
  for (let n = 0;; n++) {
    const path = `${image}.fsck-backup${n === 0 ? "" : `.${n}`}`;
    try {
      await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return path;
      throw err;
    }
  }
}

/**
 * The backup of a repair: created (never over an existing file) at the first block the repair
 * rewrites; each entry is on disk before the block it saves is rewritten.
 */
class BackupFile {
  #file: Deno.FsFile | undefined;
  blocks = 0;

  constructor(readonly path: string, readonly offsetBytes: number, readonly sizeBytes: number) {}

  readonly sink = (block: number, old: Uint8Array): void => {
    try {
      if (!this.#file) {
        this.#file = Deno.openSync(this.path, { write: true, createNew: true });
        this.#file.writeSync(encodeBackupHeader(this.offsetBytes, this.sizeBytes));
      }
      const entry = encodeBackupEntry(block, old);
      for (let done = 0; done < entry.length;) done += this.#file.writeSync(entry.subarray(done));
      this.#file.syncDataSync();
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw new CliError(`backup ${this.path}: already exists (nothing was repaired)`);
      }
      throw new CliError(`backup ${this.path}: ${err instanceof Error ? err.message : err}`);
    }
    this.blocks += old.length / 512;
  };

  close(): void {
    this.#file?.close();
  }
}

async function fsckAction(
  image: string,
  opts: { repair?: boolean; json?: boolean; backup?: string | boolean },
): Promise<void> {
  // The partition table first: a damaged or misplaced GPT copy is a problem, and --repair
  // rewrites it before the StateFS is touched. Its backup then covers the whole image, so one
  // file undoes the whole repair (docs/disk.md).
  const probed = await probeImage(image);
  const gptProblems = (probed.gpt?.problems ?? []).map((p) => p.message);
  let gptFixed: SectorWrite[] = [];
  let gptLeft: string[] = [];
  let backup: BackupFile | undefined;
  const backupPath = async () =>
    typeof opts.backup === "string" ? opts.backup : await freshBackupPath(image);
  if (opts.repair && gptProblems.length > 0) {
    const plan = await planImageGptRepair(image);
    gptLeft = plan.left;
    if (plan.writes.length > 0) {
      if (opts.backup !== false) backup = new BackupFile(await backupPath(), 0, probed.sizeBytes);
      gptFixed = (await repairImageGpt(image, (lba, old) => backup?.sink(lba, old))).writes;
    }
  }
  let img;
  try {
    img = await openImage(image, { write: opts.repair ?? false });
  } catch (err) {
    backup?.close();
    throw err;
  }
  let report;
  try {
    if (opts.repair && opts.backup !== false && !backup) {
      backup = new BackupFile(
        await backupPath(),
        img.info.statefs.offsetBytes,
        img.info.statefs.lengthBytes,
      );
    }
    // A whole-image backup numbers sectors from the start of the disk.
    const shift = backup?.offsetBytes === 0 ? img.info.statefs.offsetBytes / SECTOR_SIZE : 0;
    const sink = backup &&
      ((block: number, old: Uint8Array) => backup!.sink(block + shift, old));
    report = await fsck(img.device, { repair: opts.repair ?? false, backup: sink });
  } finally {
    backup?.close();
    img.close();
  }
  const gptOpen = gptFixed.length > 0 ? gptLeft : gptProblems;
  if (gptProblems.length > 0 && report.status === "clean") {
    report = {
      ...report,
      status: gptFixed.length > 0 && gptLeft.length === 0 ? "repaired" : "repairable",
    };
  }
  const base = img.info.statefs.offsetBytes;
  const code = report.status === "clean"
    ? 0
    : report.status === "unrecoverable"
    ? EXIT_USAGE
    : EXIT_FAIL;
  if (opts.json) {
    await print(JSON.stringify(
      {
        image,
        partition: img.info.statefs.partition?.name ?? null,
        partitionOffsetBytes: base,
        ...report,
        problems: report.problems.map((p) => ({ ...p, imageOffset: base + p.offset })),
        backup: backup && backup.blocks > 0 ? { path: backup.path, sectors: backup.blocks } : null,
        gpt: probed.gpt
          ? {
            source: probed.gpt.source,
            problems: gptProblems,
            repaired: gptFixed.map((w) => ({ lba: w.lba, what: w.why })),
            left: gptOpen,
          }
          : null,
        exitCode: code,
      },
      null,
      2,
    ));
  } else {
    const paint = stdoutPainter();
    const color = report.status === "clean"
      ? "green"
      : report.status === "unrecoverable"
      ? "red"
      : "yellow";
    await print(`${image}: ${describeLocation(img.info)}, layout ${report.layout}`);
    await print(`status: ${paint(color, report.status)}`);
    const facts = [`records ${report.records}`, `live keys ${report.liveKeys}`];
    if (report.generation !== undefined) facts.push(`generation ${report.generation}`);
    await print(facts.join(", "));
    if (gptFixed.length > 0) {
      const what = [...new Set(gptFixed.map((w) => w.why))].join(", ");
      await print(`  gpt repaired: ${gptFixed.length} sectors rewritten (${what})`);
    }
    for (const p of gptOpen) {
      await print(`  gpt: ${p}${gptFixed.length > 0 ? "" : " [repairable]"}`);
    }
    for (const p of report.problems) {
      await print(
        `  ${p.code} at offset ${p.offset} (image byte ${base + p.offset}): ${p.message}${
          p.repairable ? " [repairable]" : ""
        }`,
      );
    }
    if (backup && backup.blocks > 0) {
      await print(
        `backup of the ${backup.blocks} rewritten sectors: ${backup.path} (undo: nexus image restore ${image} ${backup.path})`,
      );
    }
  }
  if (code !== 0) setExitCode(code);
}

async function restoreAction(image: string, file: string): Promise<void> {
  let saved;
  try {
    saved = parseBackup(await Deno.readFile(file));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new CliError(`${file}: no such file`);
    if (err instanceof BlockDeviceError) throw new CliError(`${file}: ${err.message}`);
    throw new CliError(`${file}: ${err instanceof Error ? err.message : err}`);
  }
  if (saved.offsetBytes === 0 && saved.sizeBytes === await statImage(image)) {
    // A whole-image backup (a repair that rewrote the GPT): written back sector by sector,
    // without reading a table that may be the very thing being restored.
    const dev = await FileBlockDevice.open(image, { offsetBytes: 0, lengthBytes: saved.sizeBytes });
    try {
      const n = await restoreBackup(dev, saved);
      await print(`${image}: restored ${n} sectors from ${file}`);
    } finally {
      dev.close();
    }
    return;
  }
  const img = await openImage(image, { write: true });
  try {
    const s = img.info.statefs;
    if (s.offsetBytes !== saved.offsetBytes || s.lengthBytes !== saved.sizeBytes) {
      throw new CliError(
        `${file} was taken from a StateFS at byte ${saved.offsetBytes} (${saved.sizeBytes} bytes), ${image} has it at byte ${s.offsetBytes} (${s.lengthBytes} bytes): nothing restored`,
      );
    }
    const n = await restoreBackup(img.device, saved);
    await print(`${image}: restored ${n} sectors from ${file}`);
  } finally {
    img.close();
  }
}

async function lsAction(image: string, prefix: string | undefined): Promise<void> {
  const keys = await withStateFs(image, false, (fs) => {
    const all = fs.stats().liveKeys;
    return Promise.resolve(fs.list(prefix ?? "", Math.max(1, all)));
  });
  for (const key of keys) await print(key);
}

async function getAction(image: string, key: string): Promise<void> {
  const value = await withStateFs(image, false, (fs) => fs.get(key));
  if (value === undefined) throw new CliError(`${image}: no such key: ${key}`, EXIT_FAIL);
  await writeOut(value);
}

async function putAction(image: string, key: string, source: string): Promise<void> {
  const value = await readValue(source);
  await withStateFs(image, true, async (fs) => {
    await fs.put(key, value);
    await fs.sync();
  });
}

async function rmAction(image: string, key: string): Promise<void> {
  await withStateFs(image, true, async (fs) => {
    await fs.delete(key);
    await fs.sync();
  });
}

/** The flags of `nexus image mkfs`. */
interface MkfsFlags {
  size?: string;
  recipe?: string;
  layout?: string;
  force?: boolean;
}

/** The flags of `nexus image fsck`. */
interface FsckFlags {
  repair?: boolean;
  backup?: string;
  noBackup?: boolean;
  json?: boolean;
}

/** No flags beyond --help. */
type NoFlags = Record<never, never>;

const IMAGE_ARG = arg("image file", "image");

/** The `nexus image` commands. */
export const IMAGE_COMMANDS = {
  image: buildRouteMap({
    routes: {
      mkfs: buildCommand<MkfsFlags, [string], NexusContext>({
        docs: docs(
          "create a disk image: GPT, partitions from the recipe, a formatted empty StateFS",
          `
A whole-device image is the original OS's disk shape: the StateFS starts at byte 0 and there is
no partition table. An existing file is never overwritten without --force.${
            exitCodes("image written")
          }`,
        ),
        parameters: {
          flags: {
            size: option(
              "image size: bytes or K/M/G (e.g. 64M, 64MiB, 1G); default: the recipe's",
              "size",
            ),
            recipe: option(
              "image recipe (TOML); default: images/recipes/default.toml",
              "file",
            ),
            // A string checked by the command, so a wrong value names the accepted ones.
            layout: option(
              "gpt (default: partitions from the recipe) or whole-device (StateFS from byte 0, no table)",
              "layout",
            ),
            force: toggle("overwrite an existing file"),
          },
          positional: { kind: "tuple", parameters: [arg("image file to create", "image")] },
        },
        func: guarded((flags: MkfsFlags, image: string) => mkfsAction(image, flags)),
      }),
      inspect: buildCommand<{ json?: boolean }, [string], NexusContext>({
        docs: docs(
          "show partitions and StateFS facts: layout, generation, records, keys, bytes",
          exitCodes("success"),
        ),
        parameters: {
          flags: { json: toggle("print JSON") },
          positional: {
            kind: "tuple",
            parameters: [arg("image file (GPT image or whole-device StateFS)", "image")],
          },
        },
        func: guarded((flags: { json?: boolean }, image: string) => inspectAction(image, flags)),
      }),
      fsck: buildCommand<FsckFlags, [string], NexusContext>({
        docs: docs(
          "verify the StateFS: superblock, checkpoint, every record, transactions, tail",
          `
A repair never rewrites a byte of the valid journal. Undo it with: nexus image restore IMAGE BACKUP.
Exit codes: 0 clean; 1 repaired or repairable problems; 2 unrecoverable, or unusable image.`,
        ),
        parameters: {
          flags: {
            repair: toggle(
              "fix what is repairable: zero what follows the valid journal, abort orphan transactions, rebuild a lost superblock from the journal",
            ),
            backup: option(
              "with --repair: save every sector it rewrites here first (default: IMAGE.fsck-backup, never overwritten)",
              "file",
            ),
            // Its own flag, since --backup takes a file; it has no --no-no-backup.
            noBackup: toggle("with --repair: keep no backup"),
            json: toggle("print JSON"),
          },
          positional: {
            kind: "tuple",
            parameters: [arg("image file (GPT image or whole-device StateFS)", "image")],
          },
        },
        func: guarded(({ backup, noBackup, ...flags }: FsckFlags, image: string) => {
          if (noBackup && backup !== undefined) {
            throw new CliError("--backup and --no-backup: give one or the other");
          }
          return fsckAction(image, { ...flags, backup: noBackup ? false : backup });
        }),
      }),
      restore: buildCommand<NoFlags, [string, string], NexusContext>({
        docs: docs(
          "undo a repair: write back the sectors saved in a fsck backup",
          exitCodes("every saved sector written back"),
        ),
        parameters: {
          positional: {
            kind: "tuple",
            parameters: [
              arg("image file the backup was taken from", "image"),
              arg("backup file written by fsck --repair", "backup"),
            ],
          },
        },
        func: guarded((_: NoFlags, image: string, file: string) => restoreAction(image, file)),
      }),
      ls: buildCommand<NoFlags, [string, string | undefined], NexusContext>({
        docs: docs("list keys, byte-sorted", exitCodes("success")),
        parameters: {
          positional: {
            kind: "tuple",
            parameters: [IMAGE_ARG, optionalArg("only keys starting with this prefix", "prefix")],
          },
        },
        func: guarded((_: NoFlags, image: string, prefix: string | undefined) =>
          lsAction(image, prefix)
        ),
      }),
      get: buildCommand<NoFlags, [string, string], NexusContext>({
        docs: docs("write a key's raw value to stdout", exitCodes("success", "key not found")),
        parameters: {
          positional: {
            kind: "tuple",
            parameters: [IMAGE_ARG, arg("key, e.g. /state/boot/bootctl.v1", "key")],
          },
        },
        func: guarded((_: NoFlags, image: string, key: string) => getAction(image, key)),
      }),
      put: buildCommand<NoFlags, [string, string, string], NexusContext>({
        docs: docs(
          "store a value (from a file, or stdin with -) and sync",
          exitCodes("stored and synced"),
        ),
        parameters: {
          positional: {
            kind: "tuple",
            parameters: [
              IMAGE_ARG,
              arg("key, e.g. /state/app/config", "key"),
              arg("file with the value, or - for stdin", "file"),
            ],
          },
        },
        func: guarded((_: NoFlags, image: string, key: string, file: string) =>
          putAction(image, key, file)
        ),
      }),
      rm: buildCommand<NoFlags, [string, string], NexusContext>({
        docs: docs("delete a key and sync", exitCodes("deleted and synced", "key not found")),
        parameters: {
          positional: { kind: "tuple", parameters: [IMAGE_ARG, arg("key to delete", "key")] },
        },
        func: guarded((_: NoFlags, image: string, key: string) => rmAction(image, key)),
      }),
    },
    docs: { brief: "build and inspect disk images with a StateFS partition" },
  }),
};
