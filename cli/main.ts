/**
 * The `nexus` command: argument parsing, output and exit codes only. Each command group lives in
 * its own module and registers itself on the root program.
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

import { Command, CommanderError } from "commander";
import { CliError, describeSystemError, EXIT_USAGE } from "./errors.ts";
import { type CliIo, io, printErr, processIo, withIo, writeAll } from "./io.ts";
import { VERSION } from "./version.ts";

export { VERSION } from "./version.ts";
export { type CapturedIo, captureIo, type CliIo } from "./io.ts";

/** Adds one command group to the root program. */
type Register = (program: Command) => unknown;

/**
 * Every command group, in help order, with the top-level commands it adds and a loader of its
 * module. A run loads only the module of the command it names: `nexus scan` needs 28 modules,
 * the whole tree 155, and loading them is most of a short command's start-up.
 */
const GROUPS: readonly { commands: readonly string[]; load: () => Promise<Register> }[] = [
  { commands: ["image"], load: async () => (await import("./image.ts")).registerImage },
  { commands: ["slots"], load: async () => (await import("./slots.ts")).registerSlots },
  { commands: ["boot"], load: async () => (await import("./boot.ts")).registerBoot },
  { commands: ["scan"], load: async () => (await import("./scan.ts")).registerScan },
  { commands: ["explore"], load: async () => (await import("./explore.ts")).registerExplore },
  { commands: ["torture"], load: async () => (await import("./torture.ts")).registerTorture },
  { commands: ["report"], load: async () => (await import("./report.ts")).registerReport },
  { commands: ["ps", "caps"], load: async () => (await import("./views.ts")).registerViews },
  {
    commands: ["completions"],
    load: async () => (await import("./completions.ts")).registerCompletions,
  },
];

/** The top-level command names of every group, in help order. */
export const COMMAND_NAMES: readonly string[] = GROUPS.flatMap((g) => g.commands);

/**
 * The groups a run with `args` needs: only the named command's, when the first argument names
 * one; none for the version; otherwise all (root help, `help CMD`, completions, and suggestions for a mistyped command
 * need the whole tree).
 */
function groupsFor(args: readonly string[]): typeof GROUPS {
  const first = args[0];
  if (first === "-V" || first === "--version") return [];
  if (first === "completions") return GROUPS;
  const named = GROUPS.find((g) => g.commands.includes(first));
  return named === undefined ? GROUPS : [named];
}

/** Builds the root program with the subcommands `args` needs registered (all by default). */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command("nexus")
    .description(
      "Image builder and deterministic test runner for the persistence stack of a capability microkernel OS",
    )
    .version(VERSION, "-V, --version", "print the nexus version")
    .showSuggestionAfterError(true);
  const groups = groupsFor(args);
  const registers = await Promise.all(groups.map((g) => g.load()));
  for (const register of registers) register(program);
  configureDeep(program);
  return program;
}

/** Commander's own messages go to the run's streams, in the one error style of the CLI. */
function configureDeep(cmd: Command): void {
  cmd.exitOverride();
  cmd.showSuggestionAfterError(true);
  cmd.configureOutput({
    writeOut: (str) => writeAll(io().stdout, str),
    writeErr: (str) => writeAll(io().stderr, str),
    outputError: (str, write) => write(oneLineError(str, cmd)),
  });
  cmd.commands.forEach(configureDeep);
}

/** `error: unknown option '--x'\n(Did you mean --y?)` becomes one `nexus: ...` line with a hint. */
function oneLineError(str: string, cmd: Command): string {
  const text = str.replace(/^error: /, "").split("\n").map((l) => l.trim()).filter((l) => l)
    .join(" ");
  const path: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) path.unshift(c.name());
  return `nexus: ${text} (see: ${path.join(" ")} --help)\n`;
}

/**
 * Runs nexus with `args` (without the program name) against `runIo` (default: this process's
 * streams) and returns the exit code. Nothing here exits the process, so the CLI can run
 * in-process.
 */
export function run(args: string[], runIo: CliIo = processIo()): Promise<number> {
  runIo.argv = [...args];
  return withIo(runIo, async () => {
    const program = await buildProgram(args);
    try {
      await program.parseAsync(args, { from: "user" });
      return runIo.exitCode ?? 0;
    } catch (err) {
      if (err instanceof CommanderError) {
        // Help and version end through exitOverride with code 0; usage errors were printed already.
        return err.exitCode === 0 ? 0 : EXIT_USAGE;
      }
      if (err instanceof CliError) {
        printErr(`nexus: ${asTyped(err.message, runIo.cwd)}`);
        return err.exitCode;
      }
      // A path the user named that the system refuses (too long, under a file, a symlink loop).
      const sys = describeSystemError(err);
      if (sys !== null) {
        printErr(`nexus: ${asTyped(sys, runIo.cwd)}`);
        return EXIT_USAGE;
      }
      throw err;
    }
  });
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

if (import.meta.main) {
  // Relative paths (and build/) resolve against the user's directory, not the project root.
  const dir = userDirectory();
  if (dir !== Deno.cwd()) Deno.chdir(dir);
  Deno.exit(await run(Deno.args));
}
