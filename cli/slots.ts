/**
 * `nexus slots`: validate and show the declarative capability slot map (the system manifest).
 * Parsing and printing only; the work is done in `init/`.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { action, docs, type NexusContext, option, optionalArg, toggle } from "./command.ts";
import { CliError, EXIT_FAIL, EXIT_USAGE } from "./errors.ts";
import { printErr, printOut, setExitCode, userPath } from "./io.ts";
import {
  DEFAULT_MANIFEST_PATH,
  formatDiagnostic,
  GRAPH_FORMATS,
  type GraphFormat,
  loadManifest,
  ManifestError,
  type ManifestLoad,
  renderGraph,
  renderSlotTable,
  slotRows,
  UnknownServiceError,
  validateManifest,
} from "../init/mod.ts";
import { SERVICES } from "../services/mod.ts";

const EXIT_CODES = `
Exit codes: 0 valid (warnings allowed); 1 problems found; 2 usage error or unreadable manifest.`;

const SHOW_EXIT_CODES = `
Exit codes: 0 shown (a manifest with problems is shown in part, with a notice); 2 usage error,
unknown service or unreadable manifest.`;

function print(text: string): Promise<void> {
  printOut(text);
  return Promise.resolve();
}

/** The default manifest as a user would type it from the repository root, when it is under cwd. */
function displayPath(path: string): string {
  const cwd = Deno.cwd();
  return path.startsWith(cwd + "/") ? path.slice(cwd.length + 1) : path;
}

async function load(path: string | undefined): Promise<ManifestLoad> {
  const file = path !== undefined ? userPath(path) : DEFAULT_MANIFEST_PATH;
  try {
    const loaded = await loadManifest(file);
    if (path === undefined) loaded.manifest.file = displayPath(file);
    for (const d of loaded.diagnostics) d.file = loaded.manifest.file;
    return loaded;
  } catch (err) {
    if (err instanceof ManifestError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
}

const systemOption = () => option("system manifest (default: images/system.toml)", "file");

/** The flags of `slots validate` and `slots show`. */
interface ReportFlags {
  system?: string;
  json?: boolean;
}

const validate = buildCommand<ReportFlags, [], NexusContext>({
  docs: docs(
    "check the manifest against every service's declared slot needs",
    `
Reports, with the service, slot and a fix hint: required slots missing from the map, slots
assigned twice, reserved slots (0-2) reused, wrong rights or kind for the use, targets that are
not declared (did you mean), unknown manifest keys, routes the policy does not grant,
grants a service needs for its requests and lacks (GRANT_MISSING), slots
declared but never used (warning) and cycles of synchronous calls that could deadlock.
${EXIT_CODES}`,
  ),
  parameters: {
    flags: { system: systemOption(), json: toggle("print the report as one JSON object") },
  },
  func: action(async (opts: ReportFlags) => {
    const loaded = await load(opts.system);
    const report = validateManifest(loaded, SERVICES);
    if (opts.json) {
      await print(JSON.stringify(report, null, 2));
    } else {
      for (const p of report.problems) await print(formatDiagnostic(p));
      const m = loaded.manifest;
      const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
      if (report.valid) {
        const slotCount = m.init.slots.length +
          m.services.reduce((n, s) => n + s.slots.length, 0);
        await print(
          `slots: ${m.file} is valid (${count(m.services.length, "service")}, ${
            count(slotCount, "slot")
          }${report.warnings ? `, ${count(report.warnings, "warning")}` : ""})`,
        );
      } else {
        await print(
          `slots: ${m.file} has ${count(report.errors, "error")} and ${
            count(report.warnings, "warning")
          }`,
        );
      }
    }
    if (!report.valid) setExitCode(EXIT_FAIL);
  }),
});

const show = buildCommand<ReportFlags, [string | undefined], NexusContext>({
  docs: docs(
    "print the slot map as a table (one service: with its reserved slots 0-2)",
    SHOW_EXIT_CODES,
  ),
  parameters: {
    flags: { system: systemOption(), json: toggle("print the rows as a JSON array") },
    positional: {
      kind: "tuple",
      parameters: [optionalArg("only this service (or init)", "service")],
    },
  },
  func: action(async (opts: ReportFlags, service: string | undefined) => {
    const loaded = await load(opts.system);
    let rows;
    try {
      rows = slotRows(loaded.manifest, SERVICES, service);
    } catch (err) {
      if (err instanceof UnknownServiceError) throw new CliError(err.message, EXIT_USAGE);
      throw err;
    }
    await print(opts.json ? JSON.stringify(rows, null, 2) : renderSlotTable(rows).join("\n"));
    await warnProblems(loaded);
  }),
});

/** The flags of `slots graph`. */
interface GraphFlags {
  format: GraphFormat;
  system?: string;
}

const graph = buildCommand<GraphFlags, [], NexusContext>({
  docs: docs("draw who can call whom (Graphviz DOT or Mermaid)", SHOW_EXIT_CODES),
  parameters: {
    flags: {
      format: { kind: "enum", brief: "output format", values: GRAPH_FORMATS, default: "dot" },
      system: systemOption(),
    },
  },
  func: action(async (opts: GraphFlags) => {
    const loaded = await load(opts.system);
    await print(renderGraph(loaded.manifest, SERVICES, opts.format));
    await warnProblems(loaded);
  }),
});

/** The `nexus slots` commands. */
export const SLOTS_COMMANDS = {
  slots: buildRouteMap({
    routes: { validate, show, graph },
    docs: { brief: "validate and show the declarative capability slot map" },
  }),
};

/** A manifest with shape problems still shows what loaded; say so on stderr. */
async function warnProblems(loaded: ManifestLoad): Promise<void> {
  const errors = loaded.diagnostics.filter((d) => d.severity === "error").length;
  if (errors === 0) return;
  printErr(
    `nexus: ${loaded.manifest.file} has ${errors} problem(s) and is shown in part; run: nexus slots validate${
      loaded.manifest.file === displayPath(DEFAULT_MANIFEST_PATH)
        ? ""
        : ` --system ${loaded.manifest.file}`
    }`,
  );
  await Promise.resolve();
}
