/**
 * The nexus version, from deno.json (reports carry it).
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** The nexus version. */
export const VERSION: string = denoJson.version;
