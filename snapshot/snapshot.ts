/**
 * The task and capability snapshot of a boot (`snapshot.json` in the log dir): every task with
 * what it waits on and its message and syscall counts, and every task's slot table named from
 * the manifest. `nexus ps` and `nexus caps SERVICE` print it.
 *
 * @example
 * ```ts
 * import { buildSnapshot, renderPs } from "./snapshot.ts";
 *
 * // after a boot (init/boot.ts bootSystem) returned its tasks, caps and counts:
 * // const snap = buildSnapshot({ tasks, caps, counts, manifest, virtualNs });
 * // console.log(renderPs(snap));
 * ```
 *
 * @module
 */

import type { TaskCounts } from "../core/kernel/kernel.ts";
import {
  type CapInfo,
  RIGHT_MANAGE,
  RIGHT_MAP,
  RIGHT_RECV,
  RIGHT_SEND,
  type TaskInfo,
} from "../core/kernel/types.ts";
import { INIT_NAME, type SystemManifest } from "../init/manifest.ts";
import { slotName } from "../init/views.ts";
import { describeWait, formatVirtualTime, type WaitView } from "../init/watchdog.ts";

/** Version of the snapshot.json layout; bumped when a field changes meaning. */
export const SNAPSHOT_SCHEMA_VERSION = 1;

/** The snapshot's file name inside the log dir. */
export const SNAPSHOT_FILE = "snapshot.json";

/** One task as `nexus ps` shows it. */
export interface TaskRow {
  pid: number;
  name: string;
  state: string;
  /** What a blocked task waits on (peer and request for a caller on its reply inbox). */
  blockedOn?: WaitView;
  /** The wait in words, `-` when the task does not wait. */
  waits: string;
  /** Virtual time (ns) since which the task is in this state. */
  since: number;
  /** Frames this task queued. */
  sent: number;
  /** Frames handed to this task. */
  received: number;
  /** Syscalls this task made. */
  syscalls: number;
  exitCode?: number;
}

/** One filled slot as `nexus caps` shows it. */
export interface SlotRow {
  slot: number;
  /** The slot's name in the manifest (`undeclared` when it names none). */
  name: string;
  kind: string;
  /** Rights as letters: s(end) r(ecv) m(ap) M(anage), `-` for none held. */
  rights: string;
  /** For endpoint caps: the endpoint and the service that owns it. */
  endpoint?: { id: number; owner: string; ownerPid: number; queued: number; closed: boolean };
  /** For MMIO caps: the window. */
  mmio?: { window: number; base: number };
}

/** The whole snapshot. */
export interface Snapshot {
  schemaVersion: number;
  /** Virtual time (ns) the snapshot was taken at. */
  virtualNs: number;
  /**
   * When it was taken: at the end of the run, or at the tick init's watchdog fired (then its
   * rows are the table init printed).
   */
  takenAt?: "end" | "watchdog";
  tasks: TaskRow[];
  /** Slot tables by task name. */
  caps: Record<string, SlotRow[]>;
}

/** Rights bits as letters (`sr`, `sm`, `srmM`). */
export function rightsText(rights: number): string {
  const s = (rights & RIGHT_SEND ? "s" : "") + (rights & RIGHT_RECV ? "r" : "") +
    (rights & RIGHT_MAP ? "m" : "") + (rights & RIGHT_MANAGE ? "M" : "");
  return s === "" ? "-" : s;
}

/**
 * Builds the snapshot from the task table, the slot tables and the counts. `waits`, when given,
 * are the waits as init's watchdog worded them (by pid); otherwise they are read from the tasks.
 */
