/**
 * Campaign output shared by `nexus explore` and `nexus torture`, and `nexus report merge`:
 * progress on a terminal, the summary and every failure with its replay command, the JSON and
 * JUnit report files, and the merge of shard reports.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { action, arg, docs, type NexusContext, option } from "./command.ts";
import { CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE } from "./errors.ts";
import { io, printErr, printOut, setExitCode, userPath, writeAll } from "./io.ts";
import {
  type CampaignReport,
  mergeReports,
  missingShards,
  renderCampaignJunit,
  ReportError,
  runsPerCpuSecond,
  runsPerSecond,
  validateReport,
} from "../campaigns/report.ts";
import { driveCampaign, type DriveOptions } from "../campaigns/drive.ts";
import { PlanError } from "../campaigns/plan.ts";
import { parseShard, SelectError } from "../campaigns/select.ts";
import { type CaseResult, recipeImage } from "../campaigns/boot_case.ts";

/** Flags every campaign command takes. */
export interface CampaignFlags {
  jobs?: string;
  shard?: string;
  dir?: string;
  json?: string;
  junit?: string;
  recipe?: string;
}

/** Parses a positive integer flag. */
export function positiveInt(text: string, flag: string, max = 1_000_000): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new CliError(`${flag} "${text}" must be an integer 1..${max}`);
  }
  return Number(text);
}

/** The flags every campaign command takes, spread into its own flags. */
export const CAMPAIGN_FLAGS = {
  jobs: option("worker processes (default: the number of cores; 0 runs in this process)", "n"),
  shard: option("run only shard i of n (0-based; every n-th case from the i-th)", "i/n"),
  dir: option("scratch directory for the workers' images and logs (default: a temp dir)", "dir"),
  json: option("write the report as JSON (- for stdout); `report merge` reads these", "file"),
  junit: option("write a JUnit XML report", "file"),
  recipe: option(
    "image recipe for every boot, as image mkfs --recipe takes (default: the default image)",
    "file",
  ),
};

/**
 * Checks the `--recipe` file (it reads and parses) and returns its path as the campaign's
 * workers and replay lines use it. Throws a usage error naming the file otherwise.
 */
async function checkedRecipe(path: string): Promise<string> {
  const resolved = userPath(path);
  await recipeImage(resolved);
  return resolved;
}

function failureLine(r: CaseResult): string {
  const extra = r.detail?.shrunk !== undefined && r.detail.shrunk !== r.plan
    ? ` (shrunk from ${r.plan})`
    : "";
  return [
    `FAIL ${r.id} [${r.detail?.shrunk ?? r.plan}]${extra}: ${r.problems.join("; ")}`,
    `  replay: ${r.replay}`,
    ...(r.detail?.image !== undefined ? [`  image: ${r.detail.image}`] : []),
  ].join("\n");
}

/** The summary lines of a report. */
export function summaryLines(r: CampaignReport): string[] {
  const perCore = runsPerCpuSecond(r);
  return [
    ...r.results.filter((c) => !c.ok).map(failureLine),
    `${
      r.failures === 0 ? "PASS" : "FAIL"
    }: ${r.campaign}: ${r.runs} runs, ${r.failures} failures, ${
      runsPerSecond(r).toFixed(2)
    } runs/s (${r.jobs} job${r.jobs === 1 ? "" : "s"}, ${
      perCore.toFixed(2)
    } runs per CPU-second), shard${r.shards.length === 1 ? "" : "s"} ${r.shards.join(" ")}`,
  ];
}

