/**
 * A test harness that boots service modules on a real {@link Kernel}, wired the way the system
 * wiring plan (and init) wires them, plus client tasks that talk to them; it collects the
 * console. Used by every service's tests.
 *
 * Wiring, per task (service or client):
 * - slot 0: the bootstrap endpoint the kernel gives every task;
 * - slot 1: SEND to the harness's stand-in init (it answers `RT` ROUTE_GET and `IH` HEALTH_OK,
 *   see {@link InitOptions}); slot 2: RECV on the task's own control inbox;
 * - each slot a service module requires, by name: `inbox` = its own request endpoint (with the
 *   rights the module asks for), `reply` = its own reply inbox (SEND|RECV), a name of another
 *   booted service (or fake peer) = SEND to that peer's endpoint, an `mmio` need = the MMIO
 *   window given in {@link HarnessService.mmioWindows} (window 0 by default);
 * - a client gets `reply` plus SEND to every service (or the ones in {@link HarnessClient.peers}).
 *
 * Slot numbers come from {@link HarnessService.slots} or are assigned from 3 upward in the order
 * of the module's needs; `env.slots` always names every required slot (even an
 * {@link HarnessService.omit}ted one, whose cap is simply not placed), so slot-check failures can
 * be provoked on purpose.
 *
 * The run has two parts: the kernel runs until every client body has returned (or nothing can
 * progress, which is reported as a deadlock with the task table), then up to
 * {@link HarnessOptions.settleSteps} more steps let servers finish work already queued (such as
 * fire-and-forget audit records). A client that throws, a task that panics, a deadlock or an
 * exhausted step budget fail the run with a {@link HarnessError} carrying the console tail.
 *
 * @module
 */

import { Kernel, type RunResult } from "../core/kernel/kernel.ts";
import type { ConsoleLine } from "../core/kernel/console.ts";
import { fnv1a64 } from "../core/kernel/fnv.ts";
import { readHeader } from "../core/kernel/frame.ts";
import { type Handler, serve } from "../core/kernel/rpc.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
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
} from "../core/kernel/types.ts";
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
} from "../core/kernel/init_protocol.ts";

/** Name of the harness's stand-in init task (and the identity init has in the system). */
export const INIT_NAME = "init";

/** Default queue depth of a service's request endpoint. */
export const DEFAULT_INBOX_DEPTH = 16;
/** Default queue depth of a reply inbox and a control inbox. */
export const DEFAULT_REPLY_DEPTH = 4;

/** A real service module booted by the harness. */
export interface HarnessService {
  /** The module under test (or a real peer). */
  module: ServiceModule;
  /** `env.config` for it. */
  config?: Record<string, unknown>;
  /** Slot numbers by slot name; needs not listed here get numbers from 3 upward. */
  slots?: Record<string, number>;
  /** Required slots whose cap is left out (their number still appears in `env.slots`). */
  omit?: string[];
  /** Rights to place instead of the required ones, by slot name (to provoke rights problems). */
  rights?: Record<string, number>;
  /** MMIO window for each `mmio` need, by slot name (default window 0). */
  mmioWindows?: Record<string, number>;
  /** Queue depth of its request endpoint. */
  inboxDepth?: number;
}

/** A hand-written peer: a task that serves `handler` on its own request endpoint. */
export interface FakePeer {
  /** Task name (and so identity), and the slot name clients use to reach it. */
  name: string;
  /** Answers each request (see core/kernel/rpc.ts `serve`). */
  handler: (request: Message, sys: Syscalls) => ReturnType<Handler>;
  /** Queue depth of its request endpoint. */
  inboxDepth?: number;
}

