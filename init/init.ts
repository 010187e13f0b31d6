/**
 * init-lite: the privileged first task. It wires the system from the manifest, then serves
 * routing and health on its endpoint.
 *
 * Start-up, in order:
 * 1. `init: start`; find the endpoint factory and any MMIO caps the host placed in init's table,
 *    moving them out of the slots the manifest declares for init.
 * 2. Create init's own endpoints and place init's declared slots.
 * 3. Per service, in manifest order: `init: start <svc>`, spawn it (gated, see below), give it
 *    slot 1 (SEND to init's endpoint) and slot 2 (RECV of a control inbox it owns), create the
 *    endpoints it owns, place every declared slot whose target exists (slots aimed at endpoints
 *    of services started later are placed when those endpoints are created), `init: up <svc>`.
 *    Anything that cannot be placed is an `init: FAIL ...` line.
 * 4. Check init's own slots (`slot-check: init ...`), `init: ready`, send START to every
 *    service's control inbox, send updated one BOOT_ATTEMPT, and serve.
 *
 * Ordering. Every service body is wrapped so that it first waits for START on its control inbox,
 * and init sends START only after `init: ready`. So no service runs any of its own code before
 * the whole system is wired, and its first request to init finds init's endpoint in place (it
 * exists before the first spawn; init drains it as soon as it blocks, which is right after the
 * STARTs). This does not depend on the scheduler's policy.
 *
 * Never waiting on a caller. init's route check asks policyd with a deadline (policyd never
 * calls init). Messages to updated (health forwarding, GET_STATUS, BOOT_ATTEMPT) carry a one-shot
 * reply cap to init's own endpoint and are answered there, so init never blocks on updated, which
 * itself routes through init.
 *
 * Watchdog. With `watchdogTicks` set, every responder iteration counts (one request served or one
 * receive deadline of {@link RESPONDER_TICK_NS} expired). Past the limit init prints
 * `!fatal init-lite: watchdog fired ...` and the table of unfinished tasks, then halts (stops
 * serving, leaving the system as the watchdog saw it). When every other task has exited or waits
 * idle on its own inbox the system is done: init then waits without a deadline, so the kernel
 * goes idle instead of ticking the watchdog down.
 *
 * @module
 */

import { fnv1a64 } from "../core/kernel/fnv.ts";
import { readHeader, REPLY_BIT } from "../core/kernel/frame.ts";
import { reply } from "../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule } from "../core/kernel/service.ts";
import { checkSlots, slotHex } from "../core/kernel/slot_check.ts";
import {
  CAP_SLOTS,
  FIRST_SERVICE_SLOT,
  KernelError,
  type Message,
  RIGHT_MANAGE,
  RIGHT_RECV,
  RIGHT_SEND,
  SLOT_CTRL_RECV,
  SLOT_CTRL_SEND,
  type Syscalls,
  type TaskEntry,
  type TaskInfo,
} from "../core/kernel/types.ts";
import {
  decodeReply as decodePolicyReply,
  encodeRoute,
  GRANT_INIT_HEALTH,
  PO_ALLOW,
} from "../services/policyd/protocol.ts";
import {
  decodeReply as decodeUpdatedReply,
  encodeSimple as encodeUpdatedOp,
  UD_MAGIC,
  UD_OK,
  UD_OP_BOOT_ATTEMPT,
  UD_OP_GET_STATUS,
  UD_OP_HEALTH_OK,
  UpdatedError,
} from "../services/updated/protocol.ts";
import {
  findService,
  INIT_NAME,
  type ServiceDecl,
  type SlotDecl,
  slotNumbers,
  type SystemManifest,
} from "./manifest.ts";
import { initNeeds, POLICY_SERVICE, UPDATE_SERVICE } from "./needs.ts";
import {
  awaitStart,
  decodeHealthOk,
  decodeRouteGet,
  encodeHealthReply,
  encodeRouteReply,
  encodeStart,
  IH_DENIED,
  IH_FAILED,
  IH_MAGIC,
  IH_OK,
  REPLY_ROUTE_NAME,
  RT_DENIED,
  RT_MALFORMED,
  RT_NOT_FOUND,
  RT_OK,
} from "../core/kernel/init_protocol.ts";
import { describeWait, formatTaskTable, formatVirtualTime } from "./watchdog.ts";
import { slotName } from "./views.ts";

