/**
 * `nexus boot`: boot the simulated system against an image and judge the marker ladder.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import {
  action,
  choice,
  docs,
  type NexusContext,
  option,
  toggle,
  UNTIL_MARKER,
  untilMarkerValue,
} from "./command.ts";
import { CliError, describeSystemError, EXIT_USAGE } from "./errors.ts";
import { io, printErr, setExitCode, userPath } from "./io.ts";
import { asCliError } from "./scan.ts";
import { VERSION } from "./version.ts";
import {
  checkWritable,
  DEFAULT_IMAGE_PATH,
  DEFAULT_PHASES,
  defaultLadderPath,
  type LayoutPartition,
  leaseImage,
  type LineSource,
  loadNamedLadder,
  parsePositiveInt,
  planImage,
  replaceWithError,
  reportPaths,
  resolveRunOptions,
  type RunFlags,
  type RunInfo,
  runSession,
  selectRequirement,
  type TaskSummary,
  Terminal,
  TraceFile,
  writeTextFileOrReport,
} from "../harness/mod.ts";
import type { TaskInfo, Tracer } from "../core/kernel/types.ts";
import { ChromeTrace } from "../timeline/chrome_trace.ts";
import { DEFAULT_SEQUENCE_LIMIT, SequenceDiagram } from "../timeline/sequence.ts";
import { BootError, type BootOutcome, bootSystem } from "../init/boot.ts";
import {
  type FaultPlan,
  FaultPlanError,
  formatFaultPlan,
  isEmptyPlan,
  parseFaultPlan,
} from "../core/simulation/mod.ts";
import {
  DEFAULT_MANIFEST_PATH,
  loadManifest,
  ManifestError,
  type ManifestLoad,
  requireLoadable,
  type SystemManifest,
} from "../init/manifest.ts";
import { diagnosticWhere } from "../init/diagnostic.ts";
import { slotName } from "../init/views.ts";
import { buildSnapshot, type Snapshot, SNAPSHOT_FILE } from "../snapshot/snapshot.ts";
import { CUT_MODES, type CutMode } from "../core/virtio/fault.ts";
import { validateManifest } from "../init/validate.ts";
import { SERVICES } from "../services/mod.ts";
import { ImageError, mkfsImage, probeImage, RecipeError } from "../images/mod.ts";

/** The boot's flags: the run flags the harness merges, and boot's own. */
interface BootFlags extends RunFlags {
  image?: string;
  seed?: string;
  ladder?: string;
  logDir?: string;
  json?: boolean;
  junit?: string;
  trace?: string;
  traceFormat?: TraceFormat;
  sequence?: string;
  sequenceFilter?: string;
  sequenceLimit?: string;
  faults?: string;
  time?: boolean;
  system?: string;
  quiet?: boolean;
  powerCut?: string;
}

/** Where the console log and summary go without --log-dir. */
export const DEFAULT_LOG_DIR = "build/logs";

