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

import {
  buildApplication,
  buildCommand,
  type CommandContext,
  run,
  type StricliProcess,
  text_en,
} from "@stricli/core";
import { writeAll } from "../cli/io.ts";
import { usageError } from "../cli/usage.ts";
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
    throw new Error("must be a positive integer");
  }
  return n;
}

/** What the command runs with: the streams, and the exit code (or error) it ended with. */
interface MutantsContext extends CommandContext {
  readonly process: StricliProcess;
  result?: { code: number } | { error: unknown };
}

const NAME = "deno task mutants";

const COMMAND = buildCommand<Options, [], MutantsContext>({
  docs: { brief: "mutation testing of the ladder and the suite with StrykerJS" },
  parameters: {
    flags: {
      lane: {
        kind: "enum",
        brief: "which verdict kills a mutant",
        values: ["ladder", "suite", "both"],
        default: "both",
      },
      group: {
        kind: "enum",
        brief: "only these file groups (mutants/groups.json; comma-separated or repeated)",
        values: GROUPS,
        variadic: ",",
        optional: true,
      },
      sample: {
        kind: "parsed",
        brief: "mutate 1 in n functions (1 = every function)",
        placeholder: "n",
        parse: positive,
        default: "5",
      },
      concurrency: {
        kind: "parsed",
        brief: "mutants run at once",
        placeholder: "n",
        parse: positive,
        default: "1",
      },
      summaryOnly: {
        kind: "boolean",
        brief: "only re-render build/mutants/summary.txt from the last reports",
        optional: true,
        withNegated: false,
      },
    },
  },
  async func(this: MutantsContext, opts: Options): Promise<void> {
    try {
      this.result = { code: await runLanes(opts) };
    } catch (error) {
      this.result = { error };
    }
  },
});

const APP = buildApplication(COMMAND, {
  name: NAME,
  scanner: { caseStyle: "allow-kebab-for-camel" },
  documentation: { caseStyle: "convert-camel-to-kebab", disableAnsiColor: true },
  localization: {
    text: {
      ...text_en,
      exceptionWhileParsingArguments: (exc) => `mutants: ${usageError(exc)} (see: ${NAME} --help)`,
    },
  },
});

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
    // Spawned nexus processes run the instrumented sources as they are, with no bundle of them
    // built in each sandbox first.
    NEXUS_NO_BUNDLE: "1",
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

/** Parses `args`, runs the selected lanes and writes the summary; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const context: MutantsContext = {
    process: {
      stdout: { write: (text) => writeAll(Deno.stdout, text) },
      stderr: { write: (text) => writeAll(Deno.stderr, text) },
      env: {},
    },
  };
  await run(APP, args, context);
  if (context.result !== undefined && "error" in context.result) throw context.result.error;
  // Stricli's own codes other than 0 are all refused input (unknown flag, a bad value).
  if (context.process.exitCode !== 0) return 2;
  return context.result?.code ?? 0;
}

/** Runs the selected lanes and writes the summary; returns the exit code. */
async function runLanes(opts: Options): Promise<number> {
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
