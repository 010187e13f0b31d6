/**
 * The test rig for services: it boots service modules on a real {@link Kernel}, wired from the
 * system manifest exactly as init wires them, plus client tasks that talk to them, and collects
 * the console. Used by every service's tests.
 *
 * Wiring comes from the manifest (the product's `images/system.toml` unless a test passes its
 * own, see {@link RigOptions.manifest}), so a test cannot pass on a wiring the product would not
 * build:
 * - a service module is wired from the manifest's `[[service]]` entry of the same name; one the
 *   manifest does not declare, or whose required slots it does not declare, is refused;
 * - every slot the entry declares is placed at its declared number with its declared rights, on
 *   its declared target: an endpoint (created for its owner with the declared depth) or an MMIO
 *   window. `env.slots` holds every declared slot, as init hands it over;
 * - a slot aimed at an endpoint whose owner is not booted stays empty, so a test boots only the
 *   peers it needs (or {@link FakePeer}s standing in for them, under the same names);
 * - slot 0 is the bootstrap endpoint, slot 1 SEND to the rig's stand-in init (it answers `RT`
 *   ROUTE_GET from the sender's declared slots and `IH` HEALTH_OK, see {@link InitOptions}),
 *   slot 2 RECV on the task's own control inbox.
 *
 * `rig_init_test.ts` holds the rig to that: booted by the rig and by init from the shipped
 * manifest, every product service finds the same capability table.
 *
 * A test may deviate on purpose, to provoke a failure the product must survive:
 * {@link RigService.slots} moves a slot, {@link RigService.omit} leaves a cap out (its number
 * still appears in `env.slots`), {@link RigService.rights} places other rights.
 *
 * Clients are test tasks outside the manifest: each gets `reply` plus SEND to every booted service
 * (or the ones in {@link RigClient.peers}), numbered from 3 upward unless given.
 *
 * The run has two parts: the kernel runs until every client body has returned (or nothing can
 * progress, which is reported as a deadlock with the task table), then up to
 * {@link RigOptions.settleSteps} more steps let servers finish work already queued (such as
 * fire-and-forget audit records). A client that throws, a task that panics, a deadlock or an
 * exhausted step budget fail the run with a {@link RigError} carrying the console tail.
 *
 * @module
 */

import { Kernel, type RunResult } from "../../core/kernel/kernel.ts";
import type { ConsoleLine } from "../../core/kernel/console.ts";
import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { readHeader } from "../../core/kernel/frame.ts";
import { type Handler, serve } from "../../core/kernel/rpc.ts";
import type { ServiceModule } from "../../core/kernel/service.ts";
import {
  CAP_SLOTS,
  FIRST_SERVICE_SLOT,
  type Message,
  type MmioDevice,
  type PhysMemory,
  RIGHT_RECV,
  RIGHT_SEND,
  SLOT_CTRL_RECV,
  SLOT_CTRL_SEND,
  type Syscalls,
  type Tracer,
} from "../../core/kernel/types.ts";
import {
  decodeHealthOk,
  decodeRouteGet,
  encodeHealthReply,
  encodeRouteReply,
  IH_FAILED,
  IH_MAGIC,
  IH_OK,
  REPLY_ROUTE_NAME,
  RT_DENIED,
  RT_MALFORMED,
  RT_NOT_FOUND,
  RT_OK,
} from "../../core/kernel/init_protocol.ts";
import {
  DEFAULT_MANIFEST_PATH,
  findEndpoint,
  findService,
  INIT_NAME,
  loadManifest,
  requireLoadable,
  type ServiceDecl,
  type SystemManifest,
} from "../../init/mod.ts";

/** Queue depth of a fake peer's or client's endpoint the manifest does not declare. */
export const DEFAULT_INBOX_DEPTH = 16;
/** Queue depth of a client's reply inbox and of every control inbox. */
export const DEFAULT_REPLY_DEPTH = 4;

