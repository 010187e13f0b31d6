/**
 * Check: an MMIO window is granted only to declared services.
 *
 * @module
 */

import { didYouMean } from "../suggest.ts";
import type { CheckContext } from "./context.ts";

/** UNKNOWN_SUBJECT for each name in a window's `services` that is not a declared service. */
export function checkMmioGrants(ctx: CheckContext): void {
  for (const w of ctx.m.mmio) {
    for (const svc of w.services) {
      if (ctx.serviceNames.includes(svc)) continue;
      ctx.push(
        "error",
        "UNKNOWN_SUBJECT",
        `MMIO window ${w.window} is granted to "${svc}", which is not a declared service${
          didYouMean(svc, ctx.serviceNames)
        }`,
        `list only declared services in services = [...]`,
        { service: svc, line: w.line },
      );
    }
  }
}
