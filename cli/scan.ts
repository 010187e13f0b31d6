/**
 * `nexus scan`: judge an existing console log (or a command's live output) against the ladder.
 *
 * @module
 */

import type { Command } from "commander";

/** Registers the `scan` command group on the root program. */
export function registerScan(program: Command): Command {
  return program.command("scan").description(
    "judge an existing console log (or a command's live output) against the ladder",
  );
}
