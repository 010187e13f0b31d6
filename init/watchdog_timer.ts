/**
 * init's watchdog: counts the responder's iterations (one request served, or one receive
 * deadline expired) and, past the limit, prints `!fatal init-lite: watchdog fired ...` with the
 * table of unfinished tasks (`watchdog.ts` words it), hands the same table to the host's
 * observer, and halts init, leaving the system as the watchdog saw it.
 *
 * When every other task has exited or waits idle on its own inbox the system is done: the
 * responder then waits without a deadline, so the kernel goes idle instead of ticking the
 * watchdog down.
 *
 * @module
 */

import type { Syscalls, TaskInfo } from "../core/kernel/types.ts";
import { INIT_NAME, type SystemManifest } from "./manifest.ts";
import { slotName } from "./views.ts";
import { describeWait, formatTaskTable, formatVirtualTime, type WaitView } from "./watchdog.ts";
import type { Wiring } from "./wiring.ts";

/** Virtual receive timeout of the responder loop while the watchdog is armed (100 ms). */
export const RESPONDER_TICK_NS = 100_000_000;

/** The task table as of the tick the watchdog fired (what init printed). */
export interface WatchdogReport {
  /** Virtual time (ns) of the tick. */
  virtualNs: number;
  /** Every task, exited ones included, as the kernel reported it to init at that tick. */
  tasks: TaskInfo[];
  /** The wait of each blocked task, by pid, as init's table words it. */
  waits: Map<number, WaitView>;
}

/** Settings of {@link WatchdogTimer}. */
export interface WatchdogSettings {
  /** Responder iterations allowed; unset = no watchdog. */
  ticks?: number;
  /** Receive timeout of the responder while armed (default {@link RESPONDER_TICK_NS}). */
  tickNs?: number;
  /** Called once, at the tick the watchdog fires, with the table init prints. */
  onFire?: (report: WatchdogReport) => void;
}

/** The watchdog of the init task behind `sys`. */
export class WatchdogTimer {
  readonly #sys: Syscalls;
  readonly #m: SystemManifest;
  readonly #wiring: Wiring;
  readonly #settings: WatchdogSettings;
  #iterations = 0;

  /** A watchdog over the system `wiring` built; armed when `settings.ticks` is set. */
  constructor(sys: Syscalls, manifest: SystemManifest, wiring: Wiring, settings: WatchdogSettings) {
    this.#sys = sys;
    this.#m = manifest;
    this.#wiring = wiring;
    this.#settings = settings;
  }

  /** The responder's receive options: a deadline while armed, none once the system is done. */
  receiveOptions(quiet: boolean): { deadline?: number } {
    return this.#settings.ticks !== undefined && !quiet
      ? { deadline: this.#sys.now() + (this.#settings.tickNs ?? RESPONDER_TICK_NS) }
      : {};
  }

  /** Counts one responder iteration; past the limit fires and returns true. */
  expired(): boolean {
    const ticks = this.#settings.ticks;
    if (ticks === undefined) return false;
    this.#iterations++;
    if (this.#iterations <= ticks) return false;
    this.#fire(this.#iterations - 1, ticks);
    return true;
  }

  /** True when every other task has exited or waits on its own inbox: the system is done. */
  quiescent(): boolean {
    for (const t of this.#sys.taskList()) {
      if (t.pid === this.#sys.pid || t.state === "exited") continue;
      const svc = this.#wiring.byPid.get(t.pid);
      const inbox = svc ? this.#wiring.slotOf(svc.name, "inbox") : undefined;
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

  /** Stops serving for good, leaving every task as the watchdog found it. */
  async halt(): Promise<never> {
    // Nobody sends on init's bootstrap endpoint: this waits forever without a deadline.
    for (;;) {
      const msg = await this.#sys.recv(0);
      if (msg.capSlot !== undefined) this.#sys.capClose(msg.capSlot);
    }
  }

  #fire(iterations: number, limit: number): void {
    const sys = this.#sys;
    sys.print(
      `!fatal init-lite: watchdog fired after ${iterations} responder iterations (limit ${limit}) at ${
        formatVirtualTime(sys.now())
      }`,
    );
    const all = sys.taskList();
    const now = sys.now();
    const waits = new Map<number, WaitView>();
    for (const t of all) {
      const w = this.#waitOf(t);
      if (w !== undefined) waits.set(t.pid, w);
    }
    const describe = (t: TaskInfo) => {
      const w = waits.get(t.pid);
      return w === undefined ? "-" : describeWait(w);
    };
    const unfinished = all.filter((t) => t.state !== "exited");
    for (const line of formatTaskTable(unfinished, describe, now)) {
      sys.print(`init-lite: ${line}`);
    }
    this.#settings.onFire?.({ virtualNs: now, tasks: all, waits });
  }

  /** The wait in the words the host's verdict uses too, with names from the manifest. */
  #waitOf(t: TaskInfo): WaitView | undefined {
    const b = t.blockedOn;
    if (t.state !== "blocked" || !b) return undefined;
    const svc = t.name === INIT_NAME ? INIT_NAME : this.#wiring.byPid.get(t.pid)?.name;
    const names = this.#wiring.endpointNames;
    return {
      ...b,
      ...(b.slot !== undefined ? { slotName: slotName(this.#m, svc, b.slot) } : {}),
      ...(b.endpointId !== undefined && names.has(b.endpointId)
        ? { endpointName: names.get(b.endpointId) }
        : {}),
    };
  }
}