/** A real service module booted by the rig. */
export interface RigService {
  /** The module under test (or a real peer); the manifest must declare a service of its name. */
  module: ServiceModule;
  /** `env.config` for it. */
  config?: Record<string, unknown>;
  /** Slot numbers that replace the manifest's, by slot name (a deliberate miswiring). */
  slots?: Record<string, number>;
  /** Declared slots whose cap is left out (their number still appears in `env.slots`). */
  omit?: string[];
  /** Rights to place instead of the declared ones, by slot name (to provoke rights problems). */
  rights?: Record<string, number>;
  /** MMIO window to place instead of the declared one, by slot name. */
  mmioWindows?: Record<string, number>;
  /** Queue depth of its request endpoint instead of the declared one. */
  inboxDepth?: number;
}

/** A hand-written peer: a task that serves `handler` on its own request endpoint. */
export interface FakePeer {
  /**
   * Task name (and so identity). It owns the endpoint of the same name, so the slots the
   * manifest aims at that endpoint reach it, and clients reach it under this name.
   */
  name: string;
  /** Answers each request (see core/kernel/rpc.ts `serve`). */
  handler: (request: Message, sys: Syscalls) => ReturnType<Handler>;
  /** Queue depth of its request endpoint (default: the declared depth, else 16). */
  inboxDepth?: number;
}

/** A client task. */
export interface RigClient {
  /** Task name; gives the client its identity (policy is keyed on it). Default "client". */
  name?: string;
  /** Services (by name) it gets a SEND cap to; default every service and fake peer. */
  peers?: string[];
  /** Slot numbers by slot name (`reply` or a peer); others from 3 upward. */
  slots?: Record<string, number>;
  /** The client's body; `slots` maps `reply` and each peer name to a slot number. */
  body: (sys: Syscalls, slots: Readonly<Record<string, number>>) => Promise<void>;
}

/** A route the stand-in init answered. */
export interface RouteRecord {
  /** Name of the asking task. */
  sender: string;
  /** Name asked for. */
  name: string;
  /** RT status answered (0 OK, 1 NOT_FOUND, 2 MALFORMED, 3 DENIED). */
  status: number;
}

/** Behaviour of the stand-in init. */
export interface InitOptions {
  /**
   * Decides whether `sender` may route to `name` (the real init asks policyd); default: allowed.
   * Only consulted when the wiring has such a route.
   */
  allowRoute?: (sender: string, name: string) => boolean;
  /** Status answered to `IH` HEALTH_OK (0 OK, 1 FAILED); default 0. */
  healthStatus?: number;
}

/** Options for {@link bootServices}. */
export interface RigOptions {
  /** Services and fake peers, in start order. */
  services: Array<RigService | FakePeer>;
  /** Client tasks, started after every service. */
  clients?: RigClient[];
  /** The manifest services are wired from; default the product's (`images/system.toml`). */
  manifest?: SystemManifest;
  /** Boot seed handed to every service. Default 1. */
  seed?: number;
  /** The stand-in init; `false` leaves slots 1 and 2 empty (needed to run a client named "init"). */
  init?: InitOptions | false;
  /** Devices to attach, by MMIO window. */
  mmio?: Array<{ window: number; device: MmioDevice }>;
  /** Guest memory for DMA (needed by MMIO drivers). */
  memory?: PhysMemory;
  /** Syscall tracer. */
  tracer?: Tracer;
  /** Scheduling steps allowed until every client is done. Default 200,000. */
  maxSteps?: number;
  /** Steps allowed after the clients are done, to drain queued work. Default 2,000. */
  settleSteps?: number;
  /** Do not fail on `panic:` console lines (tests that expect a crash). */
  allowPanics?: boolean;
}

/** What a rig run produced. */
export interface RigResult {
  /** The kernel, for further inspection (task table, more runs). */
  kernel: Kernel;
  /** Console lines with time and pid. */
  console: ConsoleLine[];
  /** Console texts only. */
  lines: string[];
  /** Slot numbers of every task, by task name then slot name. */
  slots: Record<string, Record<string, number>>;
  /** Pid of every task, by name. */
  pids: Record<string, number>;
  /** Routes the stand-in init answered, in order. */
  routes: RouteRecord[];
  /** Names of the tasks that sent `IH` HEALTH_OK, in order. */
  health: string[];
  /** How the last kernel run ended. */
  run: RunResult;
}

