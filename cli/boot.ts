/**
 * `nexus boot`: boot the simulated system against an image and judge the marker ladder.
 *
 * @module
 */

import type { Command } from "commander";
import { CliError, EXIT_USAGE } from "./errors.ts";
import { asCliError } from "./scan.ts";
import {
  checkWritable,
  defaultLadderPath,
  type LineSource,
  loadLadder,
  planImage,
  reportPaths,
  resolveRunOptions,
  type RunFlags,
  runSession,
  selectRequirement,
  type TaskSummary,
  Terminal,
  TraceFile,
} from "../harness/mod.ts";
import type { TaskInfo } from "../core/kernel/types.ts";
import { BootError, type BootOutcome, bootSystem } from "../init/boot.ts";
import { CUT_MODES, type CutMode } from "../core/virtio/fault.ts";
import {
  DEFAULT_MANIFEST_PATH,
  loadManifest,
  ManifestError,
  requireLoadable,
} from "../init/manifest.ts";
import { ImageError, mkfsImage, RecipeError } from "../images/mod.ts";
import { validateManifest } from "../init/validate.ts";
import { formatDiagnostic } from "../init/diagnostic.ts";
import { SERVICES } from "../services/mod.ts";

/** Options commander hands the boot action: the run flags the harness merges, and boot's own. */
interface BootFlags extends RunFlags {
  image?: string;
  seed?: string;
  ladder?: string;
  logDir?: string;
  json?: boolean;
  junit?: string;
  trace?: string;
  time?: boolean;
  system?: string;
  powerCut?: string;
}

/** Where the console log and summary go without --log-dir. */
export const DEFAULT_LOG_DIR = "build/logs";

const HELP_AFTER = `
Image:
  Without --image the boot uses build/blk.img, made fresh with the default recipe for every
  boot; --keep-image keeps an existing one (a missing one is still created), the cold-boot lane.
  An image named with --image is never deleted or recreated, only created when missing.

Power cut: the disk has a volatile write cache and every boot ends with a power cut, so the image
keeps only what a completed FLUSH covered; of the rest --power-cut decides (atomic: everything
written survives; reorder: any subset; torn: any subset, multi-sector writes torn). summary.json
records the seed and the cut under "boot"; a cold boot after a nexus boot of the same image runs
under the next seed unless --seed says otherwise.

Reports: every console line goes to <log-dir>/uart.log and the verdict to
<log-dir>/summary.json (default ${DEFAULT_LOG_DIR}); --junit FILE adds JUnit XML.

Environment (the original harness's knobs; a flag wins over a conflicting variable, with a notice):
  RUN_PHASE                   --phase
  RUN_UNTIL_MARKER            --until-marker (1 = the phase's end, a string = that marker)
  RUN_TIMEOUT                 --timeout (90s, 2m, 500ms; default 90s)
  INIT_LITE_WATCHDOG_TICKS    --watchdog-ticks
  NEXUS_KEEP_BLK              --keep-image (1 or 0)
  REQUIRE_STATEFS_COLD_BOOT   --require-cold-boot (1 or 0)
  NO_COLOR                    plain output

Exit codes: 0 pass; 1 verification failure (missing markers, failure signature, init-marker
order, timeout); 2 usage or configuration error (unknown phase, marker not in the ladder,
unreadable image or ladder).`;

function parseSeed(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new CliError(`--seed "${text}" must be a non-negative integer`);
  }
  return Number(text);
}

function parsePowerCut(text: string): CutMode {
  if (!(CUT_MODES as readonly string[]).includes(text)) {
    throw new CliError(`--power-cut "${text}" must be one of ${CUT_MODES.join(", ")}`);
  }
  return text as CutMode;
}

/** What summary.json records about the boot itself (the `boot` field). */
interface BootRecord {
  image: string;
  seed: number;
  powerCut: { mode: CutMode; writes: number; flushes: number; cached: number; persisted: number };
  previous?: { seed: number; powerCut: CutMode };
}

