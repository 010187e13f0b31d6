/**
 * Check: the synchronous calls the modules declare (a call that waits for the reply) cannot
 * form a cycle, which could deadlock. Calls to init (routing and health, on the reserved slot 1)
 * are not in the graph: init never waits on a service that could call it back.
 *
 * @module
 */

import { findEndpoint } from "../manifest.ts";
import type { CheckContext } from "./context.ts";

/** A synchronous call edge: `from` waits on `to` through slot `slot`. */
export interface SyncEdge {
  from: string;
  to: string;
  slot: string;
}

/** SYNC_CYCLE for each cycle of the synchronous-call graph, one per component. */
export function checkSyncCycles(ctx: CheckContext): void {
  const nodes = ctx.tasks.map((t) => t.name);
  for (const cycle of syncCycles(nodes, syncEdges(ctx))) {
    const first = cycle[0];
    const path = cycle.map((e) => `${e.from} -(${e.slot})-> `).join("") + first.from;
    const decl = ctx.tasks.find((t) => t.name === first.from)?.slots.find((s) =>
      s.name === first.slot
    );
    ctx.push(
      "error",
      "SYNC_CYCLE",
      `synchronous calls form a cycle that can deadlock: ${path}`,
      `make one of these calls asynchronous (no wait for the reply) or remove a dependency`,
      { service: first.from, slot: first.slot, slotNumber: decl?.slot, line: decl?.line },
    );
  }
}

/** One edge per declared need marked `sync` whose slot reaches a task's endpoint. */
function syncEdges(ctx: CheckContext): SyncEdge[] {
  const edges: SyncEdge[] = [];
  for (const t of ctx.tasks) {
    for (const need of t.needs ?? []) {
      if (!need.sync) continue;
      const s = t.slots.find((x) => x.name === need.name);
      if (!s || s.target.kind !== "endpoint") continue;
      const ep = findEndpoint(ctx.m, s.target.endpoint);
      if (!ep || !ctx.isTaskName(ep.owner)) continue;
      edges.push({ from: t.name, to: ep.owner, slot: s.name });
    }
  }
  return edges;
}

/**
 * One cycle per strongly connected component of the synchronous-call graph that can deadlock
 * (more than one node, or a node calling itself), as the list of its edges starting from the
 * component's first node in `nodes` order. Deterministic for a given input order.
 */
export function syncCycles(nodes: readonly string[], edges: readonly SyncEdge[]): SyncEdge[][] {
  const order = (n: string) => nodes.indexOf(n);
  const cycles: SyncEdge[][] = [];
  for (const comp of stronglyConnected(nodes, edges)) {
    const start = [...comp].sort((a, b) => order(a) - order(b))[0];
    if (comp.length === 1) {
      const self = edges.find((e) => e.from === start && e.to === start);
      if (self) cycles.push([self]);
      continue;
    }
    const cycle = shortestCycle(start, new Set(comp), edges);
    if (cycle) cycles.push(cycle);
  }
  return cycles.sort((a, b) => order(a[0].from) - order(b[0].from));
}

/** The strongly connected components of the graph (Tarjan), visiting `nodes` in order. */
function stronglyConnected(nodes: readonly string[], edges: readonly SyncEdge[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comps: string[][] = [];
  let counter = 0;

  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const e of edges.filter((e) => e.from === v)) {
      if (!index.has(e.to)) {
        strong(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (onStack.has(e.to)) {
        low.set(v, Math.min(low.get(v)!, index.get(e.to)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      comps.push(comp);
    }
  };
  for (const n of nodes) if (!index.has(n)) strong(n);
  return comps;
}

/**
 * The shortest way from `start` back to itself inside `members`, as edges starting at `start`
 * (breadth-first, so it is deterministic and short); undefined when there is none.
 */
function shortestCycle(
  start: string,
  members: ReadonlySet<string>,
  edges: readonly SyncEdge[],
): SyncEdge[] | undefined {
  const prev = new Map<string, SyncEdge>();
  const queue = [start];
  let closing: SyncEdge | undefined;
  while (queue.length > 0 && !closing) {
    const v = queue.shift()!;
    for (const e of edges.filter((e) => e.from === v)) {
      if (!members.has(e.to)) continue;
      if (e.to === start) {
        closing = e;
        break;
      }
      if (!prev.has(e.to)) {
        prev.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  if (!closing) return undefined;
  const path: SyncEdge[] = [closing];
  let at = closing.from;
  while (at !== start) {
    const e = prev.get(at)!;
    path.unshift(e);
    at = e.from;
  }
  return path;
}