/** Virtual receive timeout of the responder loop while the watchdog is armed (100 ms). */
export const RESPONDER_TICK_NS = 100_000_000;
/** How long init waits for policyd's answer to a route check (10 ms virtual). */
export const POLICY_TIMEOUT_NS = 10_000_000;
/** Queue depth of each service's control inbox. */
export const CONTROL_DEPTH = 4;

/** What init needs to boot a system. */
export interface InitOptions {
  /** The system manifest (already loaded and shape-checked). */
  manifest: SystemManifest;
  /** Service modules by the manifest's `module` key. */
  services: Readonly<Record<string, ServiceModule>>;
  /** Boot seed handed to every service. */
  seed: number;
  /** Responder-loop iterations allowed before the watchdog fires; unset = no watchdog. */
  watchdogTicks?: number;
  /** Receive timeout of the responder while the watchdog is armed (default {@link RESPONDER_TICK_NS}). */
  tickNs?: number;
  /** Route-check timeout (default {@link POLICY_TIMEOUT_NS}). */
  policyTimeoutNs?: number;
}

/** The init task body for `opts`; spawn it privileged, named `init`. */
export function createInit(opts: InitOptions): TaskEntry {
  if (opts.watchdogTicks !== undefined) {
    if (!Number.isInteger(opts.watchdogTicks) || opts.watchdogTicks < 1) {
      throw new RangeError(`watchdogTicks must be a positive integer, got ${opts.watchdogTicks}`);
    }
  }
  return (sys) => new InitTask(sys, opts).run();
}

/** A message init sent updated and the reply it waits for on its own endpoint. */
interface PendingUpdate {
  op: number;
  /** The health report being forwarded, when this is part of one. */
  health?: { request: Message; nonce?: number; sender: string };
}

interface LiveEndpoint {
  /** init's full cap on it. */
  slot: number;
  id: number;
}

class InitTask {
  readonly #sys: Syscalls;
  readonly #opts: InitOptions;
  readonly #m: SystemManifest;
  /** Slot numbers the manifest declares for init (kept free for them). */
  readonly #declared: Set<number>;
  #factory = -1;
  readonly #mmio = new Map<number, number>();
  readonly #endpoints = new Map<string, LiveEndpoint>();
  /** Endpoint id -> name, for the watchdog table. */
  readonly #endpointNames = new Map<number, string>();
  readonly #pids = new Map<string, number>();
  readonly #byPid = new Map<number, ServiceDecl>();
  readonly #control = new Map<string, number>();
  /** Declared slots not placed yet: their target endpoint does not exist yet. */
  #deferred: Array<{ owner: string; pid: number; decl: SlotDecl }> = [];
  readonly #pendingUpdates: PendingUpdate[] = [];
  #failures = 0;

  constructor(sys: Syscalls, opts: InitOptions) {
    this.#sys = sys;
    this.#opts = opts;
    this.#m = opts.manifest;
    this.#declared = new Set(this.#m.init.slots.map((s) => s.slot));
  }

