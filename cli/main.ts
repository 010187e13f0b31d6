/**
 * The `nexus` command: argument parsing, output and exit codes only. Each command group lives in
 * its own module and exports its commands; Stricli parses the arguments, checks them against the
 * declarations and writes the help.
 *
 * @example
 * ```ts
 * import { captureIo, run } from "./main.ts";
 * const io = captureIo();
 * const code = await run(["--version"], io); // 0; io.stdout.text() holds the version
 * ```
 *
 * @module
 */

import {
  type Application,
  buildApplication,
  buildRouteMap,
  type RouteMap,
  run as runApplication,
  text_en,
} from "@stricli/core";
import { CliError, describeSystemError, EXIT_USAGE } from "./errors.ts";
import { type CliIo, io, printErr, printOut, processIo, withIo, writeAll } from "./io.ts";
import { type NexusContext, ownArguments, type Routes, type RoutingTarget } from "./command.ts";
import { didYouMean, usageError } from "./usage.ts";
import { VERSION } from "./version.ts";

export { VERSION } from "./version.ts";
export { type CapturedIo, captureIo, type CliIo } from "./io.ts";

/**
 * Every command group, in help order, with the top-level commands it adds and a loader of its
 * module. A run loads only the module of the command it names: `nexus scan` needs 28 modules,
 * the whole tree 173, and loading them is most of a short command's start-up.
 */
const GROUPS: readonly { commands: readonly string[]; load: () => Promise<Routes> }[] = [
  { commands: ["image"], load: async () => (await import("./image.ts")).IMAGE_COMMANDS },
  { commands: ["slots"], load: async () => (await import("./slots.ts")).SLOTS_COMMANDS },
  { commands: ["boot"], load: async () => (await import("./boot.ts")).BOOT_COMMANDS },
  { commands: ["scan"], load: async () => (await import("./scan.ts")).SCAN_COMMANDS },
  { commands: ["explore"], load: async () => (await import("./explore.ts")).EXPLORE_COMMANDS },
  { commands: ["torture"], load: async () => (await import("./torture.ts")).TORTURE_COMMANDS },
  { commands: ["report"], load: async () => (await import("./report.ts")).REPORT_COMMANDS },
  { commands: ["ps", "caps"], load: async () => (await import("./views.ts")).VIEW_COMMANDS },
  {
    commands: ["completions"],
    load: async () => (await import("./completions.ts")).COMPLETION_COMMANDS,
  },
];

/** The top-level command names of every group, in help order. */
export const COMMAND_NAMES: readonly string[] = GROUPS.flatMap((g) => g.commands);

// -V as well as Stricli's -v: scripts written against earlier nexus versions use it.
const VERSION_FLAGS = ["-v", "-V", "--version"];

/**
 * The groups a run with `args` needs: only the named command's, when the first argument names
 * one; otherwise all (root help, completions, and suggestions for a mistyped command need the
 * whole tree).
 */
function groupsFor(args: readonly string[]): typeof GROUPS {
  const first = args[0];
  if (first === "completions") return GROUPS;
  const named = GROUPS.find((g) => g.commands.includes(first));
  return named === undefined ? GROUPS : [named];
}

/**
 * Builds the application with the commands `args` needs (all by default). `args` also names the
 * command whose help a usage error points to.
 */
export async function buildProgram(
  args: readonly string[] = [],
): Promise<Application<NexusContext>> {
  const groups = await Promise.all(groupsFor(args).map((g) => g.load()));
  const root = buildRouteMap({
    routes: Object.assign({}, ...groups) as Routes,
    docs: {
      brief:
        "Image builder and deterministic test runner for the persistence stack of a capability microkernel OS",
    },
  });
  const see = () => `(see: ${[NAME, ...commandPath(root, args)].join(" ")} --help)`;
  return buildApplication(root, {
    name: NAME,
    versionInfo: { currentVersion: VERSION },
    // `--` ends nexus's own flags (`scan --run -- CMD ARGS...`), as in most command lines.
    scanner: { caseStyle: "allow-kebab-for-camel", allowArgumentEscapeSequence: true },
    documentation: {
      caseStyle: "convert-camel-to-kebab",
      disableAnsiColor: true,
      // The flags are listed below the usage line; a line of all of them would wrap many times.
      onlyRequiredInUsageLine: true,
    },
    localization: {
      text: {
        ...text_en,
        noCommandRegisteredForInput: ({ input, corrections }) =>
          `${NAME}: unknown command '${input}'${didYouMean(corrections)} ${see()}`,
        exceptionWhileParsingArguments: (exc) => `${NAME}: ${usageError(exc)} ${see()}`,
      },
    },
  });
}

