/**
 * `deno task mutants`: measures how many injected bugs the boot ladder and the test suite catch
 * (docs/mutants.md). For each lane it runs StrykerJS, fetched at a pinned version by npx, over the
 * persistence-critical sources in groups.json, then writes build/mutants/summary.txt: the score
 * of each lane, both side by side per file, and every surviving mutant by file and line.
 *
 * @example
 * ```sh
 * deno task mutants                              # both lanes, every group, 1 in 5 functions
 * deno task mutants --lane ladder --group statefs --sample 1
 * deno task mutants --summary-only               # re-render the summary from the last reports
 * ```
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import groupsJson from "./groups.json" with { type: "json" };
import { type LaneSummary, laneSummary, renderSummary, type Report } from "./summary.ts";

/** The StrykerJS release the task runs (its Node requirement is >= 20). */
export const STRYKER_VERSION = "9.6.1";
/** The oldest Node.js major version that StrykerJS release supports. */
const NODE_MAJOR = 20;
/** Reports, wall times and the summary go here. */
export const OUT_DIR = "build/mutants";
const CONFIG = "mutants/stryker.config.mjs";
const LANES = ["ladder", "suite"] as const;
type Lane = typeof LANES[number];

const GROUPS: string[] = Object.keys(groupsJson);

interface Options {
  lane: "ladder" | "suite" | "both";
  group?: string[];
  sample: number;
  concurrency: number;
  summaryOnly?: boolean;
}

/** A wrong invocation: one line, exit 2. */
class UsageError extends Error {}

function positive(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("must be a positive integer");
  }
  return n;
}

function parse(args: string[]): Options {
  const program = new Command("deno task mutants")
    .description("mutation testing of the ladder and the suite with StrykerJS")
    .addOption(
      new Option("--lane <lane>", "which verdict kills a mutant").choices([
        "ladder",
        "suite",
        "both",
      ])
        .default("both"),
    )
    .addOption(
      new Option("--group <name...>", "only these file groups (mutants/groups.json)").choices(
        GROUPS,
      ),
    )
    .option("--sample <n>", "mutate 1 in n functions (1 = every function)", positive, 5)
    .option("--concurrency <n>", "mutants run at once", positive, 1)
    .option("--summary-only", "only re-render build/mutants/summary.txt from the last reports")
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  program.parse(args, { from: "user" });
  return program.opts<Options>();
}

async function nodeMajor(): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
    const m = /^v(\d+)\./.exec(new TextDecoder().decode(out.stdout));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The environment that tells stryker.config.mjs what to run. */
function laneEnv(lane: Lane, groups: string[], opts: Options): Record<string, string> {
  return {
    NEXUS_MUTANTS_LANE: lane,
    NEXUS_MUTANTS_GROUPS: groups.join(","),
    NEXUS_MUTANTS_SAMPLE: String(opts.sample),
    NEXUS_MUTANTS_CONCURRENCY: String(opts.concurrency),
    NEXUS_MUTANTS_DENO: Deno.execPath(),
    NEXUS_MUTANTS_OUT: `${OUT_DIR}/${lane}/${groups.join("+")}`,
  };
}

/** One StrykerJS run; returns its wall time in seconds. */
async function stryker(env: Record<string, string>): Promise<number> {
  console.log(
    `mutants: ${env.NEXUS_MUTANTS_LANE} lane, ${env.NEXUS_MUTANTS_GROUPS}, ` +
      `1 in ${env.NEXUS_MUTANTS_SAMPLE} functions`,
  );
  const start = performance.now();
  const child = new Deno.Command("npx", {
    args: ["--yes", "-p", `@stryker-mutator/core@${STRYKER_VERSION}`, "stryker", "run", CONFIG],
    env,
    stdin: "null",
  }).spawn();
  const status = await child.status;
  if (!status.success) throw new Error(`stryker exited with ${status.code} (see its output above)`);
  return (performance.now() - start) / 1000;
}

/** Every report.json under build/mutants/<lane>/. */
async function lanesFromDisk(): Promise<LaneSummary[]> {
  const lanes: LaneSummary[] = [];
  for (const lane of LANES) {
    const reports: Report[] = [];
    try {
      for await (const e of Deno.readDir(`${OUT_DIR}/${lane}`)) {
        const path = `${OUT_DIR}/${lane}/${e.name}/report.json`;
        try {
          reports.push(JSON.parse(await Deno.readTextFile(path)) as Report);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (reports.length) lanes.push(laneSummary(lane, reports));
  }
  return lanes;
}

async function readWall(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await Deno.readTextFile(`${OUT_DIR}/wall.json`));
  } catch {
    return {};
  }
}

/** Runs the selected lanes and writes the summary; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parse(args);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  try {
    if (!opts.summaryOnly) {
      const major = await nodeMajor();
      if (major === undefined || major < NODE_MAJOR) {
        throw new UsageError(
          `StrykerJS ${STRYKER_VERSION} needs Node.js ${NODE_MAJOR} or newer on the PATH` +
            (major === undefined ? " (node not found)" : ` (found ${major})`),
        );
      }
      const groups = opts.group ?? GROUPS;
      const lanes: Lane[] = opts.lane === "both" ? [...LANES] : [opts.lane];
      for (const lane of lanes) {
        // The ladder judges every group with one command; the suite runs each group's own tests.
        const runs = lane === "ladder" ? [groups] : groups.map((g) => [g]);
        let seconds = 0;
        await Deno.remove(`${OUT_DIR}/${lane}`, { recursive: true }).catch(() => {});
        for (const run of runs) seconds += await stryker(laneEnv(lane, run, opts));
        // Re-read: a run of the other lane may have finished meanwhile.
        const wall = { ...await readWall(), [lane]: seconds };
        await Deno.mkdir(OUT_DIR, { recursive: true });
        await Deno.writeTextFile(`${OUT_DIR}/wall.json`, JSON.stringify(wall, null, 2) + "\n");
      }
    }
    const lanes = await lanesFromDisk();
    if (!lanes.length) throw new UsageError(`no reports under ${OUT_DIR}/ (run the task first)`);
    const text = renderSummary(lanes, await readWall());
    await Deno.writeTextFile(`${OUT_DIR}/summary.txt`, text);
    console.log(text + `\nsummary: ${OUT_DIR}/summary.txt; reports: ${OUT_DIR}/<lane>/*/`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`mutants: ${err.message}`);
      return 2;
    }
    if (err instanceof Error) {
      console.error(`mutants: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