  async run(): Promise<void> {
    const sys = this.#sys;
    sys.print("init: start");
    if (!this.#discover()) return;
    this.#createEndpoints(INIT_NAME, sys.pid);
    if (!this.#endpoints.has(INIT_NAME)) {
      this.#fail(`manifest declares no endpoint "${INIT_NAME}" owned by ${INIT_NAME}`);
      return;
    }
    for (const decl of this.#m.init.slots) this.#place(INIT_NAME, sys.pid, decl);
    for (const svc of this.#m.services) this.#start(svc);
    for (const d of this.#deferred) {
      const why = d.decl.target.kind === "endpoint"
        ? `endpoint "${d.decl.target.endpoint}" was never created (not declared, or its owner never started)`
        : "no MMIO cap";
      this.#fail(`wire ${d.owner} slot ${d.decl.name} at ${slotHex(d.decl.slot)}: ${why}`);
    }
    this.#deferred = [];
    for (const ep of this.#m.endpoints) {
      if (ep.owner !== INIT_NAME && !findService(this.#m, ep.owner)) {
        this.#fail(`endpoint "${ep.name}": owner "${ep.owner}" is not a service`);
      }
    }
    this.#dropCreationCaps();
    const initEnv: ServiceEnv = {
      slots: slotNumbers(this.#m.init.slots),
      seed: this.#opts.seed,
      config: {},
    };
    const selfOk = checkSlots(sys, initEnv, initNeeds(this.#m));
    const inbox = this.#slotOf(INIT_NAME, "inbox");
    if (!selfOk || inbox === undefined) return;
    sys.print("init: ready");
    await this.#release();
    await this.#sendBootAttempt();
    await this.#serve(inbox);
  }

  // ---- wiring ----

  #fail(what: string): void {
    this.#failures++;
    this.#sys.print(`init: FAIL ${what}`);
  }

  /** A free slot of init's table outside the declared ones. */
  #alloc(): number {
    for (let s = FIRST_SERVICE_SLOT; s < CAP_SLOTS; s++) {
      if (this.#declared.has(s)) continue;
      if (this.#sys.capQuery(s) === null) return s;
    }
    throw new KernelError("NO_FREE_SLOT", "init's cap table is full");
  }

  /** Finds the endpoint factory and MMIO caps; moves any cap off a slot declared for init. */
  #discover(): boolean {
    const sys = this.#sys;
    // Slot 0 is the bootstrap endpoint and stays; declaring it fails when placing.
    for (let s = 1; s < CAP_SLOTS; s++) {
      if (!this.#declared.has(s)) continue;
      const info = sys.capQuery(s);
      if (info === null) continue;
      const to = this.#alloc();
      sys.capDerive(s, info.rights, to);
      sys.capClose(s);
    }
    for (let s = 0; s < CAP_SLOTS; s++) {
      const info = sys.capQuery(s);
      if (info === null) continue;
      if (info.kind === "endpoint-factory" && (info.rights & RIGHT_MANAGE) && this.#factory < 0) {
        this.#factory = s;
      } else if (info.kind === "mmio" && info.mmio && !this.#mmio.has(info.mmio.window)) {
        this.#mmio.set(info.mmio.window, s);
      }
    }
    if (this.#factory < 0) {
      this.#fail("no endpoint factory in init's table (init must be spawned privileged)");
      return false;
    }
    return true;
  }

  #createEndpoints(owner: string, pid: number): void {
    for (const ep of this.#m.endpoints) {
      if (ep.owner !== owner) continue;
      try {
        const slot = this.#sys.endpointCreate(this.#factory, ep.depth, this.#alloc(), pid);
        const id = this.#sys.capQuery(slot)!.endpoint!.id;
        this.#endpoints.set(ep.name, { slot, id });
        this.#endpointNames.set(id, ep.name);
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        this.#fail(`create endpoint "${ep.name}" for ${owner}: ${err.code}`);
      }
    }
  }

  /** Places `decl` in `owner`'s table now, or defers it until its endpoint exists. */
  #place(owner: string, pid: number, decl: SlotDecl): void {
    const sys = this.#sys;
    let from: number | undefined;
    if (decl.target.kind === "endpoint") {
      from = this.#endpoints.get(decl.target.endpoint)?.slot;
      if (from === undefined) {
        this.#deferred.push({ owner, pid, decl });
        return;
      }
    } else {
      const window = decl.target.window;
      const grant = this.#m.mmio.find((w) => w.window === window);
      if (!grant || !grant.services.includes(owner)) {
        this.#fail(
          `wire ${owner} slot ${decl.name} at ${
            slotHex(decl.slot)
          }: MMIO window ${window} is not granted to ${owner}`,
        );
        return;
      }
      from = this.#mmio.get(window);
      if (from === undefined) {
        this.#fail(
          `wire ${owner} slot ${decl.name} at ${
            slotHex(decl.slot)
          }: no device cap for MMIO window ${window}`,
        );
        return;
      }
    }
    try {
      if (pid === sys.pid) sys.capDerive(from, decl.rights, decl.slot);
      else sys.capTransfer(from, pid, decl.rights, decl.slot);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      this.#fail(
        `wire ${owner} slot ${decl.name} at ${slotHex(decl.slot)}: ${err.code} (${err.message})`,
      );
    }
  }

  #start(svc: ServiceDecl): void {
    const sys = this.#sys;
    sys.print(`init: start ${svc.name}`);
    const module = Object.hasOwn(this.#opts.services, svc.module)
      ? this.#opts.services[svc.module]
      : undefined;
    if (!module) {
      this.#fail(`start ${svc.name}: no service module "${svc.module}"`);
      return;
    }
    const config: Record<string, unknown> = { ...svc.config };
    if (svc.name === POLICY_SERVICE) {
      config.grants = this.#m.grants.map((g) => ({ subject: g.subject, caps: [...g.caps] }));
    }
    const env: ServiceEnv = Object.freeze({
      slots: Object.freeze(slotNumbers(svc.slots)),
      seed: this.#opts.seed,
      config: Object.freeze(config),
    });
    const entry: TaskEntry = async (s) => {
      await awaitStart(s);
      await module.main(s, env);
    };
    let pid: number;
    try {
      pid = sys.spawn(svc.name, entry);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      this.#fail(`start ${svc.name}: ${err.code} (${err.message})`);
      return;
    }
    this.#pids.set(svc.name, pid);
    this.#byPid.set(pid, svc);
    try {
      sys.capTransfer(this.#endpoints.get(INIT_NAME)!.slot, pid, RIGHT_SEND, SLOT_CTRL_SEND);
      const ctrl = sys.endpointCreate(this.#factory, CONTROL_DEPTH, this.#alloc(), pid);
      this.#endpointNames.set(sys.capQuery(ctrl)!.endpoint!.id, `${svc.name} control`);
      sys.capTransfer(ctrl, pid, RIGHT_RECV, SLOT_CTRL_RECV);
      this.#control.set(svc.name, ctrl);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      this.#fail(`wire ${svc.name} reserved slots 1/2: ${err.code} (${err.message})`);
    }
    this.#createEndpoints(svc.name, pid);
    for (const decl of svc.slots) this.#place(svc.name, pid, decl);
    // Earlier tasks' slots aimed at endpoints that exist now.
    const waiting = this.#deferred;
    this.#deferred = [];
    for (const d of waiting) this.#place(d.owner, d.pid, d.decl);
    sys.print(`init: up ${svc.name}`);
  }

  /** Closes init's creation caps on endpoints it does not use itself. */
  #dropCreationCaps(): void {
    for (const [name, ep] of [...this.#endpoints]) {
      if (name === INIT_NAME) continue;
      this.#sys.capClose(ep.slot);
      this.#endpoints.delete(name);
    }
  }

  #slotOf(owner: string, name: string): number | undefined {
    const slots = owner === INIT_NAME ? this.#m.init.slots : findService(this.#m, owner)?.slots;
    return slots?.find((s) => s.name === name)?.slot;
  }

  /** Lets every spawned service run. */
  async #release(): Promise<void> {
    for (const [name, slot] of this.#control) {
      try {
        await this.#sys.send(slot, encodeStart(), { nonblock: true });
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        this.#fail(`start signal to ${name}: ${err.code}`);
      }
    }
  }

  // ---- updated ----

  /** init's slot on updated, when updated runs. */
  #updatedSlot(): number | undefined {
    if (!this.#pids.has(UPDATE_SERVICE)) return undefined;
    const slot = this.#slotOf(INIT_NAME, UPDATE_SERVICE);
    return slot !== undefined && this.#sys.capQuery(slot) !== null ? slot : undefined;
  }

  /** Sends `op` to updated with a one-shot reply cap to init's own endpoint; false if not sent. */
  async #toUpdated(pending: PendingUpdate): Promise<boolean> {
    const sys = this.#sys;
    const slot = this.#updatedSlot();
    if (slot === undefined) return false;
    const oneShot = sys.capDerive(this.#endpoints.get(INIT_NAME)!.slot, RIGHT_SEND, this.#alloc());
    try {
      await sys.send(slot, encodeUpdatedOp(pending.op), { nonblock: true, moveCap: oneShot });
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      if (sys.capQuery(oneShot) !== null) sys.capClose(oneShot);
      sys.print(`init: message to updated not delivered (${err.code})`);
      return false;
    }
    this.#pendingUpdates.push(pending);
    return true;
  }

  async #sendBootAttempt(): Promise<void> {
    await this.#toUpdated({ op: UD_OP_BOOT_ATTEMPT });
  }

  /** Handles a reply from updated arriving on init's endpoint. */
  async #onUpdatedReply(msg: Message): Promise<void> {
    const op = msg.data[3] & ~REPLY_BIT;
    const i = this.#pendingUpdates.findIndex((p) => p.op === op);
    if (i < 0) return;
    const [pending] = this.#pendingUpdates.splice(i, 1);
    let status: number;
    let body: Uint8Array;
    try {
      ({ status, body } = decodeUpdatedReply(msg.data, op));
    } catch (err) {
      if (!(err instanceof UpdatedError)) throw err;
      status = -1;
      body = new Uint8Array(0);
    }
    const sys = this.#sys;
    if (op === UD_OP_BOOT_ATTEMPT) {
      if (status === UD_OK && body.length === 1) {
        sys.print(
          body[0] === 0
            ? "init: boot attempt counted"
            : `init: boot attempt rolled back to slot ${slotLetter(body[0])}`,
        );
      } else sys.print(`init: boot attempt refused by updated (status ${status})`);
      return;
    }
    const health = pending.health!;
    if (op === UD_OP_HEALTH_OK) {
      if (status === UD_OK && await this.#toUpdated({ op: UD_OP_GET_STATUS, health })) return;
      sys.print(`init: health from ${health.sender} refused by updated (status ${status})`);
      await reply(sys, health.request, encodeHealthReply(IH_FAILED, health.nonce));
      return;
    }
    if (op === UD_OP_GET_STATUS && status === UD_OK && body.length === 4) {
      sys.print(`init: health ok (slot ${slotLetter(body[0])})`);
      await reply(sys, health.request, encodeHealthReply(IH_OK, health.nonce));
      return;
    }
    sys.print(`init: health from ${health.sender}: updated status unreadable (status ${status})`);
    await reply(sys, health.request, encodeHealthReply(IH_FAILED, health.nonce));
  }

  // ---- responder ----

  async #serve(inbox: number): Promise<void> {
    const sys = this.#sys;
    const ticks = this.#opts.watchdogTicks;
    const tick = this.#opts.tickNs ?? RESPONDER_TICK_NS;
    let iterations = 0;
    let quiet = false;
    for (;;) {
      let msg: Message | undefined;
      try {
        msg = await sys.recv(
          inbox,
          ticks !== undefined && !quiet ? { deadline: sys.now() + tick } : {},
        );
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        if (err.code === "CLOSED") return;
        if (err.code !== "TIMED_OUT") throw err;
      }
      if (ticks !== undefined) {
        iterations++;
        if (iterations > ticks) {
          this.#fireWatchdog(iterations - 1, ticks);
          if (msg?.capSlot !== undefined) sys.capClose(msg.capSlot);
          await this.#halt();
          return;
        }
      }
      if (msg === undefined) {
        quiet = this.#quiescent();
        continue;
      }
      quiet = false;
      await this.#handle(msg);
    }
  }