/** The boot record a previous run left in `summaryPath` for the same image, if any. */
function previousBoot(summaryPath: string, image: string): BootRecord | undefined {
  try {
    const boot = JSON.parse(Deno.readTextFileSync(summaryPath))?.boot;
    if (boot?.image === image && Number.isSafeInteger(boot.seed)) return boot as BootRecord;
  } catch {
    // No summary, or not one of ours: the image comes from elsewhere.
  }
  return undefined;
}

/** Adds the boot record to the summary runSession wrote. */
function recordBoot(summaryPath: string, record: BootRecord): void {
  try {
    const summary = JSON.parse(Deno.readTextFileSync(summaryPath));
    summary.boot = record;
    Deno.writeTextFileSync(summaryPath, JSON.stringify(summary, null, 2) + "\n");
  } catch (err) {
    throw new CliError(`cannot record the boot in ${summaryPath}: ${(err as Error).message}`);
  }
}

function summarize(tasks: TaskInfo[]): TaskSummary[] {
  return tasks.map((t) => ({
    pid: t.pid,
    name: t.name,
    state: t.state,
    ...(t.blockedOn ? { blockedOn: { ...t.blockedOn } } : {}),
    since: t.since,
  }));
}

async function bootAction(flags: BootFlags): Promise<number> {
  const opts = resolveRunOptions(flags, (name) => Deno.env.get(name));
  const powerCut = parsePowerCut(flags.powerCut ?? "reorder");
  const ladder = flags.ladder !== undefined
    ? await loadLadder(flags.ladder)
    : await loadLadder(defaultLadderPath(), "images/ladder.toml");
  const requirement = selectRequirement(ladder, {
    phase: opts.phase,
    untilMarker: opts.untilMarker,
    requireColdBoot: opts.requireColdBoot,
  });
  // The manifest is validated before the image is touched (bootSystem reads it again): a wiring
  // or grant problem is reported as the validator reports it, not as markers that never came.
  const loaded = await loadManifest(flags.system ?? DEFAULT_MANIFEST_PATH);
  requireLoadable(loaded);
  const report = validateManifest(loaded, SERVICES);
  if (!report.valid) {
    const lines = report.problems.filter((p) => p.severity === "error").map(formatDiagnostic);
    throw new CliError(
      `${loaded.manifest.file} is not a bootable system (${report.errors} error${
        report.errors === 1 ? "" : "s"
      }; nexus slots validate lists every problem):\n${lines.join("\n")}`,
      EXIT_USAGE,
    );
  }
  const plan = planImage({ image: flags.image, keepImage: opts.keepImage });
  const logDir = flags.logDir ?? DEFAULT_LOG_DIR;
  const summaryPath = reportPaths(logDir).summary;
  // A cold boot after a nexus boot of the same image runs under the next seed, so whatever a
  // service regenerates instead of reloading (a device key from rngd) comes out different.
  const previous = plan.action === "keep" ? previousBoot(summaryPath, plan.path) : undefined;
  const seed = flags.seed !== undefined
    ? parseSeed(flags.seed)
    : previous !== undefined
    ? (previous.seed + 1) % 0x1_0000_0000
    : 1;
  // Every output is checked before the image is touched, so a bad path costs nothing.
  checkWritable(reportPaths(logDir).summary);
  if (flags.junit !== undefined) checkWritable(flags.junit);
  if (flags.trace !== undefined) checkWritable(flags.trace);
  if (plan.action !== "keep") {
    // Only the managed default image is ever replaced; a named one is created when missing.
    await mkfsImage(plan.path, { force: plan.action === "recreate" && !plan.explicit });
  }
  const terminal = new Terminal({
    out: Deno.stdout,
    err: Deno.stderr,
    noColor: Deno.env.get("NO_COLOR"),
    timePrefix: flags.time === true,
    stream: flags.json !== true,
  });
  for (const n of opts.notices) terminal.notice(n);
  if (previous !== undefined && previous.seed === seed) {
    terminal.notice(
      `the cold boot runs under seed ${seed}, the same as the boot before it: a key regenerated instead of reloaded would look the same`,
    );
  }
  let disk: BootOutcome["disk"];
  const trace = flags.trace !== undefined ? TraceFile.create(flags.trace) : undefined;
  const source: LineSource = async (sink) => {
    const out = await bootSystem({
      imagePath: plan.path,
      seed,
      watchdogTicks: opts.watchdogTicks,
      ...(flags.system !== undefined ? { manifestPath: flags.system } : {}),
      onLine: (line, timeNs) => sink.onLine(line, timeNs),
      shouldStop: () => sink.shouldStop(),
      tracer: trace?.tracer,
      // Every boot may precede a cold boot: its disk has a volatile write cache and loses
      // power at the end, so the image keeps only what a completed FLUSH covered.
      powerCut: { mode: powerCut, seed: seed % 0x1_0000_0000 },
    });
    disk = out.disk;
    return { reason: out.reason, virtualNs: out.virtualNs, tasks: summarize(out.tasks) };
  };
  try {
    const verdict = await runSession({
      requirement,
      source,
      timeoutMs: opts.timeoutMs,
      terminal,
      json: flags.json === true,
      junitPath: flags.junit,
      logDir,
    });
    if (disk?.cut !== undefined) {
      recordBoot(summaryPath, {
        image: plan.path,
        seed,
        powerCut: {
          mode: powerCut,
          writes: disk.writes,
          flushes: disk.flushes,
          cached: disk.cut.cached,
          persisted: disk.cut.persisted,
        },
        ...(previous !== undefined
          ? { previous: { seed: previous.seed, powerCut: previous.powerCut.mode } }
          : {}),
      });
    }
    return verdict.exitCode;
  } finally {
    trace?.close();
  }
}