async function writeOut(path: string, text: string): Promise<void> {
  if (path === "-") {
    writeAll(io().stdout, text);
    return;
  }
  try {
    await Deno.writeTextFile(userPath(path), text);
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/** Checks a report path can be written before a long campaign starts. */
function checkWritable(typed: string | undefined): void {
  if (typed === undefined || typed === "-") return;
  const path = userPath(typed);
  try {
    const st = Deno.statSync(path);
    if (!st.isFile) throw new CliError(`cannot write ${path}: not a regular file`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new CliError(`cannot write ${path}: ${(err as Error).message}`);
    }
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
    try {
      if (!Deno.statSync(parent).isDirectory) throw new Error("not a directory");
    } catch {
      throw new CliError(`cannot write ${path}: ${parent} is not a directory`);
    }
  }
}

/** Writes the report files a run asked for. */
export async function writeReports(r: CampaignReport, flags: CampaignFlags): Promise<void> {
  if (flags.json !== undefined) await writeOut(flags.json, JSON.stringify(r, null, 2) + "\n");
  if (flags.junit !== undefined) await writeOut(flags.junit, renderCampaignJunit(r));
}

/** Runs a campaign for a CLI command: `--recipe` checked, progress, summary, reports, exit code. */
export async function runCampaignCommand(
  campaign: string,
  options: DriveOptions["options"],
  flags: CampaignFlags,
): Promise<number> {
  const jobs = flags.jobs === "0"
    ? 0
    : flags.jobs !== undefined
    ? positiveInt(flags.jobs, "--jobs", 256)
    : navigator.hardwareConcurrency || 1;
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  checkWritable(flags.json);
  checkWritable(flags.junit);
  if (flags.recipe !== undefined) {
    options = { ...options, recipe: await checkedRecipe(flags.recipe) };
  }
  const toStdout = flags.json === "-" || flags.junit === "-";
  const log = (line: string) => (toStdout ? printErr(line) : printOut(line));
  const err = io().stderr;
  const progress = err.isTerminal();
  const enc = new TextEncoder();
  const start = performance.now();
  let failures = 0;
  const report = await driveCampaign({
    campaign,
    options,
    shard,
    jobs,
    dir: flags.dir !== undefined ? userPath(flags.dir) : undefined,
    onResult: (r, done, total) => {
      if (!r.ok) failures++;
      if (progress) {
        const rate = done / ((performance.now() - start) / 1000);
        writeAll(
          err,
          enc.encode(
            `\r\x1b[K${campaign}: ${done}/${total} runs, ${failures} failures, ${
              rate.toFixed(1)
            } runs/s`,
          ),
        );
      }
    },
  });
  if (progress) writeAll(err, enc.encode("\r\x1b[K"));
  for (const l of summaryLines(report)) log(l);
  await writeReports(report, flags);
  return report.failures === 0 ? EXIT_OK : EXIT_FAIL;
}

/** Turns campaign-layer errors a user caused into one-line usage errors. */
export function asCampaignUsageError(err: unknown): unknown {
  if (err instanceof SelectError || err instanceof PlanError || err instanceof ReportError) {
    return new CliError(err.message, EXIT_USAGE);
  }
  return err;
}

/**
 * A campaign command's implementation as a Stricli action: the exit code it returns is the
 * process's, and a selection, plan or report error becomes a usage error (exit 2).
 */
export function campaignAction<F, A extends readonly unknown[]>(
  fn: (flags: F, ...args: A) => Promise<number>,
): ReturnType<typeof action<F, A>> {
  return action(async (flags: F, ...args: A) => {
    try {
      setExitCode(await fn(flags, ...args));
    } catch (err) {
      throw asCampaignUsageError(err);
    }
  });
}

async function readReport(path: string): Promise<CampaignReport> {
  let text: string;
  try {
    text = await Deno.readTextFile(userPath(path));
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new CliError(`cannot read report ${path}: ${why}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`${path}: not JSON`);
  }
  return validateReport(value, path);
}

interface MergeFlags {
  json?: string;
  junit?: string;
}

async function mergeAction(files: string[], flags: MergeFlags): Promise<number> {
  checkWritable(flags.json);
  checkWritable(flags.junit);
  const reports = [];
  for (const f of files) reports.push(await readReport(f));
  const merged = mergeReports(reports);
  const toStdout = flags.json === "-" || flags.junit === "-";
  const log = (line: string) => (toStdout ? printErr(line) : printOut(line));
  for (const l of summaryLines(merged)) log(l);
  const missing = missingShards(merged);
  if (missing.length > 0) log(`note: shards not merged: ${missing.join(", ")}`);
  await writeReports(merged, flags);
  return merged.failures === 0 ? EXIT_OK : EXIT_FAIL;
}

/** The `nexus report` commands. */
export const REPORT_COMMANDS = {
  report: buildRouteMap({
    routes: {
      merge: buildCommand<MergeFlags, string[], NexusContext>({
        docs: docs(
          "merge shard reports (--json files of explore/torture) into one summary",
          "\nExit codes: 0 every case passed; 1 some case failed; 2 unreadable, mismatched or overlapping reports.",
        ),
        parameters: {
          flags: {
            json: option("write the merged report as JSON (- for stdout)", "file"),
            junit: option("write the merged JUnit XML", "file"),
          },
          positional: {
            kind: "array",
            parameter: arg("shard reports written with --json", "files"),
            minimum: 1,
          },
        },
        func: campaignAction((flags: MergeFlags, ...files: string[]) => mergeAction(files, flags)),
      }),
    },
    docs: { brief: "campaign reports" },
  }),
};
