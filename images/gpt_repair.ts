/**
 * Repairing an image's GPT (`nexus image fsck --repair`): the damaged copy is rewritten from the
 * valid one, a backup left behind by growing the image moves to the last LBA, a missing
 * protective MBR is written back. What gets rewritten is planned by `planGptRepair`
 * (core/statefs/gpt.ts); this applies the plan to a file, handing the old bytes of every sector
 * to a sink first so the repair can be undone (docs/disk.md).
 *
 * @example
 * ```ts
 * import { repairImageGpt } from "./gpt_repair.ts";
 * const saved: Array<[number, Uint8Array]> = [];
 * const r = await repairImageGpt("blk.img", (lba, old) => void saved.push([lba, old]));
 * console.log(r.writes.map((w) => w.why));
 * ```
 *
 * @module
 */

import {
  GptError,
  type GptRepairPlan,
  planGptRepair,
  SECTOR_SIZE,
  type SectorWrite,
} from "../core/statefs/gpt.ts";
import { ImageError, readAt, statImage } from "./image.ts";

/** Receives the old bytes of `count` sectors from `lba` before they are rewritten. */
export type SectorSink = (lba: number, old: Uint8Array) => void | Promise<void>;

/** What {@link repairImageGpt} did. */
export interface GptRepairResult {
  /** The plan that was applied (its `writes` are what was written). */
  plan: GptRepairPlan;
  /** Sector writes done, in order. */
  writes: SectorWrite[];
}

async function writeAt(file: Deno.FsFile, offset: number, data: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

/**
 * Plans the GPT repair of `path` without writing. Throws {@link ImageError} `BAD_GPT` when the
 * table cannot be repaired (no valid copy, copies that disagree, a table that does not fit).
 */
export async function planImageGptRepair(path: string): Promise<GptRepairPlan> {
  const size = await statImage(path);
  const file = await Deno.open(path, { read: true });
  try {
    return await planGptRepair(
      (lba, count) => readAt(file, lba * SECTOR_SIZE, count * SECTOR_SIZE),
      size / SECTOR_SIZE,
    );
  } catch (err) {
    if (err instanceof GptError) {
      throw new ImageError("BAD_GPT", `${path}: cannot repair the GPT: ${err.message}`);
    }
    throw err;
  } finally {
    file.close();
  }
}

/**
 * Repairs the GPT of `path`: every sector the plan rewrites is first handed, with its old
 * bytes, to `sink` (awaited, so a backup is on disk before the sector changes), then written;
 * the file is synced at the end. Writes the table copy that is damaged before anything that
 * points at it: the new backup first, then the primary header, then what is stale.
 */
export async function repairImageGpt(path: string, sink: SectorSink): Promise<GptRepairResult> {
  const plan = await planImageGptRepair(path);
  const file = await Deno.open(path, { read: true, write: true });
  try {
    const order = [...plan.writes].sort((a, b) => rank(a) - rank(b) || a.lba - b.lba);
    for (const w of order) {
      await sink(w.lba, await readAt(file, w.lba * SECTOR_SIZE, w.data.length));
      await writeAt(file, w.lba * SECTOR_SIZE, w.data);
    }
    await file.syncData();
    return { plan, writes: order };
  } finally {
    file.close();
  }
}

// Each copy's array before its header (a header is only valid over the array it names), the
// far copy before the primary, and a stale header last: zeroed only once the moved backup exists.
function rank(w: SectorWrite): number {
  if (w.why.startsWith("backup")) return 0;
  if (w.why.startsWith("primary")) return w.lba === 1 ? 2 : 1;
  if (w.why.startsWith("protective")) return 3;
  return 4;
}
