/**
 * init-lite: the privileged first task. It wires the system from the manifest, then serves
 * routing and health on its endpoint. Each concern has its own file: `wiring.ts` (building the
 * tasks and their slot tables), `responder.ts` (routing and health requests), `updated_link.ts`
 * (the boot attempt and health forwarding to updated) and `watchdog_timer.ts` (the watchdog).
 *
 * Start-up, in order:
 * 1. `init: start`; wire the system (`init: start <svc>` / `init: up <svc>` per service, an
 *    `init: FAIL ...` line for anything that cannot be placed).
 * 2. Check init's own slots (`slot-check: init ...`), `init: ready`, send START to every
 *    service's control inbox, send updated one BOOT_ATTEMPT, and serve.
 *
 * Ordering. Every service body is wrapped so that it first waits for START on its control inbox,
 * and init sends START only after `init: ready`. So no service runs any of its own code before
 * the whole system is wired, and its first request to init finds init's endpoint in place (it
 * exists before the first spawn; init drains it as soon as it blocks, which is right after the
 * STARTs). This does not depend on the scheduler's policy.
 *
 * @module
 */

import type { ServiceEnv } from "../core/kernel/service.ts";
import { checkSlots } from "../core/kernel/slot_check.ts";
import { KernelError, type Message, type Syscalls, type TaskEntry } from "../core/kernel/types.ts";
import { INIT_NAME, slotNumbers, type SystemManifest } from "./manifest.ts";
import { initNeeds, type ServiceRegistry } from "./needs.ts";
import { Responder } from "./responder.ts";
import { UpdatedLink } from "./updated_link.ts";
import { type WatchdogReport, WatchdogTimer } from "./watchdog_timer.ts";
import { Wiring } from "./wiring.ts";

export { CONTROL_DEPTH } from "./wiring.ts";
export { POLICY_TIMEOUT_NS } from "./responder.ts";
export { RESPONDER_TICK_NS, type WatchdogReport } from "./watchdog_timer.ts";

/** What init needs to boot a system. */
export interface InitOptions {
  /** The system manifest (already loaded and shape-checked). */
  manifest: SystemManifest;
  /** Service modules by the manifest's `module` key. */
  services: ServiceRegistry;
  /** Boot seed handed to every service. */
  seed: number;
  /** Responder-loop iterations allowed before the watchdog fires; unset = no watchdog. */
  watchdogTicks?: number;
  /** Receive timeout of the responder while the watchdog is armed (default {@link RESPONDER_TICK_NS}). */
  tickNs?: number;
  /** Route-check timeout (default {@link POLICY_TIMEOUT_NS}). */
  policyTimeoutNs?: number;
  /**
   * Called at the tick the watchdog fires with the task table init prints (a host-side
   * observer: it cannot change what the system does).
   */
  onWatchdog?: (report: WatchdogReport) => void;
}

/**
 * The init task body for `opts`; spawn it privileged, named `init`.
 *
 * @example
 * ```ts
 * import { Kernel } from "../core/kernel/kernel.ts";
 * import { createInit } from "./init.ts";
 * import { DEFAULT_MANIFEST_PATH, loadManifest, requireLoadable } from "./manifest.ts";
 * import { SERVICES } from "../services/mod.ts";
 *
 * const manifest = requireLoadable(await loadManifest(DEFAULT_MANIFEST_PATH));
 * const kernel = new Kernel();
 * const init = createInit({ manifest, services: SERVICES, seed: 1, watchdogTicks: 800 });
 * kernel.spawn("init", init, { privileged: true });
 * await kernel.run({ maxSteps: 1_000_000 });
 * ```
 */
export function createInit(opts: InitOptions): TaskEntry {
  if (opts.watchdogTicks !== undefined) {
    if (!Number.isInteger(opts.watchdogTicks) || opts.watchdogTicks < 1) {
      throw new RangeError(`watchdogTicks must be a positive integer, got ${opts.watchdogTicks}`);
    }
  }
  return (sys) => runInit(sys, opts);
}

/** Wires the system, checks init's own table, releases the services and serves. */
async function runInit(sys: Syscalls, opts: InitOptions): Promise<void> {
  const m = opts.manifest;
  sys.print("init: start");
  const wiring = new Wiring(sys, m, opts.services, opts.seed);
  if (!wiring.build()) return;
  const initEnv: ServiceEnv = { slots: slotNumbers(m.init.slots), seed: opts.seed, config: {} };
  const selfOk = checkSlots(sys, initEnv, initNeeds(m));
  const inbox = wiring.slotOf(INIT_NAME, "inbox");
  if (!selfOk || inbox === undefined) return;
  sys.print("init: ready");
  await wiring.release();
  const updated = new UpdatedLink(sys, wiring);
  await updated.sendBootAttempt();
  const responder = new Responder(sys, m, wiring, updated, opts.policyTimeoutNs);
  const watchdog = new WatchdogTimer(sys, m, wiring, {
    ticks: opts.watchdogTicks,
    tickNs: opts.tickNs,
    onFire: opts.onWatchdog,
  });
  await serve(sys, inbox, responder, watchdog);
}

/**
 * The responder loop: one message (or one expired receive deadline) per iteration, each counted
 * by the watchdog; returns only when init's inbox is closed.
 */
async function serve(
  sys: Syscalls,
  inbox: number,
  responder: Responder,
  watchdog: WatchdogTimer,
): Promise<void> {
  let quiet = false;
  for (;;) {
    let msg: Message | undefined;
    try {
      msg = await sys.recv(inbox, watchdog.receiveOptions(quiet));
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      if (err.code === "CLOSED") return;
      if (err.code !== "TIMED_OUT") throw err;
    }
    if (watchdog.expired()) {
      if (msg?.capSlot !== undefined) sys.capClose(msg.capSlot);
      await watchdog.halt();
    }
    if (msg === undefined) {
      quiet = watchdog.quiescent();
      continue;
    }
    quiet = false;
    await responder.handle(msg);
  }
}