  async #handle(msg: Message): Promise<void> {
    const sys = this.#sys;
    const h = readHeader(msg.data);
    const updatedPid = this.#pids.get(UPDATE_SERVICE);
    if (h?.magic === UD_MAGIC && (h.op & REPLY_BIT) !== 0 && msg.senderPid === updatedPid) {
      if (msg.capSlot !== undefined) sys.capClose(msg.capSlot);
      await this.#onUpdatedReply(msg);
      return;
    }
    const sender = this.#byPid.get(msg.senderPid);
    if (h?.magic === IH_MAGIC) {
      const req = decodeHealthOk(msg.data);
      if (req.kind === "malformed" || sender === undefined) {
        await reply(
          sys,
          msg,
          encodeHealthReply(IH_FAILED, req.kind === "health" ? req.nonce : undefined),
        );
        return;
      }
      // Every task holds slot 1 to init: only a sender the manifest grants init.health may
      // commit a boot.
      if (
        !this.#m.grants.some((g) => g.subject === sender.name && g.caps.includes(GRANT_INIT_HEALTH))
      ) {
        sys.print(`init: health from ${sender.name} denied (no "${GRANT_INIT_HEALTH}" grant)`);
        await reply(sys, msg, encodeHealthReply(IH_DENIED, req.nonce));
        return;
      }
      if (this.#updatedSlot() === undefined) {
        sys.print(`init: health ok (no ${UPDATE_SERVICE})`);
        await reply(sys, msg, encodeHealthReply(IH_OK, req.nonce));
        return;
      }
      // The requester's reply cap stays in init's table until updated has answered.
      const health = { request: msg, nonce: req.nonce, sender: sender.name };
      if (!await this.#toUpdated({ op: UD_OP_HEALTH_OK, health })) {
        await reply(sys, msg, encodeHealthReply(IH_FAILED, req.nonce));
      }
      return;
    }
    const req = decodeRouteGet(msg.data);
    if (req.kind === "malformed") {
      await reply(sys, msg, encodeRouteReply(RT_MALFORMED, 0, 0));
      return;
    }
    await reply(sys, msg, await this.#route(sender, req.name, req.nonce));
  }