/** A rig run that did not complete as a test expects, or a wiring the rig refuses to build. */
export class RigError extends Error {
  /** Creates an error; `lines` is the console at the time. */
  constructor(message: string, readonly lines: string[], options?: { cause?: unknown }) {
    super(`${message}\n--- console (last 40 lines) ---\n${lines.slice(-40).join("\n")}`, options);
    this.name = "RigError";
  }
}

let productManifest: Promise<SystemManifest> | undefined;

/** The product's manifest, loaded once per test process. */
export function defaultManifest(): Promise<SystemManifest> {
  productManifest ??= loadManifest(DEFAULT_MANIFEST_PATH).then(requireLoadable);
  return productManifest;
}

/** One booted task as the stand-in init and the clients see it. */
interface Wiring {
  name: string;
  pid: number;
  /** Endpoint clients and peers send to (services and fake peers). */
  endpoint?: number;
  /** Slot numbers by slot name, as the task's `env.slots` (or a client's `slots`) holds them. */
  slots: Record<string, number>;
  /** Routable names (endpoint names) -> the slot holding SEND to that endpoint, where placed. */
  routes: Map<string, number>;
}

function isFake(s: RigService | FakePeer): s is FakePeer {
  return "handler" in s;
}

function checkSlotNumber(name: string, slot: number): void {
  if (!Number.isInteger(slot) || slot < FIRST_SERVICE_SLOT || slot >= CAP_SLOTS) {
    throw new RigError(
      `slot ${name} = ${slot}: must be ${FIRST_SERVICE_SLOT}..${CAP_SLOTS - 1}`,
      [],
    );
  }
}

/** Assigns client slot numbers: fixed ones first, then from 3 upward skipping taken ones. */
function assignSlots(names: string[], fixed: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const taken = new Set<number>([0, SLOT_CTRL_SEND, SLOT_CTRL_RECV]);
  for (const name of names) {
    const slot = fixed[name];
    if (slot === undefined) continue;
    checkSlotNumber(name, slot);
    if (taken.has(slot)) throw new RigError(`slot ${slot} given twice (${name})`, []);
    out[name] = slot;
    taken.add(slot);
  }
  let next = FIRST_SERVICE_SLOT;
  for (const name of names) {
    if (out[name] !== undefined) continue;
    while (taken.has(next)) next++;
    out[name] = next;
    taken.add(next);
  }
  return out;
}

/**
 * A service's slot numbers: the manifest's, with the test's deliberate moves applied. Refuses a
 * module whose required slots the manifest does not declare (the product validator would too).
 */
function serviceSlots(m: SystemManifest, s: RigService): {
  decl: ServiceDecl;
  slots: Record<string, number>;
} {
  const name = s.module.name;
  const decl = findService(m, name);
  if (decl === undefined) {
    throw new RigError(`the manifest (${m.file}) declares no service "${name}"`, []);
  }
  for (const need of s.module.requiredSlots) {
    const d = decl.slots.find((x) => x.name === need.name);
    if (d === undefined) {
      throw new RigError(
        `the manifest (${m.file}) declares no slot "${need.name}" for ${name}, which requires it`,
        [],
      );
    }
    if ((d.target.kind === "mmio") !== (need.kind === "mmio")) {
      throw new RigError(`slot ${need.name} of ${name}: the manifest declares another kind`, []);
    }
  }
  const slots: Record<string, number> = {};
  for (const d of decl.slots) slots[d.name] = d.slot;
  for (const [slotName, slot] of Object.entries(s.slots ?? {})) {
    if (!(slotName in slots)) {
      throw new RigError(`slot ${slotName}: ${name} declares no such slot`, []);
    }
    checkSlotNumber(slotName, slot);
    slots[slotName] = slot;
  }
  const seen = new Map<number, string>();
  for (const [slotName, slot] of Object.entries(slots)) {
    const other = seen.get(slot);
    if (other !== undefined) {
      throw new RigError(`slot ${slot} given twice (${other} and ${slotName} of ${name})`, []);
    }
    seen.set(slot, slotName);
  }
  return { decl, slots };
}