const HELP_AFTER = `
Image:
  Without --image the boot uses build/blk.img, made fresh with the default recipe for every
  boot; --keep-image keeps an existing one (a missing one is still created), the cold-boot lane.
  An image named with --image is never deleted or recreated, only created when missing.
  Boots run side by side: a fresh boot builds and boots a private image, moved to
  build/blk.img when it ends; --keep-image boots take turns on build/blk.img (a lock).

Power cut: the disk has a volatile write cache and every boot ends with a power cut, so the image
keeps only what a completed FLUSH covered; of the rest --power-cut decides (atomic: everything
written survives; reorder: any subset; torn: any subset, multi-sector writes torn). summary.json
records the seed and the cut under "run" ("seed", "powerCut"); a cold boot after a nexus boot of the same image runs
under the next seed unless --seed says otherwise.

Reports: every console line goes to <log-dir>/uart.log and the verdict to
<log-dir>/summary.json (default ${DEFAULT_LOG_DIR}); --junit FILE adds JUnit XML.

Environment (the original harness's knobs; a flag wins over a conflicting variable, with a notice):
  RUN_PHASE                   --phase
  RUN_UNTIL_MARKER            --until-marker (1 = the phase's end, a string = that marker)
  RUN_TIMEOUT                 --timeout (90s, 2m, 500ms, 1h; a bare number is seconds;
                              default 90s, at most 596h)
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

function parseFaults(text: string): FaultPlan {
  try {
    return parseFaultPlan(text);
  } catch (err) {
    if (err instanceof FaultPlanError) throw new CliError(`--faults: ${err.message}`);
    throw err;
  }
}

/** The host's view of the task table, slots named from the manifest as init names them. */
function summarize(tasks: TaskInfo[], manifest: SystemManifest): TaskSummary[] {
  return tasks.map((t) => {
    const b = t.blockedOn;
    return {
      pid: t.pid,
      name: t.name,
      state: t.state,
      ...(b
        ? {
          blockedOn: {
            ...b,
            ...(b.slot !== undefined ? { slotName: slotName(manifest, t.name, b.slot) } : {}),
          },
        }
        : {}),
      since: t.since,
    };
  });
}

/**
 * Refuses a manifest that cannot boot before anything is touched: no services, or any problem
 * `nexus slots validate` calls an error (an unknown module, a missing slot, a route or grant the
 * policy does not give). The boot would otherwise stop part way, or pass while the wiring
 * contradicts the policy; each error is one line with its fix.
 */
function requireBootable(loaded: ManifestLoad): SystemManifest {
  const m = requireLoadable(loaded);
  if (m.services.length === 0) {
    throw new CliError(`${m.file}: declares no services, so there is nothing to boot`);
  }
  const report = validateManifest(loaded, SERVICES);
  const errors = report.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new CliError(
      errors.map((e) => `${diagnosticWhere(e)}: ${e.message}; ${e.hint}`).join("\n"),
    );
  }
  return m;
}

function parsePowerCut(text: string): CutMode {
  if (!(CUT_MODES as readonly string[]).includes(text)) {
    throw new CliError(`--power-cut "${text}" must be one of ${CUT_MODES.join(", ")}`);
  }
  return text as CutMode;
}

/** The power cut that ended a boot, as summary.json records it (`run.powerCut`). */
interface PowerCutRecord {
  mode: CutMode;
  seed: number;
  writes: number;
  flushes: number;
  cachedAtCut: number;
  persisted: number;
  /** The boot before this one on the same image, when nexus made it. */
  previous?: { seed: number; powerCut: CutMode };
}

/** Seed and power-cut mode of the previous nexus boot of `image`, from its summary.json. */
function previousBoot(summaryPath: string, image: string): { seed: number; mode: CutMode } | null {
  try {
    const run = JSON.parse(Deno.readTextFileSync(summaryPath))?.run;
    const mode = run?.powerCut?.mode;
    if (run?.image?.path === image && Number.isSafeInteger(run.seed) && typeof mode === "string") {
      return { seed: run.seed, mode: mode as CutMode };
    }
  } catch {
    // No summary, or not one of ours: the image comes from elsewhere.
  }
  return null;
}

/** The partition layout of the image about to boot, or null when it cannot be read. */
async function imageLayout(path: string): Promise<RunInfo["image"]> {
  try {
    const info = await probeImage(path);
    const partitions: LayoutPartition[] | null = info.table
      ? info.table.partitions.map((p) => ({
        name: p.name,
        firstLba: p.firstLba,
        lastLba: p.lastLba,
      }))
      : null;
    return { path, sizeBytes: info.sizeBytes, partitions };
  } catch {
    // The boot reports an unusable image itself, with its own words.
    return { path, sizeBytes: 0, partitions: null };
  }
}

/** Trace formats: Chrome trace-event JSON (Perfetto), or the kernel's events as JSON lines. */
const TRACE_FORMATS = ["chrome", "jsonl"] as const;
type TraceFormat = typeof TRACE_FORMATS[number];

/** A trace being collected: the tracer for the kernel, and how to finish the file. */
interface OpenTrace {
  tracer: Tracer;
  close(): void;
}

function openTrace(path: string, format: string | undefined): OpenTrace {
  const chosen = format ?? (path.endsWith(".jsonl") ? "jsonl" : "chrome");
  if (chosen === "jsonl") return TraceFile.create(path);
  const chrome = new ChromeTrace();
  return {
    tracer: chrome.tracer,
    close: () => writeTextFileOrReport(path, chrome.render()),
  };
}

/** Quotes `arg` for a POSIX shell when it holds anything but plain word characters. */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line that replays a boot: as typed, with the seed it ran under made explicit
 * (a cold boot's seed is derived from the boot before it, which a replay cannot count on).
 * A boot of a kept image replays only on that image as it was before the run, which the line
 * says.
 */
export function replayCommand(
  command: readonly string[],
  seed: number,
  keptImage: boolean,
): string {
  const args: string[] = [];
  for (let i = 0; i < command.length; i++) {
    if (command[i] === "--seed") i++; // and its value
    else if (!command[i].startsWith("--seed=")) args.push(command[i]);
  }
  const line = [...args, "--seed", String(seed)].map(shellWord).join(" ");
  return keptImage ? `${line}   # on the image as it was before this run` : line;
}