/** Configuration errors of the layers below become one-line usage errors (exit 2). */
function asUsageError(err: unknown): unknown {
  if (
    err instanceof BootError || err instanceof ManifestError || err instanceof ImageError ||
    err instanceof RecipeError
  ) {
    return new CliError(err.message, EXIT_USAGE);
  }
  return asCliError(err);
}

/** Registers the `boot` command on the root program. */
export function registerBoot(program: Command): Command {
  return program.command("boot")
    .description("boot the simulated system against an image and judge the marker ladder")
    .option("--image <path>", "disk image (default: build/blk.img, made fresh for every boot)")
    .option("--phase <name>", "judge the ladder from the start through this phase")
    .option(
      "--until-marker [marker]",
      "stop once every marker of the phase was seen, or at the first line containing MARKER (then the ladder counts up to MARKER)",
    )
    .option("--timeout <duration>", "wall-clock limit (default 90s)")
    .option("--watchdog-ticks <n>", "init watchdog: responder iterations before it fires")
    .option("--keep-image", "keep an existing default image (cold boot)")
    .option("--require-cold-boot", "demand the cold-boot persistence marker")
    .option(
      "--seed <n>",
      "boot seed (default 1; a cold boot after a nexus boot of the same image: that seed + 1)",
    )
    .option(
      "--power-cut <mode>",
      "what survives the power cut at the end of the boot: atomic, reorder or torn (default reorder)",
    )
    .option("--ladder <file>", "ladder TOML (default: images/ladder.toml)")
    .option("--system <file>", "system manifest (default: images/system.toml)")
    .option("--log-dir <dir>", `where uart.log and summary.json go (default ${DEFAULT_LOG_DIR})`)
    .option("--json", "print the verdict as one JSON object (console lines only in uart.log)")
    .option("--junit <file>", "write a JUnit XML report")
    .option("--trace <file>", "write every syscall as JSON lines")
    .option("--time", "prefix streamed console lines with their virtual time")
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: BootFlags) => {
      try {
        Deno.exitCode = await bootAction(flags);
      } catch (err) {
        throw asUsageError(err);
      }
    });
}
