/**
 * Wall-clock durations as users type them (`90s`, `2m`, `500ms`, `1h`, a bare number of seconds),
 * for `--timeout` and `RUN_TIMEOUT`.
 *
 * @module
 */

import { HarnessError } from "./errors.ts";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration into milliseconds. A bare number means seconds, as `timeout(1)` reads it.
 * Throws {@link HarnessError} `BAD_DURATION` for anything else, or for zero.
 */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (m === null) {
    throw new HarnessError(
      "BAD_DURATION",
      `${what} "${text}" is not a duration (examples: 90s, 2m, 500ms)`,
    );
  }
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? "s"]);
  if (ms <= 0) throw new HarnessError("BAD_DURATION", `${what} "${text}" must be more than zero`);
  return ms;
}

/** Formats milliseconds compactly for messages (`90s`, `2m`, `1.5s`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