async function bootAction(flags: BootFlags, info: RunInfo): Promise<number> {
  const opts = resolveRunOptions(flags, (name) => io().env(name));
  const powerCut = parsePowerCut(flags.powerCut ?? "reorder");
  const faults = parseFaults(flags.faults ?? "none");
  info.faultPlan = isEmptyPlan(faults) ? null : formatFaultPlan(faults);
  const ladder = await loadNamedLadder(flags.ladder ?? "default", userPath);
  const requirement = selectRequirement(ladder, {
    phase: opts.phase,
    untilMarker: opts.untilMarker,
    requireColdBoot: opts.requireColdBoot,
  });
  // The manifest is read and checked once, before the image is touched; the boot uses it as is.
  const manifestPath = flags.system !== undefined ? userPath(flags.system) : undefined;
  const manifest = requireBootable(await loadManifest(manifestPath ?? DEFAULT_MANIFEST_PATH));
  const plan = planImage({
    image: flags.image !== undefined ? userPath(flags.image) : undefined,
    keepImage: opts.keepImage,
    defaultPath: userPath(DEFAULT_IMAGE_PATH),
  });
  const logDir = userPath(flags.logDir ?? DEFAULT_LOG_DIR);
  // A cold boot after a nexus boot of the same image runs under the next seed, so whatever a
  // service regenerates instead of reloading (a device key from rngd) comes out different.
  const previous = plan.action === "keep"
    ? previousBoot(reportPaths(logDir).summary, plan.path)
    : null;
  const seed = flags.seed !== undefined
    ? parseSeed(flags.seed)
    : previous !== null
    ? (previous.seed + 1) % 0x1_0000_0000
    : 1;
  info.seed = seed;
  info.replay = replayCommand(info.command, seed, plan.action === "keep");
  const junit = flags.junit !== undefined ? userPath(flags.junit) : undefined;
  const tracePath = flags.trace !== undefined ? userPath(flags.trace) : undefined;
  // Every output is checked before the image is touched, so a bad path costs nothing.
  checkWritable(reportPaths(logDir).summary);
  if (junit !== undefined) checkWritable(junit);
  if (tracePath !== undefined) checkWritable(tracePath);
  const sequencePath = flags.sequence !== undefined ? userPath(flags.sequence) : undefined;
  const sequenceLimit = flags.sequenceLimit !== undefined
    ? parsePositiveInt(flags.sequenceLimit, "--sequence-limit")
    : undefined;
  const sequenceOnly = flags.sequenceFilter?.split(",").map((s) => s.trim()).filter((s) => s);
  for (const name of sequenceOnly ?? []) {
    if (name !== "init" && !manifest.services.some((svc) => svc.name === name)) {
      throw new CliError(`--sequence-filter: no service "${name}" in ${manifest.file}`);
    }
  }
  if (sequencePath !== undefined) checkWritable(sequencePath);
  // Only the managed default image is ever replaced; a named one is created when missing. Plain
  // boots run side by side: a fresh one boots a private image, released when this scope ends.
  using lease = await leaseImage(
    plan,
    async (path, force) => void await mkfsImage(path, { force }),
    (text) => printErr(`nexus: ${text}`),
  );
  const layout = await imageLayout(lease.path);
  info.image = layout && { ...layout, path: plan.path };
  const terminal = new Terminal({
    out: io().stdout,
    err: io().stderr,
    noColor: io().env("NO_COLOR"),
    timePrefix: flags.time === true,
    stream: flags.json !== true && flags.quiet !== true,
  });
  for (const n of opts.notices) terminal.notice(n);
  if (previous !== null && previous.seed === seed) {
    terminal.notice(
      `the cold boot runs under seed ${seed}, the same as the boot before it: a key regenerated instead of reloaded would look the same`,
    );
  }
  const trace = tracePath !== undefined ? openTrace(tracePath, flags.traceFormat) : undefined;
  const sequence = sequencePath !== undefined ? new SequenceDiagram() : undefined;
  const snapshotPath = `${logDir.replace(/\/+$/, "")}/${SNAPSHOT_FILE}`;
  // snapshot.json's counts come from the kernel itself: no tracer unless a file asks for one.
  const tracers = [trace?.tracer, sequence?.tracer].filter((t): t is Tracer => t !== undefined);
  const tracer: Tracer | undefined = tracers.length === 0
    ? undefined
    : tracers.length === 1
    ? tracers[0]
    : (e) => tracers.forEach((t) => t(e));
  // When init's watchdog fires, the snapshot is the system at that tick, as init's table shows it.
  let atWatchdog: Snapshot | undefined;
  const source: LineSource = async (sink) => {
    const out = await bootSystem({
      imagePath: lease.path,
      seed,
      faults,
      watchdogTicks: opts.watchdogTicks,
      manifest,
      onLine: (line, timeNs) => sink.onLine(line, timeNs),
      shouldStop: () => sink.shouldStop(),
      tracer,
      // Every boot may precede a cold boot: its disk has a volatile write cache and loses
      // power at the end, so the image keeps only what a completed FLUSH covered.
      powerCutAtEnd: powerCut,
      onWatchdog: (at) => {
        atWatchdog = buildSnapshot({ ...at, manifest, takenAt: "watchdog" });
      },
    });
    info.powerCut = powerCutRecord(powerCut, seed, out.disk, previous);
    const snapshot = atWatchdog ?? buildSnapshot({
      tasks: out.tasks,
      caps: out.caps,
      counts: out.counts,
      manifest,
      virtualNs: out.virtualNs,
      takenAt: "end",
    });
    writeTextFileOrReport(snapshotPath, JSON.stringify(snapshot, null, 2) + "\n");
    return { reason: out.reason, virtualNs: out.virtualNs, tasks: summarize(out.tasks, manifest) };
  };
  try {
    const verdict = await runSession({
      requirement,
      source,
      timeoutMs: opts.timeoutMs,
      terminal,
      json: flags.json === true,
      junitPath: junit,
      logDir,
      nexusVersion: VERSION,
      run: info,
    });
    return verdict.exitCode;
  } finally {
    trace?.close();
    if (sequence !== undefined && sequencePath !== undefined) {
      writeTextFileOrReport(
        sequencePath,
        sequence.render({
          ...(sequenceLimit !== undefined ? { limit: sequenceLimit } : {}),
          ...(sequenceOnly !== undefined ? { only: sequenceOnly } : {}),
        }),
      );
    }
  }
}

