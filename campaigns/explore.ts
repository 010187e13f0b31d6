/**
 * `explore`: many boots, one per seed, each with the fault plan its seed draws for a fault class
 * (or one given plan), checked against the ladder and the durability invariants (boot_case.ts).
 * A failing plan is shrunk to a smallest plan that still fails, and the replay command names it.
 *
 * @example
 * ```ts
 * import { runCases } from "./runner.ts";
 * const out = await runCases({
 *   campaign: "explore",
 *   options: { seeds: "1..3", faults: "power" },
 *   cases: ["1", "2", "3"],
 *   jobs: 0,
 *   dir: await Deno.makeTempDir(),
 * });
 * out.results.filter((r) => !r.ok); // failures, each with r.replay
 * ```
 *
 * @module
 */

import { type BootBench, campaignBench, type CaseResult, runBootCase } from "./boot_case.ts";
import { type Campaign, type CampaignOptions, recipeFlag, recipeOption } from "./campaign.ts";
import type { OverlayStore } from "./medium.ts";
import {
  drawPlan,
  type FaultClass,
  faultCount,
  type FaultPlan,
  formatPlan,
  parsePlan,
  shrinkPlan,
} from "./plan.ts";
import { parseSeeds } from "./select.ts";
import { scheduleFor } from "./schedules.ts";

/** Failing images a process saves at most (64 MiB each). */
const MAX_SAVED_IMAGES = 3;

interface ExploreCtx {
  bench: BootBench;
  dir: string;
  saved: number;
}

/** How an explore run was shaped beyond its seed and plan, as its replay line repeats it. */
export interface ExploreShape {
  /** False: the case ran as `--no-reboot` runs it. */
  reboot?: boolean;
  /** The image recipe file its boots used (`--recipe`); the default image without one. */
  recipe?: string;
}

/** The command that replays one explore case exactly. */
export function exploreReplay(
  seed: number,
  cls: string,
  plan: FaultPlan,
  shape: ExploreShape = {},
): string {
  let line = `nexus explore --seeds ${seed} --faults ${cls} --plan ${formatPlan(plan)}`;
  if (shape.reboot === false) line += " --no-reboot";
  return line + recipeFlag(shape.recipe);
}

function planFor(ctx: ExploreCtx, seed: number, o: CampaignOptions): FaultPlan {
  if (typeof o.plan === "string" && o.plan !== "") return parsePlan(o.plan);
  return drawPlan(seed, String(o.faults ?? "none") as FaultClass, ctx.bench.workload);
}

/** The explore campaign. */
export const explore: Campaign<ExploreCtx> = {
  name: "explore",
  async setup(o, dir) {
    return { bench: await campaignBench(o, dir), dir, saved: 0 };
  },
  cases(o) {
    return Promise.resolve(parseSeeds(String(o.seeds)).map(String));
  },
  async run(ctx, id, o): Promise<CaseResult> {
    const seed = Number(id);
    const cls = String(o.faults ?? "none");
    const plan = planFor(ctx, seed, o);
    const save = async (m: OverlayStore) => {
      if (ctx.saved >= MAX_SAVED_IMAGES) return undefined;
      ctx.saved++;
      const path = `${ctx.dir}/seed-${seed}.img`;
      await Deno.writeFile(path, m.bytes());
      return path;
    };
    const schedule = (s: number) => scheduleFor(cls as FaultClass, s);
    const reboot = o.reboot !== false;
    const shape = { reboot, recipe: recipeOption(o) };
    const r = await runBootCase(ctx.bench, seed, plan, exploreReplay(seed, cls, plan, shape), {
      onFailure: save,
      schedule,
      reboot,
    });
    if (r.ok || o.shrink === false || faultCount(plan) <= 1) return r;
    const small = await shrinkPlan(
      plan,
      async (p) => !(await runBootCase(ctx.bench, seed, p, "", { schedule, reboot })).ok,
      16,
    );
    return {
      ...r,
      replay: exploreReplay(seed, cls, small.plan, shape),
      detail: { ...r.detail, shrunk: formatPlan(small.plan), shrinkTries: small.tried },
    };
  },
};
