/**
 * `torture corrupt`: damage a populated image (one the system booted on, holding bootctl, the
 * device key and the selftest's keys) and run what a user runs on it — inspect, fsck,
 * `fsck --repair`, `put`, and a boot — through the same library calls as `nexus image` and
 * `nexus boot`. Each case (a seed) draws one damage: a bit flip, a zeroed, garbage or duplicated
 * sector, or a truncated file, aimed at the StateFS journal, the superblock, the primary or backup
 * GPT, or anywhere in the StateFS area.
 *
 * Invariants:
 * - no exception escapes other than the documented error types, and nothing hangs;
 * - fsck never calls a damaged image clean when a byte it covers (the superblock, the valid
 *   journal) changed, nor when the store then reads back differently;
 * - nothing intact is destroyed: after a repair, a put or a boot, every key none of whose records
 *   was touched either reads back with its value or still has all its record bytes unchanged on
 *   the disk (so it can still be recovered);
 * - a boot either passes or fails with a failure line.
 *
 * @module
 */

import { fsck } from "../core/statefs/fsck.ts";
import { StateFs } from "../core/statefs/engine.ts";
import { StateFsError } from "../core/statefs/errors.ts";
import { BlockDeviceError } from "../core/statefs/block_device.ts";
import { GptError } from "../core/statefs/gpt.ts";
import { decodeRecord, decodeSuperblock, regionStartBlock } from "../core/statefs/journal.ts";
import { Prng } from "../core/simulation/prng.ts";
import { ImageError, openImage } from "../images/image.ts";
import {
  type BootBench,
  bootOnce,
  type CaseResult,
  makeBootBench,
  recipeImage,
} from "./boot_case.ts";
import { type Campaign, type CampaignOptions, recipeFlag, recipeOption } from "./campaign.ts";
import {
  findStateArea,
  OverlayStore,
  readState,
  StoreDevice,
  type StoreState,
  valueDigest,
} from "./medium.ts";
import { parseSeeds } from "./select.ts";
import { noFaults } from "./plan.ts";

/** Damage kinds. */
export const DAMAGES = ["bitflip", "zero", "garbage", "duplicate", "truncate"] as const;
/** Damage targets. */
export const TARGETS = ["journal", "superblock", "gpt-primary", "gpt-backup", "area"] as const;

/** A populated image and where everything in it is. */
export interface CorruptBench {
  /** The boot bench (fresh image, ladder). */
  boot: BootBench;
  /** The image after one clean boot. */
  populated: Uint8Array;
  /** Its StateFS contents. */
  state: StoreState;
  /** The StateFS partition in sectors. */
  area: { first: number; count: number };
  /** Byte ranges `[start, end)` in the image of each key's records. */
  records: Map<string, Array<[number, number]>>;
  /** Image byte range of the superblock and the valid journal (what fsck covers). */
  covered: Array<[number, number]>;
  /** Image byte range of the valid journal of the active region. */
  journal: [number, number];
  /** Scratch directory. */
  dir: string;
  /** Offsets of the populated image's 64 KiB chunks that hold any non-zero byte. */
  nonZeroChunks: number[];
  /** The recipe file the image was made from (replay lines name it); the default image if none. */
  recipe?: string;
}

const CHUNK = 65536;

function nonZeroChunks(image: Uint8Array): number[] {
  const out: number[] = [];
  const words = new BigUint64Array(image.buffer, image.byteOffset, image.length / 8);
  for (let at = 0; at < image.length; at += CHUNK) {
    for (let w = at / 8; w < (at + CHUNK) / 8 && w < words.length; w++) {
      if (words[w] !== 0n) {
        out.push(at);
        break;
      }
    }
  }
  return out;
}

/**
 * Boots once on a fresh image (the default one, or the one the recipe file at `recipe` describes)
 * and maps the result.
 */
