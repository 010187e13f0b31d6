/**
 * `nexus image`: build and inspect disk images with a StateFS partition.
 *
 * @module
 */

import type { Command } from "commander";

/** Registers the `image` command group on the root program. */
export function registerImage(program: Command): Command {
  return program.command("image").description(
    "build and inspect disk images with a StateFS partition",
  );
}