function powerCutRecord(
  mode: CutMode,
  seed: number,
  disk: BootOutcome["disk"],
  previous: { seed: number; mode: CutMode } | null,
): PowerCutRecord {
  return {
    mode,
    seed: seed % 0x1_0000_0000,
    writes: disk?.writes ?? 0,
    flushes: disk?.flushes ?? 0,
    cachedAtCut: disk?.cut?.cached ?? 0,
    persisted: disk?.cut?.persisted ?? 0,
    ...(previous !== null ? { previous: { seed: previous.seed, powerCut: previous.mode } } : {}),
  };
}

/** Configuration errors of the layers below become one-line usage errors (exit 2). */
function asUsageError(err: unknown): unknown {
  if (
    err instanceof BootError || err instanceof ManifestError || err instanceof ImageError ||
    err instanceof RecipeError
  ) {
    return new CliError(err.message, EXIT_USAGE);
  }
  const cli = asCliError(err);
  if (cli instanceof CliError) return cli;
  // A path the system refuses (too long, under a file, a symlink loop): one line, exit 2.
  const sys = describeSystemError(err);
  return sys !== null ? new CliError(sys, EXIT_USAGE) : err;
}

/** The boot's flags as typed: `--until-marker` alone gives "" (the phase's end). */
type BootInput = Omit<BootFlags, "untilMarker"> & { untilMarker?: string };

