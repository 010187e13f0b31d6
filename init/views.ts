/**
 * What `nexus slots show` and `nexus slots graph` print: the slot map as a table and the
 * who-can-call-whom graph (Graphviz DOT or Mermaid), built from the manifest and the services'
 * declared needs.
 *
 * @module
 */

import type { SlotNeed } from "../core/kernel/service.ts";
import { slotHex } from "../core/kernel/slot_check.ts";
import {
  RIGHT_MANAGE,
  RIGHT_RECV,
  RIGHT_SEND,
  SLOT_CTRL_RECV,
  SLOT_CTRL_SEND,
} from "../core/kernel/types.ts";
import {
  findEndpoint,
  findService,
  INIT_NAME,
  rightsToString,
  type SlotDecl,
  type SystemManifest,
} from "./manifest.ts";
import { closest } from "./suggest.ts";
import { type ServiceRegistry, taskNeeds } from "./needs.ts";

/** One row of the slot table. */
export interface SlotRow {
  /** Task (service or `init`). */
  service: string;
  /** Slot number. */
  slot: number;
  /** Slot name; reserved slots are `(bootstrap)`, `(init)`, `(control)`. */
  name: string;
  /** Rights, e.g. `send|recv`. */
  rights: string;
  /** `endpoint "x" (owner y)` or `mmio window n (device)`. */
  target: string;
  /** What the service uses it for (from its module), `-` when unknown. */
  use: string;
}

/** A service name that is not in the manifest. */
export class UnknownServiceError extends Error {
  /** Creates the error; `suggestion` is a close declared name, if any. */
  constructor(readonly service: string, readonly suggestion: string | undefined) {
    super(
      `no service "${service}" in the manifest${
        suggestion ? ` (did you mean "${suggestion}"?)` : ""
      }`,
    );
    this.name = "UnknownServiceError";
  }
}

function targetText(m: SystemManifest, s: SlotDecl): string {
  if (s.target.kind === "mmio") {
    const win = s.target.window;
    const decl = m.mmio.find((w) => w.window === win);
    return `mmio window ${win}${decl ? ` (${decl.device})` : " (undeclared)"}`;
  }
  const ep = findEndpoint(m, s.target.endpoint);
  return ep
    ? `endpoint "${ep.name}" (owner ${ep.owner})`
    : `endpoint "${s.target.endpoint}" (undeclared)`;
}

/** The reserved rows (slots 0..2) of `task`'s table. */
function reservedRows(task: string): SlotRow[] {
  if (task === INIT_NAME) {
    return [{
      service: task,
      slot: 0,
      name: "(bootstrap)",
      rights: rightsToString(RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE),
      target: "bootstrap endpoint (kernel; MANAGE makes init privileged)",
      use: "-",
    }];
  }
  return [
    {
      service: task,
      slot: 0,
      name: "(bootstrap)",
      rights: rightsToString(RIGHT_SEND | RIGHT_RECV),
      target: "bootstrap endpoint (kernel)",
      use: "-",
    },
    {
      service: task,
      slot: 1,
      name: "(init)",
      rights: rightsToString(RIGHT_SEND),
      target: `endpoint "${INIT_NAME}" (owner ${INIT_NAME})`,
      use: "RT routing and IH health requests",
    },
    {
      service: task,
      slot: 2,
      name: "(control)",
      rights: rightsToString(RIGHT_RECV),
      target: `control inbox (owner ${task})`,
      use: "START from init",
    },
  ];
}

/**
 * The slot map as rows: every declared slot of init and each service in start order, sorted by
 * slot number; for a single `service`, its reserved slots too. Throws
 * {@link UnknownServiceError} for a name the manifest does not declare.
 */
export function slotRows(
  m: SystemManifest,
  registry: ServiceRegistry,
  service?: string,
): SlotRow[] {
  const tasks = [INIT_NAME, ...m.services.map((s) => s.name)];
  if (service !== undefined && !tasks.includes(service)) {
    throw new UnknownServiceError(service, closest(service, tasks));
  }
  const needs = taskNeeds(m, registry);
  const rows: SlotRow[] = [];
  for (const task of tasks) {
    if (service !== undefined && task !== service) continue;
    const slots = task === INIT_NAME ? m.init.slots : findService(m, task)!.slots;
    if (service !== undefined) rows.push(...reservedRows(task));
    for (const s of [...slots].sort((a, b) => a.slot - b.slot)) {
      const need = needs.get(task)?.find((n) => n.name === s.name);
      rows.push({
        service: task,
        slot: s.slot,
        name: s.name,
        rights: rightsToString(s.rights),
        target: targetText(m, s),
        use: need ? `${need.use}${need.sync ? " (waits for replies)" : ""}` : "-",
      });
    }
  }
  return rows;
}

