/**
 * init's wiring: building the running system from the manifest. It finds the endpoint factory
 * and device caps the host placed in init's table, creates every declared endpoint for its
 * owner, spawns each service (gated on START), gives it the reserved slots 1 (SEND to init) and
 * 2 (RECV of its control inbox), places every declared slot (deferring those aimed at endpoints
 * of services started later), and finally releases the services with START.
 *
 * Anything that cannot be placed is an `init: FAIL ...` line; the rest of the system is still
 * wired, so one run shows every hole.
 *
 * @module
 */

import type { ServiceEnv } from "../core/kernel/service.ts";
import { slotHex } from "../core/kernel/slot_check.ts";
import {
  CAP_SLOTS,
  FIRST_SERVICE_SLOT,
  KernelError,
  RIGHT_MANAGE,
  RIGHT_RECV,
  RIGHT_SEND,
  SLOT_CTRL_RECV,
  SLOT_CTRL_SEND,
  type Syscalls,
  type TaskEntry,
} from "../core/kernel/types.ts";
import { awaitStart, encodeStart } from "../core/kernel/init_protocol.ts";
import {
  findService,
  INIT_NAME,
  type ServiceDecl,
  type SlotDecl,
  slotNumbers,
  type SystemManifest,
} from "./manifest.ts";
import { NAMING_SERVICE, POLICY_SERVICE, type ServiceRegistry } from "./needs.ts";

/** Queue depth of each service's control inbox. */
export const CONTROL_DEPTH = 4;

/**
 * The environment `svc` of `manifest` runs with: its slot numbers, the seed, and its
 * `[service.config]`, to which init adds what only the whole manifest knows: policyd gets the
 * policy grants (`grants`), statefsd the names of every service in start order (`services`, to
 * name the senders it reports), so neither list is written twice.
 */
export function serviceEnv(manifest: SystemManifest, svc: ServiceDecl, seed: number): ServiceEnv {
  const config: Record<string, unknown> = { ...svc.config };
  if (svc.name === POLICY_SERVICE) {
    config.grants = manifest.grants.map((g) => ({ subject: g.subject, caps: [...g.caps] }));
  }
  if (svc.name === NAMING_SERVICE) config.services = manifest.services.map((s) => s.name);
  return Object.freeze({
    slots: Object.freeze(slotNumbers(svc.slots)),
    seed,
    config: Object.freeze(config),
  });
}

/** An endpoint init created and still holds the full cap on. */
interface LiveEndpoint {
  /** init's full cap on it. */
  slot: number;
  id: number;
}

/** The system init wired: who runs under which pid, which endpoint is which. */
export class Wiring {
  readonly #sys: Syscalls;
  readonly #m: SystemManifest;
  readonly #services: ServiceRegistry;
  readonly #seed: number;
  /** Slot numbers the manifest declares for init (kept free for them). */
  readonly #declared: Set<number>;
  #factory = -1;
  readonly #mmio = new Map<number, number>();
  readonly #endpoints = new Map<string, LiveEndpoint>();
  /** Endpoint id -> name, for the watchdog table. */
  readonly endpointNames: Map<number, string> = new Map();
  /** Service name -> pid, for every service spawned. */
  readonly pids: Map<string, number> = new Map();
  /** Pid -> the service's declaration. */
  readonly byPid: Map<number, ServiceDecl> = new Map();
  readonly #control = new Map<string, number>();
  /** Declared slots not placed yet: their target endpoint does not exist yet. */
  #deferred: Array<{ owner: string; pid: number; decl: SlotDecl }> = [];

  /** Wiring of `manifest` by the init task behind `sys`, spawning from `services`. */
  constructor(sys: Syscalls, manifest: SystemManifest, services: ServiceRegistry, seed: number) {
    this.#sys = sys;
    this.#m = manifest;
    this.#services = services;
    this.#seed = seed;
    this.#declared = new Set(manifest.init.slots.map((s) => s.slot));
  }