export async function makeCorruptBench(dir: string, recipe?: string): Promise<CorruptBench> {
  const boot = await makeBootBench(dir, undefined, await recipeImage(recipe));
  const medium = new OverlayStore(boot.template);
  await bootOnce(boot, medium, 1, noFaults());
  const populated = medium.bytes();
  const area = await findStateArea(medium);
  if ("error" in area) throw new Error(`populated image: ${area.error}`);
  const base = area.first * 512;
  const dev = new StoreDevice(medium, area.first, area.count);
  const state = await readState(dev);
  const sb = decodeSuperblock(populated.subarray(base, base + 512));
  if (!sb.ok) throw new Error(`populated image: ${sb.message}`);
  const start = base + regionStartBlock(area.count, sb.sb.activeRegion) * 512;
  const rep = await fsck(dev);
  const end = base + (rep.journalEnd ?? 0);
  const records = new Map<string, Array<[number, number]>>();
  for (let at = start; at < end;) {
    const d = decodeRecord(populated, at, end);
    if (d.kind !== "record") break;
    const k = d.record.key;
    if (k) {
      if (!records.has(k)) records.set(k, []);
      records.get(k)!.push([at, at + d.size]);
    }
    at += d.size;
  }
  return {
    boot,
    populated,
    state,
    area,
    records,
    // The superblock's 20 bytes (magic, version, region, generation, entries, CRC) and the
    // valid journal: what fsck reads and vouches for.
    covered: [[base, base + 20], [start, end]],
    nonZeroChunks: nonZeroChunks(populated),
    journal: [start, end],
    dir,
    ...(recipe ? { recipe } : {}),
  };
}

/** One drawn damage. */
export interface Damage {
  /** What was done. */
  kind: typeof DAMAGES[number];
  /** Where. */
  target: typeof TARGETS[number];
  /** The damaged sector (or the new length in sectors, for truncate). */
  sector: number;
  /** A short description. */
  text: string;
}

/** Applies the damage a seed draws; returns the damaged image and what was done. */
export function damage(b: CorruptBench, seed: number): { image: Uint8Array; damage: Damage } {
  const rng = new Prng((seed * 0x9e3779b1) >>> 0);
  const kind = DAMAGES[rng.below(DAMAGES.length)];
  const target = TARGETS[rng.below(TARGETS.length)];
  const total = b.populated.length / 512;
  const [js, je] = b.journal;
  const sectorIn = (from: number, to: number) => from + rng.below(Math.max(1, to - from));
  const sector = target === "journal"
    ? sectorIn(Math.floor(js / 512), Math.ceil(je / 512))
    : target === "superblock"
    ? b.area.first
    : target === "gpt-primary"
    ? sectorIn(0, 34)
    : target === "gpt-backup"
    ? sectorIn(total - 33, total)
    : sectorIn(b.area.first, b.area.first + b.area.count);
  let image = b.populated.slice();
  const at = sector * 512;
  let text: string;
  switch (kind) {
    case "bitflip": {
      const byte = at + rng.below(512);
      const bit = rng.below(8);
      image[byte] ^= 1 << bit;
      text = `bit ${bit} of byte ${byte} flipped`;
      break;
    }
    case "zero":
      image.fill(0, at, at + 512);
      text = `sector ${sector} zeroed`;
      break;
    case "garbage":
      rng.fill(image.subarray(at, at + 512));
      text = `sector ${sector} overwritten with garbage`;
      break;
    case "duplicate": {
      const from = Math.max(0, sector + (rng.bool() ? -1 : 1) * (1 + rng.below(8)));
      image.set(b.populated.subarray(from * 512, from * 512 + 512), at);
      text = `sector ${from} copied over sector ${sector}`;
      break;
    }
    case "truncate":
      image = image.slice(0, at);
      text = `file truncated to ${sector} sectors`;
      break;
  }
  return { image, damage: { kind, target, sector, text } };
}

