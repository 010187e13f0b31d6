/**
 * `nexus scan`: judge an existing console log (or a command's live output) against the ladder,
 * with the same rules, verdict and exit codes as `nexus boot`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import {
  action,
  arg,
  docs,
  type NexusContext,
  option,
  toggle,
  UNTIL_MARKER,
  untilMarkerValue,
} from "./command.ts";
import { CliError, EXIT_USAGE } from "./errors.ts";
import { io, setExitCode, userPath } from "./io.ts";
import {
  checkUntilMarker,
  childSource,
  fileStream,
  HarnessError,
  type LineSource,
  loadNamedLadder,
  resolveRunOptions,
  type RunFlags,
  runSession,
  selectRequirement,
  streamSource,
  Terminal,
} from "../harness/mod.ts";

/** The scan's flags, `--until-marker` without a value as true. */
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
    return fileStream(await Deno.open(path, { read: true }));
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

/** True when `path` names an existing regular file (never throws: odd names are just not files). */
function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Standard input as a line source, refusing an input that ends before its first byte: an empty
 * pipe or /dev/null is a mistake (nothing to judge), not a console with every marker missing.
 */
async function nonEmptyStdin(stdin: ReadableStream<Uint8Array>): Promise<LineSource> {
  const reader = stdin.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  do first = await reader.read(); while (!first.done && first.value.length === 0);
  if (first.done) {
    reader.releaseLock();
    throw new CliError("standard input is empty: nothing to judge (name a LOGFILE or pipe a log)");
  }
  const head = first.value;
  const rest = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(head);
    },
    async pull(ctl) {
      const next = await reader.read();
      if (next.done) ctl.close();
      else ctl.enqueue(next.value);
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  });
  return streamSource(rest);
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
  const value = flags.untilMarker;
  if (typeof value === "string") {
    checkUntilMarker(value);
    if (input.length === 0 && isFile(userPath(value))) {
      // `--until-marker` takes an optional value, so a log named right after it became the marker.
      throw new CliError(
        `--until-marker took "${value}" as its marker; put the log first (nexus scan ${value} --until-marker) or write --until-marker=MARKER`,
      );
    }
  }
  const ladder = await loadNamedLadder(flags.ladder ?? "default", userPath);
  const requirement = selectRequirement(ladder, {
    phase: opts.phase,
    // A command may never end on its own: stop it once the phase is complete.
    untilMarker: opts.untilMarker ?? (flags.run ? true : undefined),
    requireColdBoot: opts.requireColdBoot,
  });

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
    source = await nonEmptyStdin(io().stdin());
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

/** The scan's flags as typed: `--until-marker` alone gives "" (the phase's end). */
type ScanInput = Omit<ScanFlags, "untilMarker"> & { untilMarker?: string };

/** The `nexus scan` command. */
export const SCAN_COMMANDS = {
  scan: buildCommand<ScanInput, string[], NexusContext>({
    docs: docs(
      "judge an existing console log (or a command's live output) against the ladder",
      HELP_AFTER,
    ),
    parameters: {
      flags: {
        ladder: option(
          "a shipped ladder by name (default, or a file of images/ladders/ without .toml) or a ladder TOML path",
          "name|file",
        ),
        phase: option("judge the ladder from the start through this phase", "name"),
        untilMarker: UNTIL_MARKER,
        requireColdBoot: toggle("demand the cold-boot persistence marker"),
        run: toggle("run the command given after -- and judge its stdout live"),
        timeout: option("wall-clock limit for live input (default 90s)", "duration"),
        json: toggle("print the verdict as one JSON object"),
        junit: option("write a JUnit XML report", "file"),
        logDir: option("also write uart.log and summary.json here", "dir"),
        quiet: toggle("do not echo live console lines"),
      },
      positional: {
        kind: "array",
        parameter: arg("LOGFILE, - for stdin, or with --run: CMD ARGS... (after --)", "input"),
      },
    },
    func: action(async (input: ScanInput, ...args: string[]) => {
      try {
        const flags: ScanFlags = { ...input, untilMarker: untilMarkerValue(input.untilMarker) };
        // An empty marker is refused before anything else, as a usage error of its own.
        if (flags.untilMarker === "") checkUntilMarker("");
        setExitCode(await scanAction(args, flags));
      } catch (err) {
        throw asCliError(err);
      }
    }),
  }),
};