/** Renders rows as an aligned text table (header first). */
export function renderSlotTable(rows: readonly SlotRow[]): string[] {
  const header = ["SERVICE", "SLOT", "NAME", "RIGHTS", "TARGET", "USE"];
  const cells = rows.map((r) => [r.service, slotHex(r.slot), r.name, r.rights, r.target, r.use]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), ...cells.map(line)];
}

/** How a caller reaches a callee. */
export type EdgeKind = "sync" | "async" | "control" | "mmio";

/** An edge of the call graph. */
export interface CallEdge {
  /** Calling task. */
  from: string;
  /** A task name, or `mmio<n>` for a device window. */
  to: string;
  /** `policyd 0x05`-style label: slot name and number. */
  label: string;
  /** Synchronous call, fire-and-forget, init control, or device access. */
  kind: EdgeKind;
}

/** Graph output formats. */
export const GRAPH_FORMATS = ["dot", "mermaid"] as const;
/** A graph output format. */
export type GraphFormat = typeof GRAPH_FORMATS[number];

/**
 * Who can call whom: a `sync` edge for each SEND slot the module waits on for replies, `async`
 * for other SEND slots, `control` for every service's slot 1 to init (routing and health), and
 * `mmio` for device windows. Slots on a task's own endpoints (its reply inbox) are not calls.
 */
export function callEdges(m: SystemManifest, registry: ServiceRegistry): CallEdge[] {
  const needs = taskNeeds(m, registry);
  const edges: CallEdge[] = [];
  const tasks = [INIT_NAME, ...m.services.map((s) => s.name)];
  for (const task of tasks) {
    const slots = task === INIT_NAME ? m.init.slots : findService(m, task)!.slots;
    for (const s of slots) {
      const label = `${s.name} ${slotHex(s.slot)}`;
      if (s.target.kind === "mmio") {
        edges.push({ from: task, to: `mmio${s.target.window}`, label, kind: "mmio" });
        continue;
      }
      if ((s.rights & RIGHT_SEND) === 0) continue;
      const ep = findEndpoint(m, s.target.endpoint);
      if (!ep || ep.owner === task || !tasks.includes(ep.owner)) continue;
      const sync = needs.get(task)?.find((n: SlotNeed) => n.name === s.name)?.sync === true;
      edges.push({ from: task, to: ep.owner, label, kind: sync ? "sync" : "async" });
    }
    if (task !== INIT_NAME) {
      edges.push({ from: task, to: INIT_NAME, label: "RT/IH 0x01", kind: "control" });
    }
  }
  return edges;
}

/** The call graph in `format`, as text ending with a newline. */
export function renderGraph(
  m: SystemManifest,
  registry: ServiceRegistry,
  format: GraphFormat,
): string {
  const plan = graphPlan(m, registry);
  return (format === "dot" ? renderDot(plan) : renderMermaid(plan)).join("\n") + "\n";
}

/** What both graph formats draw. */
interface GraphPlan {
  /** init, then the services in start order. */
  tasks: string[];
  /** `mmio<n>` nodes. */
  windows: string[];
  /** A window's label, `mmio n: device`. */
  device: (id: string) => string;
  /** Services whose routing/health edge to init is drawn once, from their group. */
  grouped: Set<string>;
  /** The edges drawn one by one. */
  drawn: CallEdge[];
}

/** The label of the one edge from the group of services to init. */
const GROUP_LABEL = "RT/IH 0x01 from each";