/** Boots `opts.services` and runs `opts.clients` against them; see the module documentation. */
export async function bootServices(opts: RigOptions): Promise<RigResult> {
  const m = opts.manifest ?? await defaultManifest();
  const kernel = new Kernel({ memory: opts.memory, tracer: opts.tracer });
  const seed = opts.seed ?? 1;
  const lines = () => kernel.console.lines().map((l) => l.text);
  const clients = opts.clients ?? [];
  const names = [
    ...(opts.init === false ? [] : [INIT_NAME]),
    ...opts.services.map((s) => isFake(s) ? s.name : s.module.name),
    ...clients.map((c) => c.name ?? "client"),
  ];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new RigError(`two tasks named "${name}"`, []);
    seen.add(name);
  }
  for (const { window, device } of opts.mmio ?? []) kernel.attachMmio(window, device);

  const wiring = new Map<string, Wiring>();
  const byIdentity = new Map<bigint, Wiring>();
  /** Endpoint name -> kernel endpoint id, for every endpoint created so far. */
  const endpoints = new Map<string, number>();
  const routes: RouteRecord[] = [];
  const health: string[] = [];
  const register = (w: Wiring) => {
    wiring.set(w.name, w);
    byIdentity.set(fnv1a64(w.name), w);
  };

  // The stand-in init comes first, as in a real boot.
  let initEndpoint: number | undefined;
  if (opts.init !== false) {
    const initOpts = opts.init ?? {};
    const handler = (req: Message) => answerInit(req, byIdentity, initOpts, routes, health);
    const pid = kernel.spawn(INIT_NAME, (sys) => serve(sys, SLOT_CTRL_RECV, handler));
    initEndpoint = kernel.createEndpoint(pid, DEFAULT_INBOX_DEPTH);
    kernel.placeCap(pid, SLOT_CTRL_RECV, {
      kind: "endpoint",
      endpointId: initEndpoint,
      rights: RIGHT_SEND | RIGHT_RECV,
    });
    register({ name: INIT_NAME, pid, endpoint: initEndpoint, slots: {}, routes: new Map() });
  }

  const placeControl = (pid: number) => {
    if (initEndpoint === undefined) return;
    kernel.placeCap(pid, SLOT_CTRL_SEND, {
      kind: "endpoint",
      endpointId: initEndpoint,
      rights: RIGHT_SEND,
    });
    const ctrl = kernel.createEndpoint(pid, DEFAULT_REPLY_DEPTH);
    kernel.placeCap(pid, SLOT_CTRL_RECV, {
      kind: "endpoint",
      endpointId: ctrl,
      rights: RIGHT_RECV,
    });
  };

  // Spawn every service first, creating the endpoints each owns, so every slot's target exists
  // before any cap is placed (init defers such slots; the result is the same).
  const decls = new Map<string, { decl: ServiceDecl; service: RigService }>();
  for (const s of opts.services) {
    if (isFake(s)) {
      const inbox = FIRST_SERVICE_SLOT;
      const pid = kernel.spawn(s.name, (sys) => serve(sys, inbox, (req) => s.handler(req, sys)));
      const depth = s.inboxDepth ?? findEndpoint(m, s.name)?.depth ?? DEFAULT_INBOX_DEPTH;
      const endpoint = kernel.createEndpoint(pid, depth);
      endpoints.set(s.name, endpoint);
      kernel.placeCap(pid, inbox, { kind: "endpoint", endpointId: endpoint, rights: RIGHT_RECV });
      register({ name: s.name, pid, endpoint, slots: { inbox }, routes: new Map() });
      placeControl(pid);
      continue;
    }
    const mod = s.module;
    const { decl, slots } = serviceSlots(m, s);
    decls.set(mod.name, { decl, service: s });
    const env = {
      slots: Object.freeze({ ...slots }),
      seed,
      config: Object.freeze({ ...s.config }),
    };
    const pid = kernel.spawn(mod.name, (sys) => mod.main(sys, env));
    for (const ep of m.endpoints) {
      if (ep.owner !== mod.name) continue;
      const depth = ep.name === mod.name ? s.inboxDepth ?? ep.depth : ep.depth;
      endpoints.set(ep.name, kernel.createEndpoint(pid, depth));
    }
    register({ name: mod.name, pid, endpoint: endpoints.get(mod.name), slots, routes: new Map() });
  }

  // Now place each service's declared caps.
  for (const { decl, service } of decls.values()) {
    const w = wiring.get(decl.name)!;
    placeControl(w.pid);
    const omit = new Set(service.omit ?? []);
    for (const d of decl.slots) {
      if (omit.has(d.name)) continue;
      const slot = w.slots[d.name];
      const rights = service.rights?.[d.name] ?? d.rights;
      if (d.target.kind === "mmio") {
        const window = service.mmioWindows?.[d.name] ?? d.target.window;
        kernel.placeCap(w.pid, slot, { kind: "mmio", window, rights });
        continue;
      }
      const endpointId = endpoints.get(d.target.endpoint);
      if (endpointId === undefined) continue; // its owner is not booted
      kernel.placeCap(w.pid, slot, { kind: "endpoint", endpointId, rights });
      if ((d.rights & RIGHT_SEND) !== 0) w.routes.set(d.target.endpoint, slot);
    }
  }

  // Clients last.
  let done = 0;
  const failures: Array<{ name: string; err: unknown }> = [];
  const serviceNames = opts.services.map((s) => isFake(s) ? s.name : s.module.name);
  for (const c of clients) {
    const name = c.name ?? "client";
    const peers = c.peers ?? serviceNames;
    for (const p of peers) {
      if (!serviceNames.includes(p)) {
        throw new RigError(`client ${name} names unknown peer "${p}"`, []);
      }
    }
    const slots = assignSlots(["reply", ...peers], c.slots);
    const frozen = Object.freeze({ ...slots });
    const pid = kernel.spawn(name, async (sys) => {
      try {
        await c.body(sys, frozen);
      } catch (err) {
        failures.push({ name, err });
      } finally {
        done++;
      }
    });
    const w: Wiring = {
      name,
      pid,
      slots,
      routes: new Map(peers.map((p) => [p, slots[p]])),
    };
    register(w);
    placeControl(pid);
    const inbox = kernel.createEndpoint(pid, DEFAULT_REPLY_DEPTH);
    kernel.placeCap(pid, slots.reply, {
      kind: "endpoint",
      endpointId: inbox,
      rights: RIGHT_SEND | RIGHT_RECV,
    });
    for (const p of peers) {
      const endpointId = wiring.get(p)!.endpoint;
      if (endpointId === undefined) {
        throw new RigError(`client ${name}: ${p} has no endpoint named "${p}" to send to`, []);
      }
      kernel.placeCap(pid, slots[p], { kind: "endpoint", endpointId, rights: RIGHT_SEND });
    }
  }

  let run = await kernel.run({
    shouldStop: () => done === clients.length,
    maxSteps: opts.maxSteps ?? 200_000,
  });
  if (done < clients.length) {
    const why = run.reason === "max-steps"
      ? `step budget exhausted after ${run.steps} steps`
      : `nothing can progress (${run.reason})`;
    const table = kernel.taskList().map((t) =>
      `  ${t.pid} ${t.name} ${t.state}${
        t.blockedOn ? ` on ${t.blockedOn.op} slot ${t.blockedOn.slot} (${t.blockedOn.peer})` : ""
      }`
    );
    throw new RigError(`clients did not finish: ${why}\n${table.join("\n")}`, lines());
  }
  run = await kernel.run({ maxSteps: opts.settleSteps ?? 2_000 });

  const all = kernel.console.lines();
  const texts = all.map((l) => l.text);
  if (failures.length > 0) {
    const { name, err } = failures[0];
    const msg = err instanceof Error ? err.message : String(err);
    throw new RigError(`client ${name} failed: ${msg}`, texts, { cause: err });
  }
  if (!opts.allowPanics) {
    const panic = texts.find((t) => t.startsWith("panic:"));
    if (panic) throw new RigError(`a task panicked: ${panic}`, texts);
  }
  const slots: Record<string, Record<string, number>> = {};
  const pids: Record<string, number> = {};
  for (const w of wiring.values()) {
    slots[w.name] = { ...w.slots };
    pids[w.name] = w.pid;
  }
  return { kernel, console: all, lines: texts, slots, pids, routes, health, run };
}

