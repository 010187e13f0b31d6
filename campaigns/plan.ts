/**
 * Fault plans of a campaign run: which I/O requests fail and after which write the power is cut,
 * as a short text that replays exactly (`ioerr@w12,ioerr@r40,power@w156:reorder`), the plan a
 * seed draws for a fault class, and the shrinking of a failing plan to a smallest one that still
 * fails.
 *
 * - `ioerr@wN` / `ioerr@rN`: the N-th write / read request (1-based) fails with an I/O error;
 * - `power@wN:MODE`: power is lost right after the N-th write request; MODE (`atomic`, `reorder`,
 *   `torn`, see core/virtio/fault.ts) decides what of the volatile write cache survives, drawn
 *   from the run's seed.
 *
 * `none` (or an empty text) is the plan without faults.
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
import { Prng } from "../core/virtio/prng.ts";

/** One fault of a plan. */
export type Fault =
  | { kind: "ioerr"; on: "r" | "w"; n: number }
  | { kind: "power"; write: number; mode: CutMode };

/** A fault plan: at most one power cut, any number of I/O errors. */
export interface FaultPlan {
  /** The faults, in canonical order (I/O errors by request, then the power cut). */
  faults: Fault[];
}

/** The fault classes `explore --faults` draws from. */
export const FAULT_CLASSES = ["none", "sched", "latency", "disk", "power", "all"] as const;
/** A fault class. */
export type FaultClass = typeof FAULT_CLASSES[number];

/** A plan text that does not parse. */
export class PlanError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

const NUM = "([1-9][0-9]{0,8})";
const IOERR = new RegExp(`^ioerr@([rw])${NUM}$`);
const POWER = new RegExp(`^power@w${NUM}(?::(atomic|reorder|torn))?$`);

function order(a: Fault, b: Fault): number {
  const rank = (f: Fault) => f.kind === "power" ? 2 : f.on === "r" ? 0 : 1;
  const na = a.kind === "power" ? a.write : a.n;
  const nb = b.kind === "power" ? b.write : b.n;
  return rank(a) - rank(b) || na - nb;
}

/** Builds a canonical plan (sorted, duplicates removed). */
export function makePlan(faults: Fault[]): FaultPlan {
  const seen = new Set<string>();
  const out: Fault[] = [];
  for (const f of [...faults].sort(order)) {
    const id = formatFault(f);
    if (!seen.has(id)) out.push(f), seen.add(id);
  }
  return { faults: out };
}

function formatFault(f: Fault): string {
  return f.kind === "ioerr" ? `ioerr@${f.on}${f.n}` : `power@w${f.write}:${f.mode}`;
}

/** The plan's replayable text (`none` for no faults). */
export function formatPlan(plan: FaultPlan): string {
  return plan.faults.length === 0 ? "none" : plan.faults.map(formatFault).join(",");
}

/** Parses a plan text; throws {@link PlanError} with the offending part. */
export function parsePlan(text: string): FaultPlan {
  const t = text.trim();
  if (t === "" || t === "none") return { faults: [] };
  const faults: Fault[] = [];
  for (const part of t.split(",")) {
    const p = part.trim();
    let m = IOERR.exec(p);
    if (m) {
      faults.push({ kind: "ioerr", on: m[1] as "r" | "w", n: Number(m[2]) });
      continue;
    }
    m = POWER.exec(p);
    if (m) {
      faults.push({ kind: "power", write: Number(m[1]), mode: (m[2] ?? "atomic") as CutMode });
      continue;
    }
    throw new PlanError(
      `bad fault "${p}" (expected ioerr@wN, ioerr@rN or power@wN[:atomic|reorder|torn])`,
    );
  }
  if (faults.filter((f) => f.kind === "power").length > 1) {
    throw new PlanError("a plan cuts the power at most once");
  }
  return makePlan(faults);
}

/** The power cut of a plan, if any. */
export function powerOf(plan: FaultPlan): Extract<Fault, { kind: "power" }> | undefined {
  return plan.faults.find((f) => f.kind === "power") as Extract<Fault, { kind: "power" }>;
}

/** How many requests a fault-free run makes: the range plans draw their request numbers from. */
export interface Workload {
  /** Write requests. */
  writes: number;
  /** Read requests. */
  reads: number;
}

/**
 * The plan a seed draws for a fault class over a workload of `w` requests. Deterministic:
 * the same seed, class and workload give the same plan. `none`, `sched` and `latency` carry no
 * disk faults (they vary what the seed drives inside the simulation).
 */
export function drawPlan(seed: number, cls: FaultClass, w: Workload): FaultPlan {
  const rng = new Prng((seed ^ 0x5eed_fa17) >>> 0);
  const faults: Fault[] = [];
  const disk = cls === "disk" || cls === "all";
  const power = cls === "power" || cls === "all";
  if (disk) {
    const n = 1 + rng.below(2);
    for (let i = 0; i < n; i++) {
      const onWrite = rng.bool();
      const range = onWrite ? w.writes : w.reads;
      if (range > 0) {
        faults.push({ kind: "ioerr", on: onWrite ? "w" : "r", n: 1 + rng.below(range) });
      }
    }
  }
  if (power && w.writes > 0 && (cls === "power" || rng.below(4) !== 0)) {
    faults.push({
      kind: "power",
      write: 1 + rng.below(w.writes),
      mode: CUT_MODES[rng.below(CUT_MODES.length)],
    });
  }
  return makePlan(faults);
}

/** Simpler variants of one fault: a milder cut mode (torn, reorder, atomic). */
function milder(f: Fault): Fault[] {
  if (f.kind !== "power") return [];
  const i = CUT_MODES.indexOf(f.mode);
  return CUT_MODES.slice(0, i).map((mode) => ({ ...f, mode }));
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
    const candidates: FaultPlan[] = [];
    for (let i = 0; i < best.faults.length; i++) {
      candidates.push(makePlan(best.faults.filter((_, j) => j !== i)));
    }
    for (let i = 0; i < best.faults.length; i++) {
      for (const m of milder(best.faults[i])) {
        candidates.push(makePlan(best.faults.map((f, j) => (j === i ? m : f))));
      }
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