/** The `boot` command. */
export const BOOT_COMMANDS = {
  boot: buildCommand<BootInput, [], NexusContext>({
    docs: docs(
      "boot the simulated system against an image and judge the marker ladder",
      HELP_AFTER,
    ),
    parameters: {
      flags: {
        image: option(
          "disk image (default: build/blk.img, made fresh for every boot)",
          "path",
        ),
        phase: option(
          `judge the ladder from the start through this phase: ${
            DEFAULT_PHASES.join(", ")
          } (default: the last)`,
          "name",
        ),
        untilMarker: UNTIL_MARKER,
        timeout: option(
          "wall-clock limit: 90s, 2m, 500ms, 1h; a bare number is seconds (default 90s, at most 596h)",
          "duration",
        ),
        watchdogTicks: option("init watchdog: responder iterations before it fires", "n"),
        keepImage: toggle("keep an existing default image (cold boot)"),
        requireColdBoot: toggle("demand the cold-boot persistence marker"),
        seed: option(
          "run seed: scheduling, latencies and fault choices (default 1; 0: canonical schedule; a cold boot after a nexus boot of the same image: that seed + 1)",
          "n",
        ),
        faults: option(
          "faults, e.g. ioerr@w12,power@w156:reorder (ioerr@rN|wN|fN, power@wN[:atomic|reorder|torn], crash@SERVICE:N; default none)",
          "plan",
        ),
        powerCut: option(
          "what survives the power cut at the end of the boot: atomic, reorder or torn (default reorder)",
          "mode",
        ),
        ladder: option(
          "a shipped ladder by name or a ladder TOML path (default: images/ladder.toml)",
          "name|file",
        ),
        system: option("system manifest (default: images/system.toml)", "file"),
        logDir: option(`where uart.log and summary.json go (default ${DEFAULT_LOG_DIR})`, "dir"),
        json: toggle("print the verdict as one JSON object (console lines only in uart.log)"),
        junit: option("write a JUnit XML report", "file"),
        trace: option(
          "write a timeline of the boot: Chrome trace-event JSON for ui.perfetto.dev (JSON lines for a .jsonl file)",
          "file",
        ),
        traceFormat: choice("trace format (default: by the file's extension)", TRACE_FORMATS),
        sequence: option(
          "write the IPC between services as a Mermaid sequence diagram (.mmd)",
          "file",
        ),
        sequenceFilter: option(
          "only messages between these services (comma-separated, e.g. selftest-client,statefsd)",
          "services",
        ),
        sequenceLimit: option(
          `most messages drawn in the sequence diagram (default ${DEFAULT_SEQUENCE_LIMIT})`,
          "n",
        ),
        time: toggle("prefix streamed console lines with their virtual time"),
        quiet: toggle("do not stream console lines (they still go to uart.log)"),
      },
    },
    func: action(async (input: BootInput) => {
      const flags: BootFlags = {
        ...input,
        untilMarker: untilMarkerValue(input.untilMarker),
      };
      const info: RunInfo = {
        command: ["nexus", ...(io().argv ?? [])],
        cwd: io().cwd,
        seed: null,
        faultPlan: null,
        image: null,
        manifest: flags.system !== undefined ? userPath(flags.system) : DEFAULT_MANIFEST_PATH,
        ladder: flags.ladder !== undefined ? userPath(flags.ladder) : defaultLadderPath(),
      };
      try {
        setExitCode(await bootAction(flags, info));
      } catch (err) {
        const usage = asUsageError(err);
        if (usage instanceof CliError && usage.exitCode === EXIT_USAGE) {
          // No verdict of an earlier run may stand beside this error, nor its task snapshot.
          const logDir = userPath(flags.logDir ?? DEFAULT_LOG_DIR).replace(/\/+$/, "");
          try {
            Deno.removeSync(`${logDir}/${SNAPSHOT_FILE}`);
          } catch {
            // Missing: nothing stale to remove.
          }
          replaceWithError({
            logDir: userPath(flags.logDir ?? DEFAULT_LOG_DIR),
            junitPath: flags.junit !== undefined ? userPath(flags.junit) : undefined,
            error: usage.message,
            nexusVersion: VERSION,
            run: info,
          });
        }
        throw usage;
      }
    }),
  }),
};
