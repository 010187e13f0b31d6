/**
 * `nexus ps` and `nexus caps SERVICE`: the tasks and slot tables of the last boot, read from the
 * `snapshot.json` that `nexus boot` writes into its log dir.
 *
 * @module
 */

import type { Command } from "commander";
import { CliError } from "./errors.ts";
import { printOut, userPath } from "./io.ts";
import { DEFAULT_LOG_DIR } from "./boot.ts";
import {
  renderCaps,
  renderPs,
  type Snapshot,
  SNAPSHOT_FILE,
  SNAPSHOT_SCHEMA_VERSION,
} from "../snapshot/snapshot.ts";

interface ViewFlags {
  logDir?: string;
  json?: boolean;
}

/** Reads the snapshot from the log dir; a missing or foreign file is one usage error. */
function readSnapshot(flags: ViewFlags): Snapshot {
  const dir = userPath(flags.logDir ?? DEFAULT_LOG_DIR).replace(/\/+$/, "");
  const path = `${dir}/${SNAPSHOT_FILE}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CliError(`${path}: no snapshot; run \`nexus boot\` first (or pass --log-dir)`);
    }
    throw new CliError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let snap: Snapshot;
  try {
    snap = JSON.parse(text);
  } catch {
    throw new CliError(`${path}: not JSON; run \`nexus boot\` again to rewrite it`);
  }
  if (snap?.schemaVersion !== SNAPSHOT_SCHEMA_VERSION || !Array.isArray(snap.tasks)) {
    throw new CliError(
      `${path}: not a snapshot of schema ${SNAPSHOT_SCHEMA_VERSION}; run \`nexus boot\` again`,
    );
  }
  return snap;
}

const EXIT_HELP = "\nExit codes: 0 printed; 2 no snapshot in the log dir, or unknown service.";

/** Registers `ps` and `caps` on the root program. */
export function registerViews(program: Command): void {
  program.command("ps")
    .description("every task of the last boot: state, what it waits on, messages, syscalls")
    .option("--log-dir <dir>", `the boot's log dir (default ${DEFAULT_LOG_DIR})`)
    .option("--json", "print the tasks as JSON")
    .addHelpText("after", EXIT_HELP)
    .action((flags: ViewFlags) => {
      const snap = readSnapshot(flags);
      printOut(
        flags.json === true
          ? JSON.stringify({ virtualNs: snap.virtualNs, tasks: snap.tasks }, null, 2) + "\n"
          : renderPs(snap),
      );
    });
  program.command("caps")
    .description("a task's slot table in the last boot: slot, name, kind, rights, target")
    .argument("<service>", "task name (init or a service)")
    .option("--log-dir <dir>", `the boot's log dir (default ${DEFAULT_LOG_DIR})`)
    .option("--json", "print the slots as JSON")
    .addHelpText("after", EXIT_HELP)
    .action((service: string, flags: ViewFlags) => {
      const snap = readSnapshot(flags);
      const rows = Object.hasOwn(snap.caps, service) ? snap.caps[service] : undefined;
      if (rows === undefined) {
        throw new CliError(
          `no task "${service}" in the snapshot; tasks: ${Object.keys(snap.caps).join(", ")}`,
        );
      }
      printOut(
        flags.json === true
          ? JSON.stringify({ service, slots: rows }, null, 2) + "\n"
          : renderCaps(rows),
      );
    });
}
