/**
 * Power cuts during the first boot on a fresh image: boot with the disk's write cache and cut
 * power right after write N, then boot twice more on what the cut left (each again ending in a
 * power cut). The system must recover: the second boot passes as a first boot would, the third
 * proves persistence across its reboot. Everything runs in process on an in-memory copy of one
 * fresh image, so a cut point costs three boots and no disk I/O.
 *
 * The suite runs a sample of cut points (tests/power_cut_test.ts); the whole range is
 *
 * ```sh
 * deno run --allow-read --allow-write tests/power_cut.ts [reorder|atomic|torn] [FIRST] [LAST] [STEP]
 * ```
 *
 * which prints one line per cut point and exits 1 when any fails.
 *
 * @module
 */

import { bootSystem } from "../init/boot.ts";
import type { CutMode } from "../core/virtio/fault.ts";
import { MemoryStore } from "../core/virtio/store.ts";
import { mkfsImage, type MkfsOptions } from "../images/mod.ts";
import { readRange } from "./helpers.ts";

/** A line that ends a run at once in the default ladder. */
const FAILURE = /FAIL|SLOT MISSING|!fatal|panic|watchdog fired/;

/** Shape of the image the cuts are made on: the default image unless a test asks for another. */
export type ImageShape = Omit<MkfsOptions, "force">;

/** Bytes of each fresh image made so far, by shape (made once per process). */
const fresh = new Map<string, Uint8Array>();

/** The bytes of a fresh image of `shape` (default: the default image). */
export async function freshImage(shape: ImageShape = {}): Promise<Uint8Array> {
  const key = JSON.stringify(shape);
  let bytes = fresh.get(key);
  if (bytes === undefined) {
    const dir = await Deno.makeTempDir({ prefix: "nexus-cut-" });
    try {
      await mkfsImage(`${dir}/blk.img`, shape);
      // One buffer of the file's size: Deno.readFile costs ten times the CPU on 64 MiB.
      bytes = await readRange(`${dir}/blk.img`, 0, (await Deno.stat(`${dir}/blk.img`)).size);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    fresh.set(key, bytes);
  }
  return bytes;
}

/** One boot on `store`; its console lines, and what the disk saw. */
async function boot(
  store: MemoryStore,
  seed: number,
  mode: CutMode,
  atWrite?: number,
): Promise<{ lines: string[]; writes: number; cutEarly: boolean }> {
  const lines: string[] = [];
  const out = await bootSystem({
    imagePath: "(memory)",
    store,
    seed,
    onLine: (line) => lines.push(line),
    // After a cut at a chosen write the system runs on against a dead disk: nothing reaches it.
    shouldStop: () => false,
    powerCutAtEnd: mode,
    ...(atWrite !== undefined
      ? { faults: { ioErrors: [], powerCut: { write: atWrite, mode } } }
      : {}),
  });
  const cutEarly = atWrite !== undefined && out.disk?.cut.id.startsWith("cut:") === true;
  return { lines, writes: out.disk?.writes ?? 0, cutEarly };
}

/** Writes a complete first boot makes on a fresh image (the range of cut points). */
export async function firstBootWrites(
  mode: CutMode = "reorder",
  shape: ImageShape = {},
): Promise<number> {
  const store = new MemoryStore((await freshImage(shape)).slice());
  const run = await boot(store, 1, mode);
  const failed = run.lines.find((l) => FAILURE.test(l));
  if (failed !== undefined) throw new Error(`the uncut first boot fails: ${failed}`);
  return run.writes;
}

/** Why the system did not recover from a cut after write `write`, or null when it did. */
export async function recoversFromCut(
  write: number,
  mode: CutMode,
  shape: ImageShape = {},
): Promise<string | null> {
  const store = new MemoryStore((await freshImage(shape)).slice());
  const first = await boot(store, 1, mode, write);
  if (!first.cutEarly) return `the first boot made fewer than ${write} writes`;
  const second = await boot(store, 2, mode);
  const bad2 = second.lines.find((l) => FAILURE.test(l));
  if (bad2 !== undefined) return `boot after the cut: ${bad2}`;
  if (!second.lines.includes("SELFTEST: end")) return "boot after the cut did not reach the end";
  const third = await boot(store, 3, mode);
  const bad3 = third.lines.find((l) => FAILURE.test(l));
  if (bad3 !== undefined) return `cold boot after that: ${bad3}`;
  for (const m of ["SELFTEST: statefs cold-boot persist ok", "SELFTEST: device key reloaded ok"]) {
    if (!third.lines.includes(m)) return `cold boot after that: no "${m}"`;
  }
  return null;
}

if (import.meta.main) {
  const mode = (Deno.args[0] ?? "reorder") as CutMode;
  const total = await firstBootWrites(mode);
  const first = Number(Deno.args[1] ?? 1);
  const last = Math.min(Number(Deno.args[2] ?? total), total);
  const step = Math.max(1, Number(Deno.args[3] ?? 1));
  console.log(`first boot: ${total} writes; cutting after writes ${first}..${last} (${mode})`);
  let failed = 0;
  let tried = 0;
  for (let w = first; w <= last; w += step) {
    tried++;
    const why = await recoversFromCut(w, mode);
    if (why !== null) failed++;
    console.log(`cut:${w}:${mode}:1 ${why === null ? "recovers" : `FAILS: ${why}`}`);
  }
  console.log(`${tried - failed} of ${tried} cut points recover`);
  Deno.exit(failed === 0 ? 0 : 1);
}