export function buildSnapshot(input: {
  tasks: TaskInfo[];
  caps: Map<number, CapInfo[]>;
  /** Per pid: syscalls, messages sent and received (the kernel's own counts). */
  counts: ReadonlyMap<number, TaskCounts>;
  manifest: SystemManifest;
  virtualNs: number;
  waits?: ReadonlyMap<number, WaitView>;
  takenAt?: Snapshot["takenAt"];
}): Snapshot {
  const { manifest: m, counts } = input;
  const tasks = input.tasks.map((t): TaskRow => {
    const b = t.blockedOn;
    const wait: WaitView | undefined = input.waits
      ? input.waits.get(t.pid)
      : t.state === "blocked" && b
      ? {
        op: b.op,
        ...(b.slot !== undefined ? { slot: b.slot, slotName: slotName(m, t.name, b.slot) } : {}),
        ...(b.endpointId !== undefined ? { endpointId: b.endpointId } : {}),
        ...(b.peer !== undefined ? { peer: b.peer } : {}),
        ...(b.calling
          ? {
            calling: {
              owner: b.calling.owner,
              msg: b.calling.msg,
              ...(b.calling.label !== undefined ? { label: b.calling.label } : {}),
            },
          }
          : {}),
      }
      : undefined;
    return {
      pid: t.pid,
      name: t.name,
      state: t.state,
      ...(wait ? { blockedOn: wait } : {}),
      waits: wait ? describeWait(wait) : "-",
      since: t.since,
      sent: counts.get(t.pid)?.sent ?? 0,
      received: counts.get(t.pid)?.received ?? 0,
      syscalls: counts.get(t.pid)?.syscalls ?? 0,
      ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
    };
  });
  const caps: Record<string, SlotRow[]> = {};
  for (const t of input.tasks) {
    caps[t.name] = (input.caps.get(t.pid) ?? []).map((c): SlotRow => ({
      slot: c.slot,
      name: capName(m, t.name, c),
      kind: c.kind,
      rights: rightsText(c.rights),
      ...(c.endpoint
        ? {
          endpoint: {
            id: c.endpoint.id,
            owner: c.endpoint.ownerName,
            ownerPid: c.endpoint.ownerPid,
            queued: c.endpoint.queued,
            closed: c.endpoint.closed,
          },
        }
        : {}),
      ...(c.mmio ? { mmio: c.mmio } : {}),
    }));
  }
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    virtualNs: input.virtualNs,
    ...(input.takenAt !== undefined ? { takenAt: input.takenAt } : {}),
    tasks,
    caps,
  };
}

/**
 * A held slot's name: init's own table has no "to init"/"control" pair (slots 1 and 2 are free
 * for whatever init places there), so its slots take the manifest's names or their kind.
 */
function capName(m: SystemManifest, task: string, c: CapInfo): string {
  if (task !== INIT_NAME || c.slot === 0) return slotName(m, task, c.slot);
  const declared = m.init.slots.find((s) => s.slot === c.slot)?.name;
  if (declared !== undefined) return declared;
  if (c.kind === "mmio") return `mmio window ${c.mmio?.window ?? "?"}`;
  if (c.kind === "endpoint-factory") return "endpoint factory";
  return "undeclared";
}

/** Left-aligned columns, two spaces apart. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

/** `nexus ps`: one row per task. */
export function renderPs(s: Snapshot): string {
  return table(
    ["PID", "NAME", "STATE", "SINCE", "SENT", "RECV", "SYSCALLS", "WAITS ON"],
    s.tasks.map((t) => [
      String(t.pid),
      t.name,
      t.state === "exited" && t.exitCode !== undefined ? `exited(${t.exitCode})` : t.state,
      formatVirtualTime(t.since),
      String(t.sent),
      String(t.received),
      String(t.syscalls),
      t.waits,
    ]),
  );
}

/** `nexus caps SERVICE`: one row per filled slot. */
export function renderCaps(rows: SlotRow[]): string {
  return table(
    ["SLOT", "NAME", "KIND", "RIGHTS", "TARGET"],
    rows.map((r) => [
      `0x${r.slot.toString(16).padStart(2, "0")}`,
      r.name,
      r.kind,
      r.rights,
      r.endpoint
        ? `endpoint #${r.endpoint.id} of ${r.endpoint.owner}${r.endpoint.closed ? " (closed)" : ""}`
        : r.mmio
        ? `mmio window ${r.mmio.window} @0x${r.mmio.base.toString(16)}`
        : "-",
    ]),
  );
}