function graphPlan(m: SystemManifest, registry: ServiceRegistry): GraphPlan {
  const edges = callEdges(m, registry);
  // Every service's routing/health line to init is one edge from the group of them, not one
  // converging line each; a single caller keeps its own edge.
  const callers = edges.filter((e) => e.kind === "control").map((e) => e.from);
  const grouped = callers.length > 1 ? new Set(callers) : new Set<string>();
  return {
    tasks: [INIT_NAME, ...m.services.map((s) => s.name)],
    windows: [...new Set(edges.filter((e) => e.kind === "mmio").map((e) => e.to))],
    device: (id: string) => {
      const n = Number(id.slice("mmio".length));
      return `mmio ${n}: ${m.mmio.find((w) => w.window === n)?.device ?? "undeclared"}`;
    },
    grouped,
    drawn: edges.filter((e) => !(e.kind === "control" && grouped.has(e.from))),
  };
}

function renderDot({ tasks, windows, device, grouped, drawn }: GraphPlan): string[] {
  const q = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  const style: Record<EdgeKind, string> = {
    sync: "style=bold",
    async: "style=solid",
    control: "style=dotted",
    mmio: "style=dashed",
  };
  const out: string[] = [];
  out.push("// bold: calls that wait for the reply; solid: one-way sends;");
  out.push("// dotted: routing/health requests to init; dashed: MMIO device windows");
  out.push("digraph nexus {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];');
  if (grouped.size > 0) out.push("  compound=true;");
  out.push(`  ${q(INIT_NAME)} [shape=doubleoctagon];`);
  if (grouped.size > 0) {
    out.push(`  subgraph cluster_services {`, `    label="services";`);
    for (const t of grouped) out.push(`    ${q(t)};`);
    out.push("  }");
  }
  for (const t of tasks.slice(1).filter((t) => !grouped.has(t))) out.push(`  ${q(t)};`);
  for (const w of windows) out.push(`  ${q(w)} [label=${q(device(w))}, shape=cylinder];`);
  for (const e of drawn) {
    out.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(e.label)}, ${style[e.kind]}];`);
  }
  if (grouped.size > 0) {
    const first = q([...grouped][0]);
    out.push(
      `  ${first} -> ${q(INIT_NAME)} [label=${
        q(GROUP_LABEL)
      }, ${style.control}, ltail=cluster_services];`,
    );
  }
  out.push("}");
  return out;
}

function renderMermaid({ tasks, windows, device, grouped, drawn }: GraphPlan): string[] {
  const ids = new Map<string, string>();
  [...tasks, ...windows].forEach((t, i) => ids.set(t, `n${i}`));
  const arrow: Record<EdgeKind, string> = {
    sync: "==>",
    async: "-->",
    control: "-.->",
    mmio: "-.->",
  };
  const text = (s: string) => s.replaceAll('"', "#quot;");
  const out: string[] = [];
  out.push("%% thick: calls that wait for the reply; plain: one-way sends;");
  out.push("%% dotted: routing/health requests to init and MMIO device windows");
  out.push("flowchart LR");
  out.push(`  ${ids.get(INIT_NAME)}{{"${INIT_NAME}"}}`);
  if (grouped.size > 0) {
    out.push(`  subgraph services["services"]`);
    for (const t of grouped) out.push(`    ${ids.get(t)}["${text(t)}"]`);
    out.push("  end");
  }
  for (const t of tasks.slice(1).filter((t) => !grouped.has(t))) {
    out.push(`  ${ids.get(t)}["${text(t)}"]`);
  }
  for (const w of windows) out.push(`  ${ids.get(w)}[("${text(device(w))}")]`);
  for (const e of drawn) {
    out.push(`  ${ids.get(e.from)} ${arrow[e.kind]}|"${text(e.label)}"| ${ids.get(e.to)}`);
  }
  if (grouped.size > 0) {
    out.push(`  services ${arrow.control}|"${GROUP_LABEL}"| ${ids.get(INIT_NAME)}`);
  }
  return out;
}

/**
 * The name of `slot` in `owner`'s table, from the manifest: the reserved slots by role
 * (`bootstrap`, `to init`, `control`), declared slots by name, `undeclared` otherwise.
 */
export function slotName(m: SystemManifest, owner: string | undefined, slot: number): string {
  if (slot === 0) return "bootstrap";
  if (slot === SLOT_CTRL_SEND) return "to init";
  if (slot === SLOT_CTRL_RECV) return "control";
  const slots = owner === INIT_NAME
    ? m.init.slots
    : owner
    ? findService(m, owner)?.slots
    : undefined;
  return slots?.find((s) => s.slot === slot)?.name ?? "undeclared";
}
