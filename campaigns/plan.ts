/**
 * Fault plans of a campaign run: which I/O requests fail, which service crashes at which of its
 * blocking syscalls, and after which write the power is cut, as a short text that replays exactly
 * (`ioerr@w12,ioerr@r40,crash@statefsd:31,power@w156:reorder`), the plan a
 * seed draws for a fault class, and the shrinking of a failing plan to a smallest one that still
 * fails.
 *
 * The plan type and its text are core/virtio/fault_plan.ts's (`ioerr@rN|wN|fN`,
 * `power@wN:atomic|reorder|torn`, `crash@SERVICE:N`, `none`), so a plan a campaign prints is the plan
 * `nexus boot --faults` takes.
 *
 * @example
 * ```ts
 * import { formatPlan, parsePlan } from "./plan.ts";
 * const plan = parsePlan("ioerr@w12,power@w156:reorder");
 * formatPlan(plan); // "ioerr@w12,power@w156:reorder"
 * ```
 *
 * @module
 */

import { CUT_MODES, type CutMode } from "../core/virtio/fault.ts";
import {
  type FaultPlan,
  FaultPlanError,
  formatFaultPlan,
  type IoErrorFault,
  parseFaultPlan,
} from "../core/virtio/fault_plan.ts";
import { Prng } from "../core/simulation/prng.ts";

export type { FaultPlan };

/** The fault classes `explore --faults` draws from. */
export const FAULT_CLASSES = ["none", "sched", "latency", "disk", "power", "crash", "all"] as const;
/** A fault class. */
export type FaultClass = typeof FAULT_CLASSES[number];

/** A plan text that does not parse (the core's error type). */
export const PlanError = FaultPlanError;

/** Parses a plan text (core/virtio/fault_plan.ts syntax); throws {@link PlanError}. */
export function parsePlan(text: string): FaultPlan {
  return parseFaultPlan(text.trim() === "" ? "none" : text.trim());
}

/** The plan's canonical replayable text (`none` for no faults). */
export function formatPlan(plan: FaultPlan): string {
  return formatFaultPlan(plan);
}

/** The plan with no faults. */
export function noFaults(): FaultPlan {
  return { ioErrors: [] };
}

/** Every fault of a plan, one at a time (to drop or soften one). */
type Fault =
  | { io: IoErrorFault }
  | { cut: NonNullable<FaultPlan["powerCut"]> }
  | { crash: NonNullable<FaultPlan["crash"]> };

function faultsOf(p: FaultPlan): Fault[] {
  return [
    ...p.ioErrors.map((io) => ({ io })),
    ...(p.crash ? [{ crash: p.crash }] : []),
    ...(p.powerCut ? [{ cut: p.powerCut }] : []),
  ];
}

function planOf(faults: Fault[]): FaultPlan {
  // Two draws may pick the same request: a plan names each fault once.
  const seen = new Set<string>();
  const ioErrors = faults.flatMap((f) => ("io" in f ? [f.io] : [])).filter((f) => {
    const id = `${f.op}${f.nth}`;
    return !seen.has(id) && seen.add(id) !== undefined;
  });
  const cut = faults.find((f) => "cut" in f) as { cut: FaultPlan["powerCut"] } | undefined;
  const crash = faults.find((f) => "crash" in f) as { crash: FaultPlan["crash"] } | undefined;
  return parseFaultPlan(
    formatFaultPlan({
      ioErrors,
      ...(cut ? { powerCut: cut.cut } : {}),
      ...(crash ? { crash: crash.crash } : {}),
    }),
  );
}

/** The power cut of a plan, if any. */
export function powerOf(plan: FaultPlan): FaultPlan["powerCut"] {
  return plan.powerCut;
}

/** How many requests a fault-free run makes: the range plans draw their request numbers from. */
export interface Workload {
  /** Write requests. */
  writes: number;
  /** Read requests. */
  reads: number;
  /** Blocking syscalls each service makes (core/kernel/crash.ts), by name: where crashes land. */
  syscalls?: Record<string, number>;
}