const NAME = "nexus";

/** The command names at the start of `args` (`image mkfs` for `image mkfs x.img --force`). */
function commandPath(root: RouteMap<NexusContext>, args: readonly string[]): string[] {
  const path: string[] = [];
  let at: RoutingTarget | undefined = root;
  for (const word of args) {
    if (at === undefined || !("getAllEntries" in at)) break;
    at = at.getRoutingTargetForInput(word);
    if (at !== undefined) path.push(word);
  }
  return path;
}

/**
 * Runs nexus with `args` (without the program name) against `runIo` (default: this process's
 * streams) and returns the exit code. Nothing here exits the process, so the CLI can run
 * in-process.
 */
export function run(args: string[], runIo: CliIo = processIo()): Promise<number> {
  runIo.argv = [...args];
  return withIo(runIo, async () => {
    // The version needs no command tree; `help CMD` is `CMD --help`.
    if (args.length === 1 && VERSION_FLAGS.includes(args[0])) {
      printOut(VERSION);
      return 0;
    }
    const inputs = emptyValuesSplit(args[0] === "help" ? [...args.slice(1), "--help"] : args);
    const app = await buildProgram(inputs);
    const context: NexusContext = {
      root: app.root as RouteMap<NexusContext>,
      process: {
        stdout: { write: (text) => writeAll(io().stdout, text) },
        stderr: { write: (text) => writeAll(io().stderr, text) },
        env: {},
      },
    };
    await runApplication(app, inputs, context);
    if (context.failure !== undefined) return report(context.failure.error, runIo);
    // Stricli's own codes other than 0 are all refused input (unknown command or flag).
    if (context.process.exitCode !== 0) return EXIT_USAGE;
    return runIo.exitCode ?? 0;
  });
}

/**
 * `--name=` (an empty value) as `--name ""`: Stricli would take the token for a positional. Only
 * nexus's own arguments, before `--`; what follows belongs to the command `scan --run` starts.
 */
function emptyValuesSplit(args: readonly string[]): string[] {
  const own = ownArguments(args);
  const rest = args.slice(own.length);
  return [...own.flatMap((a) => /^--[^=]+=$/.test(a) ? [a.slice(0, -1), ""] : [a]), ...rest];
}

/** Prints a command's error as one `nexus: ...` line and gives its exit code; a bug rethrows. */
function report(err: unknown, runIo: CliIo): number {
  if (err instanceof CliError) {
    printErr(`${NAME}: ${asTyped(err.message, runIo.cwd)}`);
    return err.exitCode;
  }
  // A path the user named that the system refuses (too long, under a file, a symlink loop).
  const sys = describeSystemError(err);
  if (sys !== null) {
    printErr(`${NAME}: ${asTyped(sys, runIo.cwd)}`);
    return EXIT_USAGE;
  }
  throw err;
}

/**
 * Paths resolved against a run directory other than the process's show as the user typed them.
 */
function asTyped(message: string, cwd: string): string {
  return cwd === Deno.cwd() ? message : message.replaceAll(`${cwd.replace(/\/+$/, "")}/`, "");
}

/** The directory the user ran the command from: `deno task` runs in the project root. */
function userDirectory(): string {
  const init = Deno.env.get("INIT_CWD");
  if (init !== undefined && init !== "") {
    try {
      if (Deno.statSync(init).isDirectory) return init;
    } catch { /* not usable: stay where we are */ }
  }
  return Deno.cwd();
}

/** Runs nexus as a process: the user's arguments, directory and streams; exits with its code. */
export async function main(): Promise<never> {
  // Relative paths (and build/) resolve against the user's directory, not the project root.
  const dir = userDirectory();
  if (dir !== Deno.cwd()) Deno.chdir(dir);
  Deno.exit(await run(Deno.args));
}

if (import.meta.main) await main();
