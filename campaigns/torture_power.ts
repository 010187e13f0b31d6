/**
 * `torture power`: power cuts at chosen writes of two workloads.
 *
 * - `boot` cases (`boot:w<N>:<behaviour>`): the first boot on a fresh image (seed 1) loses power
 *   right after its N-th write request; the medium is checked and (unless the `reboot` option is
 *   false) rebooted (boot_case.ts).
 * - `engine` cases (`engine:<seed>`): the random engine workload of that seed, every chosen crash
 *   point and subset checked (engine_workload.ts).
 * - `repair` cases (`repair:<seed>`): `fsck --repair` of that workload's repairable crash images,
 *   itself crashed at every write.
 *
 * Modes choose the write numbers: `linear` 1, 2, 3 ...; `log` 1, 2, 4, 8 ...; `exhaustive` every
 * write, and for the engine workload every subset of the writes in flight up to a bound.
 *
 * @module
 */

import type { CutMode } from "../core/virtio/fault.ts";
import { CUT_MODES } from "../core/virtio/fault.ts";
import { type BootBench, campaignBench, type CaseResult, runBootCase } from "./boot_case.ts";
import { type Campaign, type CampaignOptions, recipeFlag, recipeOption } from "./campaign.ts";
import { crashPoints, type PowerMode, tortureEngine, tortureRepair } from "./engine_workload.ts";
import type { FaultPlan } from "./plan.ts";
import { SelectError } from "./select.ts";

/** Workloads of `torture power`. */
export const POWER_WORKLOADS = ["boot", "engine", "repair"] as const;

function behaviours(o: CampaignOptions): CutMode[] {
  const list = String(o.cut ?? CUT_MODES.join(",")).split(",").map((s) => s.trim());
  for (const b of list) {
    if (!(CUT_MODES as readonly string[]).includes(b)) {
      throw new SelectError(`--cut "${b}": expected ${CUT_MODES.join(", ")}`);
    }
  }
  return list as CutMode[];
}

function workloads(o: CampaignOptions): string[] {
  const list = String(o.workload ?? "boot,engine,repair").split(",").map((s) => s.trim());
  for (const w of list) {
    if (!(POWER_WORKLOADS as readonly string[]).includes(w)) {
      throw new SelectError(`--workload "${w}": expected ${POWER_WORKLOADS.join(", ")}`);
    }
  }
  return list;
}

function mode(o: CampaignOptions): PowerMode {
  const m = String(o.mode ?? "linear");
  if (m !== "linear" && m !== "log" && m !== "exhaustive") {
    throw new SelectError(`--mode "${m}": expected linear, log or exhaustive`);
  }
  return m;
}

function replay(o: CampaignOptions, id: string): string {
  const cuts = behaviours(o).join(",");
  const line = `nexus torture power --mode ${mode(o)} --cut ${cuts} --case ${id}`;
  if (!id.startsWith("boot:")) return line;
  return `${line}${o.reboot === false ? " --no-reboot" : ""}${recipeFlag(recipeOption(o))}`;
}

/** The torture power campaign. */
export const torturePower: Campaign<{ bench?: BootBench; dir: string }> = {
  name: "torture power",
  async setup(o, dir) {
    if (!workloads(o).includes("boot")) return { dir };
    return { bench: await campaignBench(o, dir), dir };
  },
  async cases(o, dir) {
    if (typeof o.case === "string" && o.case !== "") return [o.case];
    const out: string[] = [];
    const m = mode(o);
    const bs = behaviours(o);
    for (const w of workloads(o)) {
      if (w === "boot") {
        const bench = await campaignBench(o, dir);
        for (const n of crashPoints(m, bench.workload.writes)) {
          for (const b of bs) out.push(`boot:w${n}:${b}`);
        }
      } else {
        const n = Number(o.workloads ?? 20);
        for (let s = 1; s <= n; s++) out.push(`${w}:${s}`);
      }
    }
    return out;
  },
  async run(ctx, id, o): Promise<CaseResult> {
    const m = /^boot:w(\d+):(atomic|reorder|torn)$/.exec(id);
    if (m) {
      const bench = ctx.bench ?? (ctx.bench = await campaignBench(o, ctx.dir));
      const plan: FaultPlan = {
        ioErrors: [],
        powerCut: { write: Number(m[1]), mode: m[2] as CutMode },
      };
      const r = await runBootCase(bench, 1, plan, replay(o, id), { reboot: o.reboot !== false });
      return { ...r, id };
    }
    const e = /^(engine|repair):(\d+)$/.exec(id);
    if (!e) throw new SelectError(`unknown torture power case "${id}"`);
    const seed = Number(e[2]);
    const opts = { mode: mode(o), behaviours: behaviours(o), bound: Number(o.bound ?? 8) };
    const out = e[1] === "engine"
      ? await tortureEngine(seed, opts)
      : await tortureRepair(seed, opts);
    return {
      id,
      ok: out.problems.length === 0,
      problems: out.problems,
      plan: `${opts.mode}:${opts.behaviours.join("+")}`,
      replay: replay(o, id),
      detail: { images: out.images },
    };
  },
};
