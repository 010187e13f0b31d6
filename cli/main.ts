/**
 * The `nexus` command: argument parsing, output and exit codes only. Each command group lives in
 * its own module and registers itself on the root program.
 *
 * @module
 */

import { Command, CommanderError } from "commander";
import { CliError, EXIT_USAGE } from "./errors.ts";
import { registerImage } from "./image.ts";
import { registerSlots } from "./slots.ts";
import { registerBoot } from "./boot.ts";
import { registerScan } from "./scan.ts";
import { registerExplore } from "./explore.ts";
import { registerReport } from "./report.ts";
import { registerTorture } from "./torture.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The nexus version, from deno.json. */
export const VERSION: string = denoJson.version;

/** Builds the root program with every subcommand registered. */
function buildProgram(): Command {
  const program = new Command("nexus")
    .description(
      "Image builder and deterministic test runner for the persistence stack of a capability microkernel OS",
    )
    .version(VERSION, "-V, --version", "print the nexus version")
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      outputError: (str, write) => write(str),
    });
  registerImage(program);
  registerSlots(program);
  registerBoot(program);
  registerScan(program);
  registerExplore(program);
  registerTorture(program);
  registerReport(program);
  program.commands.forEach(exitOverrideDeep);
  program.exitOverride();
  return program;
}

function exitOverrideDeep(cmd: Command): void {
  cmd.exitOverride();
  cmd.showSuggestionAfterError(true);
  cmd.commands.forEach(exitOverrideDeep);
}

/** Runs nexus with `args` (without the program name) and returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof Deno.exitCode === "number" ? Deno.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end through exitOverride with code 0; usage errors were printed already.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof CliError) {
      console.error(`nexus: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