/** Options for {@link runService}: one module under test, its peers and one client. */
export interface RunServiceOptions {
  /** Slot numbers that replace the manifest's for the module under test. */
  slots?: Record<string, number>;
  /** `env.config` for the module under test. */
  config?: Record<string, unknown>;
  /** Declared slots of the module under test left empty. */
  omit?: string[];
  /** Rights overrides for the module under test. */
  rights?: Record<string, number>;
  /** MMIO windows for the module under test. */
  mmioWindows?: Record<string, number>;
  /** Peers booted before it (real modules or fakes), in start order. */
  peers?: Array<RigService | FakePeer>;
  /** The client body (optional: a boot alone tests the startup lines). */
  client?: RigClient["body"];
  /** Client task name (identity). Default "client". */
  clientName?: string;
  /** See {@link RigOptions.manifest}. */
  manifest?: SystemManifest;
  /** See {@link RigOptions.seed}. */
  seed?: number;
  /** See {@link RigOptions.init}. */
  init?: InitOptions | false;
  /** See {@link RigOptions.mmio}. */
  mmio?: RigOptions["mmio"];
  /** See {@link RigOptions.memory}. */
  memory?: PhysMemory;
  /** See {@link RigOptions.allowPanics}. */
  allowPanics?: boolean;
  /** See {@link RigOptions.maxSteps}. */
  maxSteps?: number;
}

