/**
 * `nexus ps` and `nexus caps SERVICE`: the tasks and slot tables of the last boot, read from the
 * `snapshot.json` that `nexus boot` writes into its log dir.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { action, arg, docs, type NexusContext, option, toggle } from "./command.ts";
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

const logDirFlag = () => option(`the boot's log dir (default ${DEFAULT_LOG_DIR})`, "dir");

/** The `nexus ps` and `nexus caps` commands. */
export const VIEW_COMMANDS = {
  ps: buildCommand<ViewFlags, [], NexusContext>({
    docs: docs(
      "every task of the last boot: state, what it waits on, messages, syscalls",
      EXIT_HELP,
    ),
    parameters: {
      flags: { logDir: logDirFlag(), json: toggle("print the tasks as JSON") },
    },
    func: action((flags: ViewFlags) => {
      const snap = readSnapshot(flags);
      printOut(
        flags.json === true
          ? JSON.stringify({ virtualNs: snap.virtualNs, tasks: snap.tasks }, null, 2) + "\n"
          : renderPs(snap),
      );
    }),
  }),
  caps: buildCommand<ViewFlags, [string], NexusContext>({
    docs: docs(
      "a task's slot table in the last boot: slot, name, kind, rights, target",
      EXIT_HELP,
    ),
    parameters: {
      flags: { logDir: logDirFlag(), json: toggle("print the slots as JSON") },
      positional: { kind: "tuple", parameters: [arg("task name (init or a service)", "service")] },
    },
    func: action((flags: ViewFlags, service: string) => {
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
    }),
  }),
};