/** The byte span the damage changed (a cut file: everything past its new end). */
function changedRanges(b: CorruptBench, image: Uint8Array, d: Damage): Array<[number, number]> {
  if (d.kind === "truncate") return [[image.length, b.populated.length]];
  const at = d.sector * 512;
  let first = -1;
  let last = -1;
  for (let i = at; i < at + 512; i++) {
    if (image[i] !== b.populated[i]) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? [] : [[first, last + 1]];
}

const overlaps = (a: Array<[number, number]>, b: Array<[number, number]>) =>
  a.some(([s, e]) => b.some(([t, f]) => s < f && t < e));

/** Errors the layers document for bad input; anything else escaping is a bug. */
function documented(err: unknown): boolean {
  return err instanceof StateFsError || err instanceof ImageError || err instanceof GptError ||
    err instanceof BlockDeviceError;
}

/**
 * Writes `image` to `path` sparsely: the chunks of the populated image that hold data, plus the
 * chunk `extra` (the damaged one).
 */
async function writeSparse(
  path: string,
  image: Uint8Array,
  chunks: number[],
  extra: number,
): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    await f.truncate(image.length);
    const list = [...new Set([...chunks, extra - (extra % CHUNK)])].sort((a, b) => a - b);
    for (const at of list) {
      if (at >= image.length) continue;
      const chunk = image.subarray(at, Math.min(at + CHUNK, image.length));
      await f.seek(at, Deno.SeekMode.Start);
      let done = 0;
      while (done < chunk.length) done += await f.write(chunk.subarray(done));
    }
  } finally {
    f.close();
  }
}

/**
 * The intact keys (none of whose records changed) that `after` (an image read back after a write
 * path ran) has destroyed: not readable with their value, and some record byte changed.
 */
function destroyed(
  b: CorruptBench,
  changed: Array<[number, number]>,
  after: (start: number, end: number) => Uint8Array | undefined,
  readable: StoreState | undefined,
  rewritten: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (const [key, ranges] of b.records) {
    if (!b.state.has(key) || rewritten.has(key) || overlaps(ranges, changed)) continue;
    if (readable && valueDigest(readable.get(key)) === valueDigest(b.state.get(key))) continue;
    const kept = ranges.every(([s, e]) => {
      const now = after(s, e);
      return now !== undefined && now.every((x, i) => x === b.populated[s + i]);
    });
    if (!kept) out.push(key);
  }
  return out;
}

async function readImageState(path: string): Promise<StoreState | undefined> {
  try {
    const img = await openImage(path);
    try {
      return await readState(img.device);
    } finally {
      img.close();
    }
  } catch (err) {
    if (documented(err)) return undefined;
    throw err;
  }
}

