/**
 * `nexus boot`: boot the simulated system against an image and judge the marker ladder.
 *
 * @module
 */

import type { Command } from "commander";

/** Registers the `boot` command group on the root program. */
export function registerBoot(program: Command): Command {
  return program.command("boot").description(
    "boot the simulated system against an image and judge the marker ladder",
  );
}