  /**
   * Wires the whole system: init's own endpoints and slots, then every service in start order.
   * False when init cannot go on (no endpoint factory, or no endpoint of its own).
   */
  build(): boolean {
    const sys = this.#sys;
    if (!this.#discover()) return false;
    this.#createEndpoints(INIT_NAME, sys.pid);
    if (!this.#endpoints.has(INIT_NAME)) {
      this.fail(`manifest declares no endpoint "${INIT_NAME}" owned by ${INIT_NAME}`);
      return false;
    }
    for (const decl of this.#m.init.slots) this.#place(INIT_NAME, sys.pid, decl);
    for (const svc of this.#m.services) this.#start(svc);
    this.#reportUnplaced();
    this.#dropCreationCaps();
    return true;
  }

  /** Prints `init: FAIL <what>`. */
  fail(what: string): void {
    this.#sys.print(`init: FAIL ${what}`);
  }

  /** A free slot of init's table outside the declared ones. */
  alloc(): number {
    for (let s = FIRST_SERVICE_SLOT; s < CAP_SLOTS; s++) {
      if (this.#declared.has(s)) continue;
      if (this.#sys.capQuery(s) === null) return s;
    }
    throw new KernelError("NO_FREE_SLOT", "init's cap table is full");
  }

  /** init's full cap on its own endpoint (replies to init are derived from it). */
  get initEndpoint(): number {
    return this.#endpoints.get(INIT_NAME)!.slot;
  }

  /** The number of slot `name` in `owner`'s declared table. */
  slotOf(owner: string, name: string): number | undefined {
    const slots = owner === INIT_NAME ? this.#m.init.slots : findService(this.#m, owner)?.slots;
    return slots?.find((s) => s.name === name)?.slot;
  }

  /** Lets every spawned service run. */
  async release(): Promise<void> {
    for (const [name, slot] of this.#control) {
      try {
        await this.#sys.send(slot, encodeStart(), { nonblock: true });
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        this.fail(`start signal to ${name}: ${err.code}`);
      }
    }
  }

  /** Finds the endpoint factory and MMIO caps; moves any cap off a slot declared for init. */
  #discover(): boolean {
    const sys = this.#sys;
    // Slot 0 is the bootstrap endpoint and stays; declaring it fails when placing.
    for (let s = 1; s < CAP_SLOTS; s++) {
      if (!this.#declared.has(s)) continue;
      const info = sys.capQuery(s);
      if (info === null) continue;
      const to = this.alloc();
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
      this.fail("no endpoint factory in init's table (init must be spawned privileged)");
      return false;
    }
    return true;
  }

  #createEndpoints(owner: string, pid: number): void {
    for (const ep of this.#m.endpoints) {
      if (ep.owner !== owner) continue;
      try {
        const slot = this.#sys.endpointCreate(this.#factory, ep.depth, this.alloc(), pid);
        const id = this.#sys.capQuery(slot)!.endpoint!.id;
        this.#endpoints.set(ep.name, { slot, id });
        this.endpointNames.set(id, ep.name);
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        this.fail(`create endpoint "${ep.name}" for ${owner}: ${err.code}`);
      }
    }
  }

  /** The cap `decl` is copied from, or undefined (deferred, or a FAIL line printed). */
  #source(owner: string, pid: number, decl: SlotDecl): number | undefined {
    if (decl.target.kind === "endpoint") {
      const from = this.#endpoints.get(decl.target.endpoint)?.slot;
      if (from === undefined) this.#deferred.push({ owner, pid, decl });
      return from;
    }
    const window = decl.target.window;
    const grant = this.#m.mmio.find((w) => w.window === window);
    const where = `wire ${owner} slot ${decl.name} at ${slotHex(decl.slot)}`;
    if (!grant || !grant.services.includes(owner)) {
      this.fail(`${where}: MMIO window ${window} is not granted to ${owner}`);
      return undefined;
    }
    const from = this.#mmio.get(window);
    if (from === undefined) this.fail(`${where}: no device cap for MMIO window ${window}`);
    return from;
  }

  /** Places `decl` in `owner`'s table now, or defers it until its endpoint exists. */
  #place(owner: string, pid: number, decl: SlotDecl): void {
    const sys = this.#sys;
    const from = this.#source(owner, pid, decl);
    if (from === undefined) return;
    try {
      if (pid === sys.pid) sys.capDerive(from, decl.rights, decl.slot);
      else sys.capTransfer(from, pid, decl.rights, decl.slot);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      this.fail(
        `wire ${owner} slot ${decl.name} at ${slotHex(decl.slot)}: ${err.code} (${err.message})`,
      );
    }
  }

  #start(svc: ServiceDecl): void {
    const sys = this.#sys;
    sys.print(`init: start ${svc.name}`);
    const module = Object.hasOwn(this.#services, svc.module)
      ? this.#services[svc.module]
      : undefined;
    if (!module) {
      this.fail(`start ${svc.name}: no service module "${svc.module}"`);
      return;
    }
    const env = serviceEnv(this.#m, svc, this.#seed);
    const entry: TaskEntry = async (s) => {
      await awaitStart(s);
      await module.main(s, env);
    };
    let pid: number;
    try {
      pid = sys.spawn(svc.name, entry);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      this.fail(`start ${svc.name}: ${err.code} (${err.message})`);
      return;
    }
    this.pids.set(svc.name, pid);
    this.byPid.set(pid, svc);
    this.#placeReserved(svc, pid);
    this.#createEndpoints(svc.name, pid);
    for (const decl of svc.slots) this.#place(svc.name, pid, decl);
    // Earlier tasks' slots aimed at endpoints that exist now.
    const waiting = this.#deferred;
    this.#deferred = [];
    for (const d of waiting) this.#place(d.owner, d.pid, d.decl);
    sys.print(`init: up ${svc.name}`);
  }

  /** Slot 1 (SEND to init) and slot 2 (RECV of a control inbox the service owns). */
  #placeReserved(svc: ServiceDecl, pid: number): void {
    const sys = this.#sys;
    try {
      sys.capTransfer(this.initEndpoint, pid, RIGHT_SEND, SLOT_CTRL_SEND);
      const ctrl = sys.endpointCreate(this.#factory, CONTROL_DEPTH, this.alloc(), pid);
      this.endpointNames.set(sys.capQuery(ctrl)!.endpoint!.id, `${svc.name} control`);
      sys.capTransfer(ctrl, pid, RIGHT_RECV, SLOT_CTRL_RECV);
      this.#control.set(svc.name, ctrl);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      this.fail(`wire ${svc.name} reserved slots 1/2: ${err.code} (${err.message})`);
    }
  }

  /** FAIL lines for slots whose endpoint never came, and endpoints whose owner is no service. */
  #reportUnplaced(): void {
    for (const d of this.#deferred) {
      const why = d.decl.target.kind === "endpoint"
        ? `endpoint "${d.decl.target.endpoint}" was never created (not declared, or its owner never started)`
        : "no MMIO cap";
      this.fail(`wire ${d.owner} slot ${d.decl.name} at ${slotHex(d.decl.slot)}: ${why}`);
    }
    this.#deferred = [];
    for (const ep of this.#m.endpoints) {
      if (ep.owner !== INIT_NAME && !findService(this.#m, ep.owner)) {
        this.fail(`endpoint "${ep.name}": owner "${ep.owner}" is not a service`);
      }
    }
  }

  /** Closes init's creation caps on endpoints it does not use itself. */
  #dropCreationCaps(): void {
    for (const [name, ep] of [...this.#endpoints]) {
      if (name === INIT_NAME) continue;
      this.#sys.capClose(ep.slot);
      this.#endpoints.delete(name);
    }
  }
}
