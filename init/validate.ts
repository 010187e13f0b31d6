/**
 * The static wiring check behind `nexus slots validate`: proves, before anything boots, that the
 * manifest gives every service the slots its module declares it needs, with the right kind and
 * rights, aimed at the right endpoint; that no slot is assigned twice or reuses a reserved
 * number; that every routed pair is granted by the policy; and that the synchronous calls the
 * modules declare cannot form a cycle (a deadlock).
 *
 * It runs a sequence of named checks (`checks/`, one rule per file) over one shared context, in
 * a fixed order, so the report lists problems in a stable order: the loader's first, then
 * modules, each task's slot table, endpoints, MMIO grants, routes, needed grants, cycles.
 *
 * Conventions of the wiring plan the checks rely on: `inbox` is RECV on the service's own
 * request endpoint (named after it); `reply` is SEND|RECV on an inbox the service owns; a slot
 * named after a declared service is SEND on that service's request endpoint; only an endpoint's
 * owner receives on it.
 *
 * @example
 * ```ts
 * import { DEFAULT_MANIFEST_PATH, loadManifest } from "./manifest.ts";
 * import { validateManifest } from "./validate.ts";
 * import { SERVICES } from "../services/mod.ts";
 *
 * const report = validateManifest(await loadManifest(DEFAULT_MANIFEST_PATH), SERVICES);
 * if (!report.valid) console.log(`${report.errors} errors`);
 * ```
 *
 * @module
 */

import type { Diagnostic } from "./diagnostic.ts";
import type { ManifestLoad } from "./manifest.ts";
import type { ServiceRegistry } from "./needs.ts";
import { CheckContext } from "./checks/context.ts";
import { checkEndpoints } from "./checks/endpoints.ts";
import { checkNeededGrants } from "./checks/grants.ts";
import { checkMmioGrants } from "./checks/mmio_grants.ts";
import { checkModules } from "./checks/modules.ts";
import { checkRoutes } from "./checks/routes.ts";
import { checkSyncCycles } from "./checks/sync_cycles.ts";
import { checkTaskTables } from "./checks/task_tables.ts";

export { type ServiceRegistry, taskNeeds } from "./needs.ts";
export { routeCap } from "./checks/routes.ts";
export { syncCycles, type SyncEdge } from "./checks/sync_cycles.ts";

/** The outcome of {@link validateManifest}. */
export interface ValidationReport {
  /** Manifest file. */
  file: string;
  /** Every problem, errors and warnings, in a stable order. */
  problems: Diagnostic[];
  /** How many problems are errors. */
  errors: number;
  /** How many problems are warnings. */
  warnings: number;
  /** True when there is no error (warnings allowed). */
  valid: boolean;
}

/** The checks, in the order their problems are listed. */
const CHECKS: ReadonlyArray<(ctx: CheckContext) => void> = [
  checkModules,
  checkTaskTables,
  checkEndpoints,
  checkMmioGrants,
  checkRoutes,
  checkNeededGrants,
  checkSyncCycles,
];

/**
 * Checks `load` (the manifest and its loading diagnostics) against the services' declared needs
 * in `registry`. Never throws for a bad manifest: everything is a problem in the report.
 *
 * @example
 * ```ts
 * import { formatDiagnostic } from "./diagnostic.ts";
 * import { parseManifest } from "./manifest.ts";
 * import { validateManifest } from "./validate.ts";
 * import { SERVICES } from "../services/mod.ts";
 *
 * const text = await Deno.readTextFile("images/system.toml");
 * const report = validateManifest(parseManifest(text, "images/system.toml"), SERVICES);
 * report.problems.forEach((p) => console.log(formatDiagnostic(p)));
 * ```
 */
export function validateManifest(load: ManifestLoad, registry: ServiceRegistry): ValidationReport {
  const ctx = new CheckContext(load, registry);
  for (const check of CHECKS) check(ctx);
  const errors = ctx.problems.filter((p) => p.severity === "error").length;
  return {
    file: load.manifest.file,
    problems: ctx.problems,
    errors,
    warnings: ctx.problems.length - errors,
    valid: errors === 0,
  };
}
