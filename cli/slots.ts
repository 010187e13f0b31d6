/**
 * `nexus slots`: validate and show the declarative capability slot map.
 *
 * @module
 */

import type { Command } from "commander";

/** Registers the `slots` command group on the root program. */
export function registerSlots(program: Command): Command {
  return program.command("slots").description(
    "validate and show the declarative capability slot map",
  );
}