/** A client task. */
export interface HarnessClient {
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
export interface HarnessOptions {
  /** Services and fake peers, in start order. */
  services: Array<HarnessService | FakePeer>;
  /** Client tasks, started after every service. */
  clients?: HarnessClient[];
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

/** What a harness run produced. */
export interface HarnessResult {
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

/** A harness run that did not complete as a test expects. */
export class HarnessError extends Error {
  /** Creates an error; `lines` is the console at the time. */
  constructor(message: string, readonly lines: string[], options?: { cause?: unknown }) {
    super(`${message}\n--- console (last 40 lines) ---\n${lines.slice(-40).join("\n")}`, options);
    this.name = "HarnessError";
  }
}

interface Wiring {
  name: string;
  pid: number;
  /** Endpoint clients and peers send to (services and fake peers). */
  endpoint?: number;
  slots: Record<string, number>;
  /** Slot names that hold SEND to another task's endpoint (routable). */
  peers: Set<string>;
}

function isFake(s: HarnessService | FakePeer): s is FakePeer {
  return "handler" in s;
}

/** Assigns numbers: fixed ones first, then from 3 upward skipping taken ones. */
function assignSlots(names: string[], fixed: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const taken = new Set<number>([0, SLOT_CTRL_SEND, SLOT_CTRL_RECV]);
  for (const name of names) {
    const slot = fixed[name];
    if (slot === undefined) continue;
    if (!Number.isInteger(slot) || slot < FIRST_SERVICE_SLOT || slot >= CAP_SLOTS) {
      throw new HarnessError(
        `slot ${name} = ${slot}: must be ${FIRST_SERVICE_SLOT}..${CAP_SLOTS - 1}`,
        [],
      );
    }
    if (taken.has(slot)) throw new HarnessError(`slot ${slot} given twice (${name})`, []);
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

/** Boots `opts.services` and runs `opts.clients` against them; see the module documentation. */
export async function bootServices(opts: HarnessOptions): Promise<HarnessResult> {
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
    if (seen.has(name)) throw new HarnessError(`two tasks named "${name}"`, []);
    seen.add(name);
  }
  for (const { window, device } of opts.mmio ?? []) kernel.attachMmio(window, device);

  const wiring = new Map<string, Wiring>();
  const byIdentity = new Map<bigint, Wiring>();
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
    register({ name: INIT_NAME, pid, endpoint: initEndpoint, slots: {}, peers: new Set() });
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

  // Spawn every service first so each has a pid and an endpoint before any wiring refers to it.
  const envSlots = new Map<string, Record<string, number>>();
  for (const s of opts.services) {
    if (isFake(s)) {
      const inbox = FIRST_SERVICE_SLOT;
      const pid = kernel.spawn(s.name, (sys) => serve(sys, inbox, (req) => s.handler(req, sys)));
      const endpoint = kernel.createEndpoint(pid, s.inboxDepth ?? DEFAULT_INBOX_DEPTH);
      kernel.placeCap(pid, inbox, { kind: "endpoint", endpointId: endpoint, rights: RIGHT_RECV });
      register({ name: s.name, pid, endpoint, slots: { inbox }, peers: new Set() });
      placeControl(pid);
      continue;
    }
    const mod = s.module;
    const slots = assignSlots(mod.requiredSlots.map((n) => n.name), s.slots);
    envSlots.set(mod.name, slots);
    const env = {
      slots: Object.freeze({ ...slots }),
      seed,
      config: Object.freeze({ ...s.config }),
    };
    const pid = kernel.spawn(mod.name, (sys) => mod.main(sys, env));
    const endpoint = kernel.createEndpoint(pid, s.inboxDepth ?? DEFAULT_INBOX_DEPTH);
    register({ name: mod.name, pid, endpoint, slots, peers: new Set() });
  }

  // Now place each service's caps.
  for (const s of opts.services) {
    if (isFake(s)) continue;
    const w = wiring.get(s.module.name)!;
    placeControl(w.pid);
    const omit = new Set(s.omit ?? []);
    for (const need of s.module.requiredSlots) {
      if (omit.has(need.name)) continue;
      const slot = w.slots[need.name];
      const rights = s.rights?.[need.name] ?? need.rights;
      if (need.kind === "mmio") {
        const window = s.mmioWindows?.[need.name] ?? 0;
        kernel.placeCap(w.pid, slot, { kind: "mmio", window, rights });
      } else if (need.name === "inbox") {
        kernel.placeCap(w.pid, slot, { kind: "endpoint", endpointId: w.endpoint!, rights });
      } else if (need.name === "reply") {
        const inbox = kernel.createEndpoint(w.pid, DEFAULT_REPLY_DEPTH);
        kernel.placeCap(w.pid, slot, { kind: "endpoint", endpointId: inbox, rights });
      } else {
        const peer = wiring.get(need.name);
        if (peer?.endpoint === undefined || peer.name === INIT_NAME) continue;
        kernel.placeCap(w.pid, slot, { kind: "endpoint", endpointId: peer.endpoint, rights });
        w.peers.add(need.name);
      }
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
        throw new HarnessError(`client ${name} names unknown peer "${p}"`, []);
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
    const w: Wiring = { name, pid, slots, peers: new Set(peers) };
    register(w);
    placeControl(pid);
    const inbox = kernel.createEndpoint(pid, DEFAULT_REPLY_DEPTH);
    kernel.placeCap(pid, slots.reply, {
      kind: "endpoint",
      endpointId: inbox,
      rights: RIGHT_SEND | RIGHT_RECV,
    });
    for (const p of peers) {
      kernel.placeCap(pid, slots[p], {
        kind: "endpoint",
        endpointId: wiring.get(p)!.endpoint!,
        rights: RIGHT_SEND,
      });
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
    throw new HarnessError(`clients did not finish: ${why}\n${table.join("\n")}`, lines());
  }
  run = await kernel.run({ maxSteps: opts.settleSteps ?? 2_000 });

  const all = kernel.console.lines();
  const texts = all.map((l) => l.text);
  if (failures.length > 0) {
    const { name, err } = failures[0];
    const msg = err instanceof Error ? err.message : String(err);
    throw new HarnessError(`client ${name} failed: ${msg}`, texts, { cause: err });
  }
  if (!opts.allowPanics) {
    const panic = texts.find((t) => t.startsWith("panic:"));
    if (panic) throw new HarnessError(`a task panicked: ${panic}`, texts);
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
  /** Slot numbers for the module under test. */
  slots?: Record<string, number>;
  /** `env.config` for the module under test. */
  config?: Record<string, unknown>;
  /** Required slots of the module under test left empty. */
  omit?: string[];
  /** Rights overrides for the module under test. */
  rights?: Record<string, number>;
  /** MMIO windows for the module under test. */
  mmioWindows?: Record<string, number>;
  /** Peers booted before it (real modules or fakes), in start order. */
  peers?: Array<HarnessService | FakePeer>;
  /** The client body (optional: a boot alone tests the startup lines). */
  client?: HarnessClient["body"];
  /** Client task name (identity). Default "client". */
  clientName?: string;
  /** Further options passed to {@link bootServices}. */
  seed?: number;
  /** See {@link HarnessOptions.init}. */
  init?: InitOptions | false;
  /** See {@link HarnessOptions.mmio}. */
  mmio?: HarnessOptions["mmio"];
  /** See {@link HarnessOptions.memory}. */
  memory?: PhysMemory;
  /** See {@link HarnessOptions.allowPanics}. */
  allowPanics?: boolean;
  /** See {@link HarnessOptions.maxSteps}. */
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
): Promise<HarnessResult> {
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
  if (!sender.peers.has(r.name)) return answer(RT_NOT_FOUND);
  if (opts.allowRoute && !opts.allowRoute(sender.name, r.name)) return answer(RT_DENIED);
  return answer(RT_OK, sender.slots[r.name], reply ?? 0);
}
