/**
 * The static wiring check behind `nexus slots validate`: proves, before anything boots, that the
 * manifest gives every service the slots its module declares it needs, with the right kind and
 * rights, aimed at the right endpoint; that no slot is assigned twice or reuses a reserved
 * number; that every routed pair is granted by the policy; and that the synchronous calls the
 * modules declare cannot form a cycle (a deadlock).
 *
 * Conventions of the wiring plan the check relies on: `inbox` is RECV on the service's own
 * request endpoint (named after it); `reply` is SEND|RECV on an inbox the service owns; a slot
 * named after a declared service is SEND on that service's request endpoint; only an endpoint's
 * owner receives on it.
 *
 * Calls to init (routing and health, on the reserved slot 1) are not in the cycle graph: init
 * never waits on a service that could call it back (its route check has a deadline and its
 * messages to updated are answered on its own inbox).
 *
 * @module
 */

import type { ServiceModule, SlotNeed } from "../core/kernel/service.ts";
import { FIRST_SERVICE_SLOT, RIGHT_RECV, RIGHT_SEND } from "../core/kernel/types.ts";
import type { Diagnostic, DiagnosticCode } from "./diagnostic.ts";
import {
  findEndpoint,
  INIT_NAME,
  type ManifestLoad,
  rightsToString,
  rightsToToml,
  type SlotDecl,
  type SystemManifest,
} from "./manifest.ts";
import { initNeeds } from "./needs.ts";
import { didYouMean } from "./suggest.ts";
import { slotHex } from "../core/kernel/slot_check.ts";

/** The service modules by registry key (`services/mod.ts` SERVICES in the product). */
export type ServiceRegistry = Readonly<Record<string, ServiceModule>>;

/** The outcome of {@link validateManifest}. */
export interface ValidationReport {
  /** Manifest file. */
  file: string;
  /** Every problem, errors and warnings, in a stable order. */
  problems: Diagnostic[];
  errors: number;
  warnings: number;
  /** True when there is no error (warnings allowed). */
  valid: boolean;
}

/** Route grant capability for `target`. */
export function routeCap(target: string): string {
  return `route:${target}`;
}

/** One task's table as the validator sees it. */
interface TaskView {
  name: string;
  slots: SlotDecl[];
  /** Declared needs; undefined when the module is unknown. */
  needs?: readonly SlotNeed[];
  line?: number;
}

/** A synchronous call edge: `from` waits on `to` through slot `slot`. */
export interface SyncEdge {
  from: string;
  to: string;
  slot: string;
}

/** The needs of each task (init and the services), by task name; unknown modules are absent. */
export function taskNeeds(
  manifest: SystemManifest,
  registry: ServiceRegistry,
): Map<string, readonly SlotNeed[]> {
  const out = new Map<string, readonly SlotNeed[]>();
  out.set(INIT_NAME, initNeeds(manifest));
  for (const s of manifest.services) {
    const mod = Object.hasOwn(registry, s.module) ? registry[s.module] : undefined;
    if (mod) out.set(s.name, mod.requiredSlots);
  }
  return out;
}

/**
 * Checks `load` (the manifest and its loading diagnostics) against the services' declared needs
 * in `registry`. Never throws for a bad manifest: everything is a problem in the report.
 */
