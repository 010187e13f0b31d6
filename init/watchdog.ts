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
export function formatTaskTable<
  T extends Pick<TaskInfo, "pid" | "name" | "since"> & { state: string },
>(
  tasks: readonly T[],
  describe: (t: T) => string,
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

/** What a blocked task waits on, as both init's table and the host's verdict describe it. */
export interface WaitView {
  /** The wait: send, recv, sleep or irq. */
  op: string;
  /** Slot the call named. */
  slot?: number;
  /** That slot's name in the manifest (`reply`, `inbox`, `statefsd`...). */
  slotName?: string;
  /** Endpoint waited on. */
  endpointId?: number;
  /** That endpoint's manifest name. */
  endpointName?: string;
  /** Owner of the endpoint. */
  peer?: string;
  /** For a caller waiting on its reply inbox: the service it called and the request's label. */
  calling?: { owner: string; label?: string; msg?: number };
}

/**
 * A frame label `MMMM:OO` (magic bytes and op in hex) in words: the magic as its two letters
 * when they are printable (`SF op 0x01`), the raw label otherwise.
 */
export function describeLabel(label: string): string {
  const m = /^([0-9a-f]{2})([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(label);
  if (!m) return label;
  const a = parseInt(m[1], 16);
  const b = parseInt(m[2], 16);
  const printable = (c: number) => c >= 0x21 && c <= 0x7e;
  const magic = printable(a) && printable(b) ? String.fromCharCode(a, b) : `${m[1]}${m[2]}`;
  return `${magic} op 0x${m[3].toLowerCase()}`;
}

/**
 * One wording for a wait: a caller waiting on its own reply inbox is waiting for the service it
 * called (`reply from keystored to SF op 0x01 (recv slot 0x04 reply)`), not for itself.
 */
export function describeWait(w: WaitView): string {
  const slot = w.slot !== undefined
    ? `slot 0x${w.slot.toString(16).padStart(2, "0")}${w.slotName ? ` ${w.slotName}` : ""}`
    : undefined;
  if (w.op === "recv" && w.calling) {
    const what = w.calling.label ? ` to ${describeLabel(w.calling.label)}` : "";
    return `reply from ${w.calling.owner}${what} (recv${slot ? ` ${slot}` : ""})`;
  }
  const parts = [w.op];
  if (slot) parts.push(slot);
  if (w.endpointId !== undefined || w.endpointName !== undefined || w.peer !== undefined) {
    const name = w.endpointName !== undefined
      ? `endpoint "${w.endpointName}"`
      : w.endpointId !== undefined
      ? `endpoint #${w.endpointId}`
      : "endpoint";
    parts.push(`on ${name}${w.peer !== undefined ? ` of ${w.peer}` : ""}`);
  }
  return parts.join(" ");
}