/**
 * The plan a seed draws for a fault class over a workload of `w` requests. Deterministic:
 * the same seed, class and workload give the same plan. `none`, `sched` and `latency` carry no
 * faults (they vary what the seed drives inside the simulation); `crash` kills one service at one
 * of the blocking syscalls it makes in a fault-free run, and `all` adds such a crash one time in
 * four (drawn after its disk faults, so those stay what they were before crashes existed).
 */
export function drawPlan(seed: number, cls: FaultClass, w: Workload): FaultPlan {
  const rng = Prng.stream(seed, "explore-plan");
  const ioErrors: IoErrorFault[] = [];
  let powerCut: FaultPlan["powerCut"];
  const disk = cls === "disk" || cls === "all";
  const power = cls === "power" || cls === "all";
  if (disk) {
    const n = 1 + rng.below(2);
    for (let i = 0; i < n; i++) {
      const onWrite = rng.bool();
      const range = onWrite ? w.writes : w.reads;
      if (range > 0) ioErrors.push({ op: onWrite ? "write" : "read", nth: 1 + rng.below(range) });
    }
  }
  if (power && w.writes > 0 && (cls === "power" || rng.below(4) !== 0)) {
    powerCut = { write: 1 + rng.below(w.writes), mode: CUT_MODES[rng.below(CUT_MODES.length)] };
  }
  let crash: FaultPlan["crash"];
  const services = Object.keys(w.syscalls ?? {}).filter((n) => w.syscalls![n] > 0).sort();
  // Its own stream: drawing the crash shifts nothing the disk faults draw.
  const c = Prng.stream(seed, "explore-crash");
  if (services.length > 0 && (cls === "crash" || (cls === "all" && c.below(4) === 0))) {
    const task = services[c.below(services.length)];
    crash = { task, syscall: 1 + c.below(w.syscalls![task]) };
  }
  return planOf([
    ...ioErrors.map((io) => ({ io })),
    ...(crash ? [{ crash }] : []),
    ...(powerCut ? [{ cut: powerCut }] : []),
  ]);
}

/** Simpler variants of one fault: a milder cut mode (torn, reorder, atomic). */
function milder(f: Fault): Fault[] {
  if (!("cut" in f)) return [];
  const i = CUT_MODES.indexOf(f.cut.mode);
  return CUT_MODES.slice(0, i).map((mode: CutMode) => ({ cut: { ...f.cut, mode } }));
}

/**
 * Shrinks a failing plan: drops faults one at a time and makes the power cut milder while the
 * run still fails, until no single step keeps it failing (a 1-minimal plan). `fails` runs the
 * case with a candidate plan; at most `budget` candidates are tried.
 */
export async function shrinkPlan(
  plan: FaultPlan,
  fails: (p: FaultPlan) => Promise<boolean>,
  budget = 64,
): Promise<{ plan: FaultPlan; tried: number }> {
  let best = plan;
  let tried = 0;
  let progress = true;
  while (progress && tried < budget) {
    progress = false;
    const fs = faultsOf(best);
    const candidates: FaultPlan[] = [];
    for (let i = 0; i < fs.length; i++) candidates.push(planOf(fs.filter((_, j) => j !== i)));
    for (let i = 0; i < fs.length; i++) {
      for (const m of milder(fs[i])) candidates.push(planOf(fs.map((f, j) => (j === i ? m : f))));
    }
    for (const c of candidates) {
      if (tried >= budget) break;
      tried++;
      if (await fails(c)) {
        best = c;
        progress = true;
        break;
      }
    }
  }
  return { plan: best, tried };
}

/** Number of faults in a plan. */
export function faultCount(plan: FaultPlan): number {
  return plan.ioErrors.length + (plan.powerCut ? 1 : 0) + (plan.crash ? 1 : 0);
}