export function validateManifest(load: ManifestLoad, registry: ServiceRegistry): ValidationReport {
  const m = load.manifest;
  const problems: Diagnostic[] = [...load.diagnostics];
  const push = (
    severity: Diagnostic["severity"],
    code: DiagnosticCode,
    message: string,
    hint: string,
    where: Partial<Diagnostic>,
  ): void => {
    problems.push({ severity, code, message, hint, file: m.file, ...where });
  };

  const serviceNames = m.services.map((s) => s.name);
  const isTaskName = (n: string) => n === INIT_NAME || serviceNames.includes(n);
  const endpointNames = m.endpoints.map((e) => e.name);
  const needsByTask = taskNeeds(m, registry);

  const tasks: TaskView[] = [
    { name: INIT_NAME, slots: m.init.slots, needs: needsByTask.get(INIT_NAME), line: m.init.line },
  ];
  for (const s of m.services) {
    const mod = Object.hasOwn(registry, s.module) ? registry[s.module] : undefined;
    if (!mod) {
      push(
        "error",
        "UNKNOWN_MODULE",
        `${s.name} uses module "${s.module}", which is not a known service module${
          didYouMean(s.module, Object.keys(registry))
        }`,
        `set module to one of: ${Object.keys(registry).join(", ") || "(none registered)"}`,
        { service: s.name, line: s.line },
      );
    } else if (mod.name !== s.name) {
      push(
        "error",
        "MODULE_NAME_MISMATCH",
        `module "${s.module}" is the service "${mod.name}", but the manifest names it "${s.name}"`,
        `name the service "${mod.name}" (its name is its identity)`,
        { service: s.name, line: s.line },
      );
    }
    tasks.push({ name: s.name, slots: s.slots, needs: needsByTask.get(s.name), line: s.line });
  }

  for (const t of tasks) checkTask(t);

  // Endpoints: owner, and someone to receive what is sent.
  for (const ep of m.endpoints) {
    if (!isTaskName(ep.owner)) {
      push(
        "error",
        "UNKNOWN_OWNER",
        `endpoint "${ep.name}" is owned by "${ep.owner}", which is not a declared service${
          didYouMean(ep.owner, [INIT_NAME, ...serviceNames])
        }`,
        `set owner to the service that receives on it`,
        { service: ep.owner, line: ep.line },
      );
      continue;
    }
    const holders = tasks.flatMap((t) =>
      t.slots.filter((s) => s.target.kind === "endpoint" && s.target.endpoint === ep.name)
        .map((s) => ({ task: t.name, slot: s }))
    );
    const senders = holders.filter((h) => (h.slot.rights & RIGHT_SEND) !== 0);
    const receivers = holders.filter((h) => (h.slot.rights & RIGHT_RECV) !== 0);
    if (holders.length === 0) {
      push(
        "warning",
        "UNUSED_ENDPOINT",
        `endpoint "${ep.name}" is declared but no slot refers to it`,
        `remove the [[endpoint]] or give ${ep.owner} a slot on it`,
        { service: ep.owner, line: ep.line },
      );
    } else if (senders.length > 0 && receivers.length === 0) {
      push(
        "error",
        "NO_RECEIVER",
        `endpoint "${ep.name}" has senders (${
          senders.map((h) => `${h.task}.${h.slot.name}`).join(", ")
        }) but nobody receives on it`,
        `give ${ep.owner} a slot with rights ["recv"] on it (its inbox)`,
        { service: ep.owner, line: ep.line },
      );
    }
  }

  for (const w of m.mmio) {
    for (const svc of w.services) {
      if (!serviceNames.includes(svc)) {
        push(
          "error",
          "UNKNOWN_SUBJECT",
          `MMIO window ${w.window} is granted to "${svc}", which is not a declared service${
            didYouMean(svc, serviceNames)
          }`,
          `list only declared services in services = [...]`,
          { service: svc, line: w.line },
        );
      }
    }
  }

  checkPolicy();
  checkGrants();
  checkCycles();

  const errors = problems.filter((p) => p.severity === "error").length;
  return {
    file: m.file,
    problems,
    errors,
    warnings: problems.length - errors,
    valid: errors === 0,
  };

  function freeSlot(t: TaskView, avoid?: SlotDecl): number {
    const used = new Set(t.slots.filter((s) => s !== avoid).map((s) => s.slot));
    let n = FIRST_SERVICE_SLOT;
    while (used.has(n)) n++;
    return n;
  }

  function guessTarget(t: TaskView, need: SlotNeed): string {
    if (need.kind === "mmio") {
      const w = m.mmio.find((x) => x.services.includes(t.name)) ?? m.mmio[0];
      return `mmio = ${w?.window ?? 0}`;
    }
    if (need.name === "inbox") return `endpoint = "${t.name}"`;
    if (need.name === "reply") {
      const own = m.endpoints.find((e) => e.owner === t.name && e.name !== t.name);
      return `endpoint = "${own?.name ?? `${t.name}.reply`}"`;
    }
    return `endpoint = "${need.name}"`;
  }

  function tableOf(t: TaskView): string {
    return t.name === INIT_NAME ? "[init.slots]" : `[service.slots] of ${t.name}`;
  }

  function checkTask(t: TaskView): void {
    const byNumber = new Map<number, SlotDecl>();
    for (const s of t.slots) {
      const where: Partial<Diagnostic> = {
        service: t.name,
        slot: s.name,
        slotNumber: s.slot,
        line: s.line,
      };
      if (s.slot < FIRST_SERVICE_SLOT) {
        push(
          "error",
          "RESERVED_SLOT",
          `${s.name} uses reserved slot ${slotHex(s.slot)} (0 bootstrap, 1 to init, 2 from init)`,
          `move it to a free slot >= 3, e.g. slot = ${freeSlot(t, s)}`,
          where,
        );
      } else {
        const other = byNumber.get(s.slot);
        if (other) {
          push(
            "error",
            "DUPLICATE_SLOT",
            `slot ${
              slotHex(s.slot)
            } is assigned twice in ${t.name}: to ${other.name} and to ${s.name}`,
            `give ${s.name} a free slot, e.g. slot = ${freeSlot(t)}`,
            where,
          );
        } else byNumber.set(s.slot, s);
      }
      checkTarget(t, s, where);
      const need = t.needs?.find((n) => n.name === s.name);
      if (t.needs && !need) {
        push(
          "warning",
          "UNUSED_SLOT",
          `${t.name} declares slot ${s.name} but never uses it (not in its required slots)`,
          `remove it from ${tableOf(t)}, or add it to the module's requiredSlots if it is needed`,
          where,
        );
      }
      if (need) checkNeed(t, s, need, where);
    }
    for (const need of t.needs ?? []) {
      if (t.slots.some((s) => s.name === need.name)) continue;
      // A slot the loader rejected (already reported) is not "missing" a second time.
      if (load.diagnostics.some((d) => d.service === t.name && d.slot === need.name)) continue;
      push(
        "error",
        "MISSING_SLOT",
        `${t.name} needs slot ${need.name} (${need.use}) but the manifest gives it none`,
        `add ${need.name} = { slot = ${freeSlot(t)}, rights = ${rightsToToml(need.rights)}, ${
          guessTarget(t, need)
        } } to ${tableOf(t)}`,
        { service: t.name, slot: need.name, line: t.line },
      );
    }
  }

  function checkTarget(t: TaskView, s: SlotDecl, where: Partial<Diagnostic>): void {
    if (s.target.kind === "mmio") {
      const win = s.target.window;
      const decl = m.mmio.find((w) => w.window === win);
      if (!decl) {
        const known = m.mmio.map((w) => String(w.window));
        push(
          "error",
          "UNKNOWN_TARGET",
          `${s.name} maps MMIO window ${win}, which is not declared${
            known.length ? ` (declared: ${known.join(", ")})` : ""
          }`,
          known.length
            ? `set mmio = ${known[0]}, or declare [[mmio]] window = ${win}`
            : `declare [[mmio]] window = ${win}`,
          where,
        );
      } else if (!decl.services.includes(t.name)) {
        push(
          "error",
          "MMIO_NOT_GRANTED",
          `${s.name} maps MMIO window ${win} (${decl.device}), which is not granted to ${t.name}`,
          `add "${t.name}" to services of [[mmio]] window ${win}, or remove the slot`,
          where,
        );
      }
      return;
    }
    const name = s.target.endpoint;
    const ep = findEndpoint(m, name);
    if (!ep) {
      push(
        "error",
        "UNKNOWN_TARGET",
        `${s.name} targets endpoint "${name}", which is not declared${
          didYouMean(name, endpointNames)
        }`,
        isTaskName(name)
          ? `declare [[endpoint]] name = "${name}" owner = "${name}"`
          : `point it at a declared endpoint (${endpointNames.join(", ")})`,
        where,
      );
      return;
    }
    if (s.name === "inbox" && ep.name !== t.name) {
      push(
        "error",
        "WRONG_TARGET",
        `inbox must be ${t.name}'s own request endpoint "${t.name}", not "${ep.name}" (owned by ${ep.owner})`,
        findEndpoint(m, t.name)
          ? `set endpoint = "${t.name}"`
          : `declare [[endpoint]] name = "${t.name}" owner = "${t.name}" and point inbox at it`,
        where,
      );
    } else if (s.name === "reply" && (ep.owner !== t.name || ep.name === t.name)) {
      const own = m.endpoints.find((e) => e.owner === t.name && e.name !== t.name);
      push(
        "error",
        "WRONG_TARGET",
        `reply must be a reply inbox ${t.name} owns, not "${ep.name}" (owned by ${ep.owner})`,
        own
          ? `set endpoint = "${own.name}"`
          : `declare [[endpoint]] name = "${t.name}.reply" owner = "${t.name}" and point reply at it`,
        where,
      );
    } else if (isTaskName(s.name) && s.name !== t.name && ep.name !== s.name) {
      push(
        "error",
        "WRONG_TARGET",
        `slot ${s.name} is named after the service ${s.name} but targets endpoint "${ep.name}" (owned by ${ep.owner})`,
        `set endpoint = "${s.name}", or rename the slot after the service it reaches`,
        where,
      );
    } else if (s.name === t.name) {
      push(
        "error",
        "WRONG_TARGET",
        `slot ${s.name} is named after ${t.name} itself; a service reaches its own endpoint through inbox`,
        `remove the slot or rename it`,
        where,
      );
    }
    if ((s.rights & RIGHT_RECV) !== 0 && ep.owner !== t.name) {
      push(
        "error",
        "WRONG_RIGHTS",
        `${s.name} holds recv on "${ep.name}", owned by ${ep.owner}: only an endpoint's owner receives on it`,
        `drop "recv" from rights`,
        where,
      );
    }
  }

  function checkNeed(
    t: TaskView,
    s: SlotDecl,
    need: SlotNeed,
    where: Partial<Diagnostic>,
  ): void {
    if (s.target.kind !== need.kind) {
      const want = need.kind === "mmio" ? "an MMIO window (mmio = <window>)" : `an ${need.kind}`;
      push(
        "error",
        "WRONG_KIND",
        `${s.name} is ${
          s.target.kind === "mmio" ? "an MMIO window" : "an endpoint"
        }, but ${t.name} needs ${want} (${need.use})`,
        need.kind === "mmio" ? `write ${s.name} = { ..., mmio = <window> }` : `target an endpoint`,
        where,
      );
      return;
    }
    const missing = need.rights & ~s.rights;
    if (missing !== 0) {
      push(
        "error",
        "WRONG_RIGHTS",
        `${s.name} has rights ${rightsToString(s.rights)} but ${t.name} needs ${
          rightsToString(need.rights)
        } (${need.use}); missing ${rightsToString(missing)}`,
        `set rights = ${rightsToToml(need.rights)}`,
        where,
      );
      return;
    }
    const extra = s.rights & ~need.rights;
    if (extra !== 0) {
      push(
        "warning",
        "EXCESS_RIGHTS",
        `${s.name} grants ${rightsToString(extra)} beyond what ${t.name} needs (${
          rightsToString(need.rights)
        })`,
        `set rights = ${rightsToToml(need.rights)}`,
        where,
      );
    }
  }

  function checkPolicy(): void {
    const routable = new Map<string, Set<string>>();
    for (const g of m.grants) {
      if (!serviceNames.includes(g.subject)) {
        push(
          "error",
          "UNKNOWN_SUBJECT",
          `policy grant for "${g.subject}", which is not a declared service${
            didYouMean(g.subject, serviceNames)
          }`,
          `set subject to a declared service`,
          { service: g.subject, line: g.line },
        );
        continue;
      }
      for (const cap of g.caps) {
        if (!cap.startsWith("route:")) continue;
        const target = cap.slice("route:".length);
        if (!serviceNames.includes(target)) {
          push(
            "error",
            "UNKNOWN_TARGET",
            `grant "${cap}" for ${g.subject} names "${target}", which is not a declared service${
              didYouMean(target, serviceNames)
            }`,
            `fix the service name in "${cap}" or drop it`,
            { service: g.subject, line: g.line },
          );
          continue;
        }
        const set = routable.get(g.subject) ?? new Set<string>();
        set.add(target);
        routable.set(g.subject, set);
      }
    }
    for (const svc of m.services) {
      const reached = new Set<string>();
      for (const s of svc.slots) {
        if (s.target.kind !== "endpoint" || (s.rights & RIGHT_SEND) === 0) continue;
        const ep = findEndpoint(m, s.target.endpoint);
        if (!ep || ep.name !== ep.owner || ep.owner === svc.name) continue;
        if (!serviceNames.includes(ep.owner)) continue;
        reached.add(ep.owner);
        if (routable.get(svc.name)?.has(ep.owner)) continue;
        push(
          "error",
          "ROUTE_NOT_GRANTED",
          `${svc.name} holds send to ${ep.owner} (slot ${s.name}) but the policy does not grant ${svc.name} "${
            routeCap(ep.owner)
          }": routing it would be DENIED`,
          `add "${routeCap(ep.owner)}" to caps of the [[policy.grant]] for ${svc.name}`,
          { service: svc.name, slot: s.name, slotNumber: s.slot, line: s.line },
        );
      }
      for (const target of routable.get(svc.name) ?? []) {
        if (reached.has(target)) continue;
        const g = m.grants.find((x) => x.subject === svc.name && x.caps.includes(routeCap(target)));
        push(
          "warning",
          "GRANT_WITHOUT_SLOT",
          `${svc.name} is granted "${
            routeCap(target)
          }" but has no slot reaching ${target}: routing answers NOT_FOUND`,
          `add a ${target} slot to ${svc.name}, or drop the grant`,
          { service: svc.name, line: g?.line },
        );
      }
    }
  }

  /**
   * Every grant a service's needs declare (the peer checks it on the sender) must be given by a
   * [[policy.grant]] for that service: without it the peer answers DENIED at run time.
   */
  function checkGrants(): void {
    for (const svc of m.services) {
      const held = new Set(m.grants.filter((g) => g.subject === svc.name).flatMap((g) => g.caps));
      for (const need of needsByTask.get(svc.name) ?? []) {
        const s = svc.slots.find((x) => x.name === need.name);
        if (s === undefined) continue; // MISSING_SLOT says it already
        for (const cap of need.grants ?? []) {
          if (held.has(cap)) continue;
          push(
            "error",
            "GRANT_MISSING",
            `${svc.name} needs the grant "${cap}" for ${need.use} (slot ${need.name}) but the policy does not give it: the peer would refuse it as DENIED`,
            `add "${cap}" to caps of the [[policy.grant]] for ${svc.name}`,
            { service: svc.name, slot: s.name, slotNumber: s.slot, line: s.line },
          );
        }
      }
    }
  }

  function checkCycles(): void {
    const nodes = tasks.map((t) => t.name);
    const edges: SyncEdge[] = [];
    for (const t of tasks) {
      for (const need of t.needs ?? []) {
        if (!need.sync) continue;
        const s = t.slots.find((x) => x.name === need.name);
        if (!s || s.target.kind !== "endpoint") continue;
        const ep = findEndpoint(m, s.target.endpoint);
        if (!ep || !isTaskName(ep.owner)) continue;
        edges.push({ from: t.name, to: ep.owner, slot: s.name });
      }
    }
    for (const cycle of syncCycles(nodes, edges)) {
      const first = cycle[0];
      const path = cycle.map((e) => `${e.from} -(${e.slot})-> `).join("") + first.from;
      const decl = tasks.find((t) => t.name === first.from)?.slots.find((s) =>
        s.name === first.slot
      );
      push(
        "error",
        "SYNC_CYCLE",
        `synchronous calls form a cycle that can deadlock: ${path}`,
        `make one of these calls asynchronous (no wait for the reply) or remove a dependency`,
        { service: first.from, slot: first.slot, slotNumber: decl?.slot, line: decl?.line },
      );
    }
  }
}