  /** Answers ROUTE_GET `name` for `sender` from the manifest, after the policy check. */
  async #route(sender: ServiceDecl | undefined, name: string, nonce?: number): Promise<Uint8Array> {
    const answer = (status: number, send = 0, recv = 0) =>
      encodeRouteReply(status, send, recv, nonce);
    if (sender === undefined) return answer(RT_NOT_FOUND);
    const replySlot = sender.slots.find((s) => s.name === "reply" && s.target.kind === "endpoint");
    if (name === REPLY_ROUTE_NAME) {
      return replySlot ? answer(RT_OK, replySlot.slot, replySlot.slot) : answer(RT_NOT_FOUND);
    }
    const route = sender.slots.find((s) =>
      s.target.kind === "endpoint" && s.target.endpoint === name && (s.rights & RIGHT_SEND) !== 0
    );
    if (!route) return answer(RT_NOT_FOUND);
    if (!await this.#allowed(sender.name, name)) return answer(RT_DENIED);
    return answer(RT_OK, route.slot, replySlot?.slot ?? 0);
  }

  /** Asks policyd (or, in a system without policyd, the manifest's grants) about a route. */
  async #allowed(subject: string, target: string): Promise<boolean> {
    const sys = this.#sys;
    if (!findService(this.#m, POLICY_SERVICE)) {
      return this.#m.grants.some((g) =>
        g.subject === subject && g.caps.includes(`route:${target}`)
      );
    }
    const policyd = this.#slotOf(INIT_NAME, POLICY_SERVICE);
    const replySlot = this.#slotOf(INIT_NAME, "reply");
    if (policyd === undefined || replySlot === undefined) return false;
    // A late answer to an earlier, timed-out check must not be taken for this one.
    for (;;) {
      try {
        const stale = await sys.recv(replySlot, { nonblock: true });
        if (stale.capSlot !== undefined) sys.capClose(stale.capSlot);
      } catch (err) {
        if (err instanceof KernelError) break;
        throw err;
      }
    }
    const oneShot = sys.capDerive(replySlot, RIGHT_SEND, this.#alloc());
    const deadline = sys.now() + (this.#opts.policyTimeoutNs ?? POLICY_TIMEOUT_NS);
    let sent = false;
    try {
      await sys.send(policyd, encodeRoute(fnv1a64(subject), target), {
        moveCap: oneShot,
        deadline,
      });
      sent = true;
      for (;;) {
        const answer = await sys.recv(replySlot, { deadline });
        if (answer.capSlot !== undefined) sys.capClose(answer.capSlot);
        const decoded = decodePolicyReply(answer.data);
        if (decoded === null) continue;
        return decoded.status === PO_ALLOW;
      }
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      // The reply cap stays with init only when the request was never queued.
      if (!sent && sys.capQuery(oneShot) !== null) sys.capClose(oneShot);
      sys.print(
        `init: route check ${subject} -> ${target} got no answer from policyd (${err.code}): denied`,
      );
      return false;
    }
  }

  // ---- watchdog ----

  /** True when every other task has exited or waits on its own inbox: the system is done. */
  #quiescent(): boolean {
    for (const t of this.#sys.taskList()) {
      if (t.pid === this.#sys.pid || t.state === "exited") continue;
      const svc = this.#byPid.get(t.pid);
      const inbox = svc ? this.#slotOf(svc.name, "inbox") : undefined;
      if (
        t.state === "blocked" && t.blockedOn?.op === "recv" && inbox !== undefined &&
        t.blockedOn.slot === inbox
      ) {
        continue;
      }
      return false;
    }
    return true;
  }

  #fireWatchdog(iterations: number, limit: number): void {
    const sys = this.#sys;
    sys.print(
      `!fatal init-lite: watchdog fired after ${iterations} responder iterations (limit ${limit}) at ${
        formatVirtualTime(sys.now())
      }`,
    );
    const tasks = sys.taskList().filter((t) => t.state !== "exited");
    for (const line of formatTaskTable(tasks, (t) => this.#describeWait(t), sys.now())) {
      sys.print(`init-lite: ${line}`);
    }
  }

  /** The wait in the words the host's verdict uses too (init/watchdog.ts describeWait). */
  #describeWait(t: TaskInfo): string {
    const b = t.blockedOn;
    if (t.state !== "blocked" || !b) return "-";
    const svc = t.name === INIT_NAME ? INIT_NAME : this.#byPid.get(t.pid)?.name;
    return describeWait({
      ...b,
      ...(b.slot !== undefined ? { slotName: slotName(this.#m, svc, b.slot) } : {}),
      ...(b.endpointId !== undefined && this.#endpointNames.has(b.endpointId)
        ? { endpointName: this.#endpointNames.get(b.endpointId) }
        : {}),
    });
  }

  /** Stops serving for good, leaving every task as the watchdog found it. */
  async #halt(): Promise<void> {
    // Nobody sends on init's bootstrap endpoint: this waits forever without a deadline.
    for (;;) {
      const msg = await this.#sys.recv(0);
      if (msg.capSlot !== undefined) this.#sys.capClose(msg.capSlot);
    }
  }
}

/** `a` / `b` for wire slot ids 1 / 2. */
function slotLetter(id: number): string {
  return id === 1 ? "a" : id === 2 ? "b" : `#${id}`;
}
