/**
 * The table init prints when its watchdog fires: every unfinished task, its state, what it is
 * blocked on and since which virtual time, so a hang names its culprit.
 *
 * @module
 */

import type { TaskInfo } from "../core/kernel/types.ts";

/** Virtual time as `t=12.345678ms` (exact: ns have six digits after the ms point). */
export function formatVirtualTime(ns: number): string {
  return `t=${(ns / 1e6).toFixed(6)}ms`;
}

/**
 * The table's lines (header first), one row per task in pid order: pid, task, state, since,
 * blocked on (`describe` spells out the wait, e.g. slot and endpoint names from the manifest).
 */
export function formatTaskTable(
  tasks: readonly TaskInfo[],
  describe: (t: TaskInfo) => string,
  now: number,
): string[] {
  const rows = [...tasks].sort((a, b) => a.pid - b.pid).map((t) => [
    String(t.pid),
    t.name,
    t.state,
    formatVirtualTime(t.since),
    describe(t),
  ]);
  const header = ["pid", "task", "state", "since", "blocked on"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [
    `unfinished tasks (${rows.length}) at ${formatVirtualTime(now)}:`,
    line(header),
    ...rows.map(line),
  ];
}
