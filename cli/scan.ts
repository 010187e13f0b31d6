/**
 * `nexus scan`: judge an existing console log (or a command's live output) against the ladder,
 * with the same rules, verdict and exit codes as `nexus boot`.
 *
 * @module
 */

import type { Command } from "commander";
import { CliError, EXIT_USAGE } from "./errors.ts";
import { io, setExitCode } from "./io.ts";
import {
  childSource,
  defaultLadderPath,
  HarnessError,
  type LineSource,
  loadLadder,
  pathKind,
  resolveRunOptions,
  type RunFlags,
  runSession,
  selectRequirement,
  streamSource,
  Terminal,
} from "../harness/mod.ts";

/** Options commander hands the scan action. */
interface ScanFlags
  extends Pick<RunFlags, "phase" | "untilMarker" | "timeout" | "requireColdBoot"> {
  ladder?: string;
  run?: boolean;
  json?: boolean;
  junit?: string;
  logDir?: string;
  quiet?: boolean;
}

const HELP_AFTER = `
Input:
  LOGFILE      judge a saved console log (uart.log of a boot, or a QEMU serial log)
  -            judge standard input as it arrives (e.g. qemu ... | nexus scan -)
  --run -- CMD ARGS...
               run CMD, judge its stdout live, and stop that command (its own process group,
               nothing else) at the phase's end, on a failure signature or at the timeout;
               --run implies --until-marker unless a marker is given

Environment (a flag wins over a conflicting variable, with a notice):
  RUN_PHASE                   --phase
  RUN_UNTIL_MARKER            --until-marker (1 = the phase's end, a string = that marker)
  RUN_TIMEOUT                 --timeout (90s, 2m, 500ms; default 90s)
  REQUIRE_STATEFS_COLD_BOOT   --require-cold-boot (1 or 0)

Exit codes: 0 pass; 1 verification failure (missing markers, failure signature, order,
timeout); 2 usage or configuration error.`;

/** Turns the harness's usage errors into the CLI's one-line errors. */
export function asCliError(err: unknown): unknown {
  return err instanceof HarnessError ? new CliError(err.message, EXIT_USAGE) : err;
}

async function openLog(path: string): Promise<ReadableStream<Uint8Array>> {
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new CliError(`cannot read log ${path}: is a directory`);
    return (await Deno.open(path, { read: true })).readable;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new CliError(`cannot read log ${path}: ${why}`);
  }
}

async function scanAction(input: string[], flags: ScanFlags): Promise<number> {
  const opts = resolveRunOptions(
    flags,
    (name) => io().env(name),
    ["phase", "untilMarker", "timeout", "requireColdBoot"],
  );
  if (flags.run) {
    if (input.length === 0) {
      throw new CliError("--run needs a command: nexus scan --run -- CMD ARGS...");
    }
  } else if (input.length > 1) {
    throw new CliError(
      `scan takes one log file (or - for stdin), got ${input.length}; to run a command use --run -- CMD ARGS...`,
    );
  }
  const ladder = flags.ladder !== undefined
    ? await loadLadder(flags.ladder)
    : await loadLadder(defaultLadderPath(), "images/ladder.toml");
  let requirement;
  try {
    requirement = selectRequirement(ladder, {
      phase: opts.phase,
      // A command may never end on its own: stop it once the phase is complete.
      untilMarker: opts.untilMarker ?? (flags.run ? true : undefined),
      requireColdBoot: opts.requireColdBoot,
    });
  } catch (err) {
    const value = flags.untilMarker;
    if (
      err instanceof HarnessError && err.code === "UNKNOWN_MARKER" && typeof value === "string" &&
      input.length === 0 && pathKind(value) === "file"
    ) {
      // `--until-marker` takes an optional value, so a log named right after it became the marker.
      throw new CliError(
        `--until-marker took "${value}" as its marker; put the log first (nexus scan ${value} --until-marker) or write --until-marker=MARKER`,
      );
    }
    throw err;
  }

  let source: LineSource;
  let live = true;
  if (flags.run) {
    source = childSource(input[0], input.slice(1));
  } else if (input.length === 0 || input[0] === "-") {
    if (io().stdinIsTerminal()) {
      throw new CliError(
        "no log given and stdin is a terminal: name a LOGFILE, pipe one in, or use --run",
      );
    }
    source = streamSource(io().stdin());
  } else {
    source = streamSource(await openLog(input[0]));
    live = false;
  }
  const terminal = new Terminal({
    out: io().stdout,
    err: io().stderr,
    noColor: io().env("NO_COLOR"),
    stream: live && !flags.quiet && !flags.json,
  });
  for (const n of opts.notices) terminal.notice(n);
  const verdict = await runSession({
    requirement,
    source,
    timeoutMs: opts.timeoutMs,
    terminal,
    json: flags.json === true,
    junitPath: flags.junit,
    logDir: flags.logDir,
    catchInterrupt: live,
  });
  return verdict.exitCode;
}

/** Registers the `scan` command on the root program. */
export function registerScan(program: Command): Command {
  return program.command("scan")
    .description("judge an existing console log (or a command's live output) against the ladder")
    .argument("[input...]", "LOGFILE, - for stdin, or with --run: CMD ARGS... (after --)")
    .option("--ladder <file>", "ladder TOML (default: images/ladder.toml)")
    .option("--phase <name>", "judge the ladder from the start through this phase")
    .option(
      "--until-marker [marker]",
      "stop once every marker of the phase was seen, or at the first line containing MARKER (then the ladder counts up to MARKER)",
    )
    .option("--require-cold-boot", "demand the cold-boot persistence marker")
    .option("--run", "run the command given after -- and judge its stdout live")
    .option("--timeout <duration>", "wall-clock limit for live input (default 90s)")
    .option("--json", "print the verdict as one JSON object")
    .option("--junit <file>", "write a JUnit XML report")
    .option("--log-dir <dir>", "also write uart.log and summary.json here")
    .option("--quiet", "do not echo live console lines")
    .addHelpText("after", HELP_AFTER)
    .action(async (input: string[], flags: ScanFlags) => {
      try {
        setExitCode(await scanAction(input, flags));
      } catch (err) {
        throw asCliError(err);
      }
    });
}
