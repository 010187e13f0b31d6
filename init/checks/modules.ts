/**
 * Check: every service names a known module, and that module is the service of that name (a
 * service's name is its identity, so a module cannot run under another name).
 *
 * @module
 */

import { didYouMean } from "../suggest.ts";
import type { CheckContext } from "./context.ts";

/** UNKNOWN_MODULE and MODULE_NAME_MISMATCH, per service in start order. */
export function checkModules(ctx: CheckContext): void {
  const { registry } = ctx;
  for (const s of ctx.m.services) {
    const mod = Object.hasOwn(registry, s.module) ? registry[s.module] : undefined;
    if (!mod) {
      ctx.push(
        "error",
        "UNKNOWN_MODULE",
        `${s.name} uses module "${s.module}", which is not a known service module${
          didYouMean(s.module, Object.keys(registry))
        }`,
        `set module to one of: ${Object.keys(registry).join(", ") || "(none registered)"}`,
        { service: s.name, line: s.line },
      );
    } else if (mod.name !== s.name) {
      ctx.push(
        "error",
        "MODULE_NAME_MISMATCH",
        `module "${s.module}" is the service "${mod.name}", but the manifest names it "${s.name}"`,
        `name the service "${mod.name}" (its name is its identity)`,
        { service: s.name, line: s.line },
      );
    }
  }
}