/**
 * One cycle per strongly connected component of the synchronous-call graph that can deadlock
 * (more than one node, or a node calling itself), as the list of its edges starting from the
 * component's first node in `nodes` order. Deterministic for a given input order.
 */
export function syncCycles(nodes: readonly string[], edges: readonly SyncEdge[]): SyncEdge[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comps: string[][] = [];
  let counter = 0;
  const out = (n: string) => edges.filter((e) => e.from === n);

  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const e of out(v)) {
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

  const cycles: SyncEdge[][] = [];
  const order = (n: string) => nodes.indexOf(n);
  for (const comp of comps) {
    const members = new Set(comp);
    const start = [...comp].sort((a, b) => order(a) - order(b))[0];
    const self = edges.find((e) => e.from === start && e.to === start);
    if (comp.length === 1) {
      if (self) cycles.push([self]);
      continue;
    }
    // Shortest way back to `start` inside the component (BFS keeps it deterministic and short).
    const prev = new Map<string, SyncEdge>();
    const queue = [start];
    let closing: SyncEdge | undefined;
    while (queue.length > 0 && !closing) {
      const v = queue.shift()!;
      for (const e of out(v)) {
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
    if (!closing) continue;
    const path: SyncEdge[] = [closing];
    let at = closing.from;
    while (at !== start) {
      const e = prev.get(at)!;
      path.unshift(e);
      at = e.from;
    }
    cycles.push(path);
  }
  return cycles.sort((a, b) => order(a[0].from) - order(b[0].from));
}