/**
 * Boots `module` (after its peers) and runs one client against it. The client's `slots` hold
 * `reply` and one SEND slot per booted service, named after it (so `slots[module.name]` reaches
 * the module under test).
 */
export function runService(
  module: ServiceModule,
  opts: RunServiceOptions = {},
): Promise<RigResult> {
  return bootServices({
    services: [
      ...(opts.peers ?? []),
      {
        module,
        config: opts.config,
        slots: opts.slots,
        omit: opts.omit,
        rights: opts.rights,
        mmioWindows: opts.mmioWindows,
      },
    ],
    clients: opts.client ? [{ name: opts.clientName, body: opts.client }] : [],
    manifest: opts.manifest,
    seed: opts.seed,
    init: opts.init,
    mmio: opts.mmio,
    memory: opts.memory,
    allowPanics: opts.allowPanics,
    maxSteps: opts.maxSteps,
  });
}

// ---- the stand-in init's RT/IH answers (codecs from core/kernel/init_protocol.ts) ----

function answerInit(
  req: Message,
  byIdentity: Map<bigint, Wiring>,
  opts: InitOptions,
  routes: RouteRecord[],
  health: string[],
): Uint8Array | null {
  const sender = byIdentity.get(req.senderServiceId);
  if (readHeader(req.data)?.magic === IH_MAGIC) {
    const h = decodeHealthOk(req.data);
    if (h.kind === "malformed") return encodeHealthReply(IH_FAILED);
    health.push(sender?.name ?? "?");
    return encodeHealthReply(opts.healthStatus ?? IH_OK, h.nonce);
  }
  const r = decodeRouteGet(req.data);
  if (r.kind === "malformed") return encodeRouteReply(RT_MALFORMED, 0, 0);
  const answer = (status: number, send = 0, recv = 0) => {
    routes.push({ sender: sender?.name ?? "?", name: r.name, status });
    return encodeRouteReply(status, send, recv, r.nonce);
  };
  if (sender === undefined) return answer(RT_NOT_FOUND);
  const reply = sender.slots.reply;
  if (r.name === REPLY_ROUTE_NAME) {
    return reply === undefined ? answer(RT_NOT_FOUND) : answer(RT_OK, reply, reply);
  }
  // Like init: a route is a placed SEND slot on the endpoint of that name.
  const route = sender.routes.get(r.name);
  if (route === undefined) return answer(RT_NOT_FOUND);
  if (opts.allowRoute && !opts.allowRoute(sender.name, r.name)) return answer(RT_DENIED);
  return answer(RT_OK, route, reply ?? 0);
}
