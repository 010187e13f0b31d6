/**
 * Campaign reports: one JSON document per campaign run (or shard) with every case's outcome,
 * a JUnit rendering (one test case per campaign case, failures with their replay command), and
 * the merge of shard reports into one.
 *
 * @example
 * ```ts
 * import { mergeReports, renderCampaignJunit } from "./report.ts";
 * // const merged = mergeReports([shard0, shard1]);
 * // await Deno.writeTextFile("junit.xml", renderCampaignJunit(merged));
 * ```
 *
 * @module
 */

import { escapeXml } from "../harness/junit.ts";
import type { CaseResult } from "./boot_case.ts";

/** Report format version. */
export const REPORT_VERSION = 1;

/** What a campaign run did. */
export interface CampaignReport {
  /** Format version ({@link REPORT_VERSION}). */
  version: number;
  /** Campaign name: `explore`, `torture power`, `torture corrupt`, `torture frames`. */
  campaign: string;
  /** The options that select and shape the cases (same for every shard of one campaign). */
  options: Record<string, string | number | boolean>;
  /** Shards this report covers, as `i/n` strings (several after a merge). */
  shards: string[];
  /** Cases run. */
  runs: number;
  /** Cases that failed. */
  failures: number;
  /** Wall-clock milliseconds (after a merge: the sum over shards). */
  wallMs: number;
  /** CPU milliseconds of the processes that ran cases. */
  cpuMs: number;
  /** Worker processes used (after a merge: the sum). */
  jobs: number;
  /** Every case, in case order. */
  results: CaseResult[];
}

/** A report that cannot be read or merged. */
export class ReportError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ReportError";
  }
}

/** Runs per wall second. */
export function runsPerSecond(r: CampaignReport): number {
  return r.wallMs > 0 ? r.runs / (r.wallMs / 1000) : 0;
}

/** Runs per CPU second (one core). */
export function runsPerCpuSecond(r: CampaignReport): number {
  return r.cpuMs > 0 ? r.runs / (r.cpuMs / 1000) : 0;
}

/** Checks that `value` looks like a {@link CampaignReport}; throws {@link ReportError}. */
export function validateReport(value: unknown, source: string): CampaignReport {
  const r = value as CampaignReport;
  const ok = typeof r === "object" && r !== null && r.version === REPORT_VERSION &&
    typeof r.campaign === "string" && Array.isArray(r.results) && Array.isArray(r.shards) &&
    typeof r.options === "object" && r.options !== null &&
    r.results.every((c) =>
      typeof c === "object" && c !== null && typeof c.id === "string" &&
      typeof c.ok === "boolean" &&
      Array.isArray(c.problems)
    );
  if (!ok) {
    throw new ReportError(`${source}: not a nexus campaign report (version ${REPORT_VERSION})`);
  }
  return r;
}

function sameOptions(a: CampaignReport, b: CampaignReport): boolean {
  return JSON.stringify(Object.entries(a.options).sort()) ===
    JSON.stringify(Object.entries(b.options).sort());
}

/**
 * Merges shard reports of one campaign: same campaign and options, no case twice. The result
 * holds every case (ordered by the shard order given), summed counts and times.
 */
export function mergeReports(reports: CampaignReport[]): CampaignReport {
  if (reports.length === 0) throw new ReportError("no reports to merge");
  const first = reports[0];
  const seen = new Set<string>();
  const results: CaseResult[] = [];
  const shards: string[] = [];
  for (const r of reports) {
    if (r.campaign !== first.campaign) {
      throw new ReportError(`cannot merge "${r.campaign}" with "${first.campaign}"`);
    }
    if (!sameOptions(r, first)) {
      throw new ReportError(
        `shards of ${first.campaign} ran with different options: ${JSON.stringify(r.options)} vs ${
          JSON.stringify(first.options)
        }`,
      );
    }
    for (const s of r.shards) {
      if (shards.includes(s)) throw new ReportError(`shard ${s} appears twice`);
      shards.push(s);
    }
    for (const c of r.results) {
      if (seen.has(c.id)) throw new ReportError(`case ${c.id} appears in two reports`);
      seen.add(c.id);
      results.push(c);
    }
  }
  const counts = new Set(shards.map((s) => s.split("/")[1]));
  if (counts.size > 1) throw new ReportError(`shards of different splits: ${shards.join(", ")}`);
  return {
    version: REPORT_VERSION,
    campaign: first.campaign,
    options: first.options,
    shards,
    runs: results.length,
    failures: results.filter((c) => !c.ok).length,
    wallMs: reports.reduce((a, r) => a + r.wallMs, 0),
    cpuMs: reports.reduce((a, r) => a + r.cpuMs, 0),
    jobs: reports.reduce((a, r) => a + r.jobs, 0),
    results,
  };
}

/** Shards of an `n`-way split that a merged report lacks. */
export function missingShards(r: CampaignReport): string[] {
  const n = Number(r.shards[0]?.split("/")[1] ?? 1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) if (!r.shards.includes(`${i}/${n}`)) out.push(`${i}/${n}`);
  return out;
}

/** Renders a report as JUnit XML: one suite, one test case per campaign case. */
export function renderCampaignJunit(r: CampaignReport): string {
  const name = `nexus ${r.campaign}`;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${escapeXml(name)}" tests="${r.runs}" failures="${r.failures}" errors="0">`,
    `  <testsuite name="${
      escapeXml(name)
    }" tests="${r.runs}" failures="${r.failures}" errors="0" skipped="0" time="${
      (r.wallMs / 1000).toFixed(3)
    }">`,
    `    <properties>`,
    ...Object.entries(r.options).map(([k, v]) =>
      `      <property name="${escapeXml(k)}" value="${escapeXml(String(v))}"/>`
    ),
    `      <property name="shards" value="${escapeXml(r.shards.join(" "))}"/>`,
    `    </properties>`,
  ];
  for (const c of r.results) {
    const head = `    <testcase classname="${escapeXml(name)}" name="${
      escapeXml(`${c.id} [${c.plan}]`)
    }"`;
    if (c.ok) {
      lines.push(`${head}/>`);
      continue;
    }
    lines.push(
      `${head}>`,
      `      <failure type="invariant" message="${escapeXml(c.problems[0] ?? "failed")}">${
        escapeXml([...c.problems, `replay: ${c.replay}`].join("\n"))
      }</failure>`,
      `    </testcase>`,
    );
  }
  lines.push(`  </testsuite>`, `</testsuites>`, ``);
  return lines.join("\n");
}
