/**
 * Drives a whole campaign: lists its cases, keeps this shard's, runs them (in workers or in this
 * process), and builds the report. The scratch directory is a fresh temporary one unless given;
 * a temporary one is removed afterwards unless a failing case saved an image in it.
 *
 * @example
 * ```ts
 * import { driveCampaign } from "./drive.ts";
 * const report = await driveCampaign({
 *   campaign: "explore",
 *   options: { seeds: "1..20", faults: "power" },
 *   jobs: 2,
 * });
 * console.log(report.runs, report.failures);
 * ```
 *
 * @module
 */

import type { CaseResult } from "./boot_case.ts";
import type { CampaignOptions } from "./campaign.ts";
import { CAMPAIGNS } from "./registry.ts";
import { type CampaignReport, REPORT_VERSION } from "./report.ts";
import { runCases } from "./runner.ts";
import { applyShard, SelectError, type Shard } from "./select.ts";

/** What to drive. */
export interface DriveOptions {
  /** Registry name of the campaign. */
  campaign: string;
  /** Its options (recorded in the report; shards of one campaign must agree). */
  options: CampaignOptions;
  /** This run's shard. */
  shard?: Shard;
  /** Worker processes (0: in this process). */
  jobs: number;
  /** Scratch directory (default: a fresh temporary one). */
  dir?: string;
  /** Called after every case. */
  onResult?: (r: CaseResult, done: number, total: number) => void;
}

/** Runs the campaign and returns its report. Throws {@link SelectError} for bad selections. */
export async function driveCampaign(d: DriveOptions): Promise<CampaignReport> {
  const c = CAMPAIGNS[d.campaign];
  if (!c) throw new SelectError(`unknown campaign "${d.campaign}"`);
  const temp = d.dir === undefined;
  const dir = d.dir ?? await Deno.makeTempDir({ prefix: "nexus-campaign-" });
  await Deno.mkdir(dir, { recursive: true });
  const start = performance.now();
  try {
    const all = await c.cases(d.options, dir);
    const cases = applyShard(all, d.shard);
    const out = await runCases({
      campaign: d.campaign,
      options: d.options,
      cases,
      jobs: Math.min(d.jobs, cases.length),
      dir,
      onResult: d.onResult,
    });
    const failures = out.results.filter((r) => !r.ok).length;
    return {
      version: REPORT_VERSION,
      campaign: c.name,
      options: d.options,
      shards: [d.shard ? `${d.shard.index}/${d.shard.count}` : "0/1"],
      runs: out.results.length,
      failures,
      wallMs: Math.round(performance.now() - start),
      cpuMs: Math.round(out.cpuMs),
      jobs: Math.max(1, Math.min(d.jobs, cases.length)),
      results: out.results,
    };
  } finally {
    if (temp) {
      const kept = await hasImages(dir);
      if (!kept) await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

async function hasImages(dir: string): Promise<boolean> {
  try {
    for await (const w of Deno.readDir(dir)) {
      if (!w.isDirectory) continue;
      for await (const f of Deno.readDir(`${dir}/${w.name}`)) {
        if (f.name.endsWith(".img")) return true;
      }
    }
  } catch {
    return false;
  }
  return false;
}