/** Runs one corruption case. */
export async function runCorruptCase(b: CorruptBench, seed: number): Promise<CaseResult> {
  const { image, damage: d } = damage(b, seed);
  const changed = changedRanges(b, image, d);
  const fromBytes = (bytes: Uint8Array) => (s: number, e: number) =>
    e <= bytes.length ? bytes.subarray(s, e) : undefined;
  const problems: string[] = [];
  const path = `${b.dir}/corrupt-${seed}.img`;
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (!documented(err)) {
        problems.push(
          `${name}: exception escaped: ${(err as Error)?.name}: ${(err as Error)?.message}`,
        );
      }
      return undefined;
    }
  };
  try {
    // inspect and fsck, read-only.
    await writeSparse(path, image, b.nonZeroChunks, d.sector * 512);
    const before = await step("inspect", () => readImageState(path));
    const report = await step("fsck", async () => {
      const img = await openImage(path);
      try {
        return await fsck(img.device);
      } finally {
        img.close();
      }
    });
    if (report?.status === "clean") {
      if (overlaps(changed, b.covered)) {
        problems.push(`fsck calls the image clean though bytes it covers changed (${d.text})`);
      } else if (
        before && [...b.state].some(([k, v]) => valueDigest(before.get(k)) !== valueDigest(v))
      ) {
        problems.push(`fsck calls the image clean though keys read back differently (${d.text})`);
      }
    }
    // fsck --repair: may refuse, never destroy what is intact.
    await step("fsck --repair", async () => {
      const img = await openImage(path, { write: true });
      try {
        await fsck(img.device, { repair: true });
      } finally {
        img.close();
      }
    });
    const repaired = await Deno.readFile(path);
    const lostByRepair = destroyed(b, changed, fromBytes(repaired), await readImageState(path));
    if (lostByRepair.length > 0) {
      problems.push(`fsck --repair destroyed intact keys: ${lostByRepair.join(", ")} (${d.text})`);
    }
    // put on the damaged image.
    await writeSparse(path, image, b.nonZeroChunks, d.sector * 512);
    await step("put", async () => {
      const img = await openImage(path, { write: true });
      try {
        const fs = await StateFs.open(img.device);
        await fs.put("/state/torture/new", new Uint8Array([1, 2, 3]));
        await fs.sync();
      } finally {
        img.close();
      }
    });
    const put = await Deno.readFile(path);
    const lostByPut = destroyed(b, changed, fromBytes(put), await readImageState(path));
    if (lostByPut.length > 0) {
      problems.push(`put destroyed intact keys: ${lostByPut.join(", ")} (${d.text})`);
    }
    // boot on the damaged image.
    if (image.length >= 512 * 64) {
      const medium = new OverlayStore(image);
      // Seed 2: the populated image was made under seed 1, and a boot tells a reloaded device
      // key from a remade one only under another seed.
      const run = await step("boot", () => bootOnce(b.boot, medium, 2, noFaults()));
      if (run?.crashed) problems.push(`boot threw: ${run.crashed}`);
      else if (run && run.verdict.status !== "PASS" && run.verdict.failures.length === 0) {
        problems.push(`boot stalled without a failure line (${run.verdict.end})`);
      }
      // Keys the boot itself writes are its to change; every other intact key must survive.
      const rewritten = new Set(
        (run?.log.ops ?? []).flatMap((op) =>
          op.kind === "batch" ? op.ops.map((x) => x.key) : op.kind === "sync" ? [] : [op.key]
        ),
      );
      const area = await findStateArea(medium);
      const readable = "error" in area
        ? undefined
        : await step("read after boot", () =>
          readState(new StoreDevice(medium, area.first, area.count)));
      const lostByBoot = destroyed(
        b,
        changed,
        (s, e) => {
          if (e > image.length) return undefined;
          const first = Math.floor(s / 512);
          const bytes = medium.read(first, Math.ceil(e / 512) - first);
          return bytes.subarray(s - first * 512, e - first * 512);
        },
        readable,
        rewritten,
      );
      if (run && lostByBoot.length > 0) {
        problems.push(
          `a boot (${run.verdict.status}) destroyed intact keys: ${
            lostByBoot.join(", ")
          } (${d.text})`,
        );
      }
    }
  } finally {
    await Deno.remove(path).catch(() => {});
  }
  return {
    id: String(seed),
    ok: problems.length === 0,
    problems,
    plan: `${d.kind}@${d.target}:${d.sector}`,
    replay: `nexus torture corrupt --seeds ${seed}${recipeFlag(b.recipe)}`,
    detail: { damage: d.text },
  };
}

/** The torture corrupt campaign. */
export const tortureCorrupt: Campaign<CorruptBench> = {
  name: "torture corrupt",
  setup(o: CampaignOptions, dir: string) {
    return makeCorruptBench(dir, recipeOption(o));
  },
  cases(o) {
    return Promise.resolve(parseSeeds(String(o.seeds ?? "1..300")).map(String));
  },
  run(ctx, id) {
    return runCorruptCase(ctx, Number(id));
  },
};
