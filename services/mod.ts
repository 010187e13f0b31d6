/**
 * The service registry: every service module by the name the system manifest's `module` field
 * uses. init spawns from it and `nexus slots validate` reads each module's declared slot needs.
 *
 * @example Check the shipped manifest against every service's declared needs
 * ```ts
 * import { SERVICES } from "./mod.ts";
 * import { DEFAULT_MANIFEST_PATH, loadManifest, validateManifest } from "../init/mod.ts";
 *
 * const report = validateManifest(await loadManifest(DEFAULT_MANIFEST_PATH), SERVICES);
 * report.valid; // true
 * ```
 *
 * @module
 */

import type { ServiceModule } from "../core/kernel/service.ts";
import logd from "./logd/main.ts";
import policyd from "./policyd/main.ts";
import samgrd from "./samgrd/main.ts";
import rngd from "./rngd/main.ts";
import statefsd from "./statefsd/main.ts";
import keystored from "./keystored/main.ts";
import bundlemgrd from "./bundlemgrd/main.ts";
import updated from "./updated/main.ts";
import selftestUngranted from "./selftest-ungranted/main.ts";
import selftestClient from "./selftest-client/main.ts";

/** Every service module, keyed by module name. */
export const SERVICES: Readonly<Record<string, ServiceModule>> = Object.freeze({
  logd,
  policyd,
  samgrd,
  rngd,
  statefsd,
  keystored,
  bundlemgrd,
  updated,
  "selftest-ungranted": selftestUngranted,
  "selftest-client": selftestClient,
});
