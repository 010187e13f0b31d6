/**
 * A fault plan: which disk faults and which task crash a simulated run injects, in a compact text
 * form a command line can carry and a failing run can print for its replay.
 *
 * Syntax: `none`, or comma-separated items without spaces:
 *
 * | item | meaning |
 * | --- | --- |
 * | `ioerr@rN` / `ioerr@wN` / `ioerr@fN` | the N-th read / write / flush request fails with an I/O error (1-based, counting every attempt) |
 * | `power@wN:MODE` | power is cut right after the N-th completed write; MODE is `atomic`, `reorder` or `torn` (see fault.ts); `power@wN` means `atomic` |
 * | `crash@TASK:N` | the task (service) named TASK is killed as it enters its N-th blocking syscall (core/kernel/crash.ts) |
 *
 * For example `ioerr@w12,crash@statefsd:40,power@w156:reorder`. {@link formatFaultPlan} writes
 * the canonical form (I/O errors by kind then number, then the crash, the power cut last) that
 * {@link parseFaultPlan} reads back to the same plan. What a reorder or torn cut keeps is drawn from the run seed, so seed plus
 * plan replay a run exactly.
 *
 * @example Parse, apply, print
 * ```ts
 * import { faultOptions, formatFaultPlan, parseFaultPlan } from "./fault_plan.ts";
 * import { FaultyStore } from "./fault.ts";
 * import { MemoryStore } from "./store.ts";
 *
 * const plan = parseFaultPlan("power@w156:reorder,ioerr@w12");
 * const store = new FaultyStore(new MemoryStore(1024), faultOptions(plan, 7));
 * formatFaultPlan(plan); // "ioerr@w12,power@w156:reorder"
 * ```
 *
 * @module
 */

import { Prng } from "../simulation/prng.ts";
import { CUT_MODES, type CutMode, type FaultOptions, type RequestOp } from "./fault.ts";

/** One request chosen to fail. */
export interface IoErrorFault {
  /** Kind of request. */
  op: RequestOp;
  /** Which one, counting attempts of that kind from 1. */
  nth: number;
}

/** Which faults a run injects. */
export interface FaultPlan {
  /** Requests that fail with an I/O error, in canonical order. */
  ioErrors: IoErrorFault[];
  /** A power cut after the `write`-th completed write, keeping what `mode` says. */
  powerCut?: { write: number; mode: CutMode };
  /** A task killed entering its `syscall`-th blocking syscall (core/kernel/crash.ts). */
  crash?: { task: string; syscall: number };
}

/** A plan text that does not parse. */
export class FaultPlanError extends Error {
  /** Creates the error; `message` names the offending item. */
  constructor(message: string) {
    super(message);
    this.name = "FaultPlanError";
  }
}

/** The plan with no faults. */
export const NO_FAULTS: FaultPlan = Object.freeze({ ioErrors: [] }) as FaultPlan;

const OPS: Record<string, RequestOp> = { r: "read", w: "write", f: "flush" };
const OP_LETTER: Record<RequestOp, string> = { read: "r", write: "w", flush: "f" };
const OP_ORDER: Record<RequestOp, number> = { read: 0, write: 1, flush: 2 };
const SYNTAX =
  "expected none, or items ioerr@rN, ioerr@wN, ioerr@fN, power@wN[:atomic|reorder|torn], crash@TASK:N";
/** A task name as the manifest spells service names. */
const TASK_NAME = /^[a-z][a-z0-9-]{0,62}$/;

function count(text: string, item: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(text)) {
    throw new FaultPlanError(`fault "${item}": ${JSON.stringify(text)} is not a count from 1`);
  }
  return Number(text);
}

/** True when the plan injects nothing. */
export function isEmptyPlan(plan: FaultPlan): boolean {
  return !hasDiskFaults(plan) && plan.crash === undefined;
}

/** True when the plan injects I/O errors or a power cut (what the disk's fault layer carries). */
export function hasDiskFaults(plan: FaultPlan): boolean {
  return plan.ioErrors.length > 0 || plan.powerCut !== undefined;
}

/** Reads a plan from its text form; throws {@link FaultPlanError} naming what is wrong. */
export function parseFaultPlan(text: string): FaultPlan {
  if (text === "none") return { ioErrors: [] };
  if (text === "") throw new FaultPlanError(`empty fault plan (${SYNTAX})`);
  const plan: FaultPlan = { ioErrors: [] };
  const seen = new Set<string>();
  for (const item of text.split(",")) {
    if (item === "") throw new FaultPlanError(`empty item in fault plan "${text}" (${SYNTAX})`);
    const m = /^(ioerr|power|crash)@([a-z])(.*)$/.exec(item);
    if (!m) throw new FaultPlanError(`unknown fault "${item}" (${SYNTAX})`);
    const [, kind, letter, rest] = m;
    if (kind === "crash") {
      if (plan.crash) throw new FaultPlanError(`fault "${item}": a plan has one crash`);
      const spec = letter + rest;
      const colon = spec.lastIndexOf(":");
      const task = colon < 0 ? spec : spec.slice(0, colon);
      if (colon < 0 || !TASK_NAME.test(task)) {
        throw new FaultPlanError(`fault "${item}": expected crash@TASK:N, TASK a service name`);
      }
      plan.crash = { task, syscall: count(spec.slice(colon + 1), item) };
    } else if (kind === "ioerr") {
      const op = OPS[letter];
      if (!op) throw new FaultPlanError(`fault "${item}": request kind must be r, w or f`);
      const nth = count(rest, item);
      const key = `${op}:${nth}`;
      if (seen.has(key)) throw new FaultPlanError(`fault "${item}" appears twice`);
      seen.add(key);
      plan.ioErrors.push({ op, nth });
    } else {
      if (letter !== "w") {
        throw new FaultPlanError(`fault "${item}": a power cut counts writes (w)`);
      }
      if (plan.powerCut) throw new FaultPlanError(`fault "${item}": a plan has one power cut`);
      const colon = rest.indexOf(":");
      const n = colon < 0 ? rest : rest.slice(0, colon);
      const mode = colon < 0 ? "atomic" : rest.slice(colon + 1);
      if (!(CUT_MODES as readonly string[]).includes(mode)) {
        throw new FaultPlanError(
          `fault "${item}": power cut mode must be ${CUT_MODES.join(", ")}, got "${mode}"`,
        );
      }
      plan.powerCut = { write: count(n, item), mode: mode as CutMode };
    }
  }
  plan.ioErrors.sort((a, b) => OP_ORDER[a.op] - OP_ORDER[b.op] || a.nth - b.nth);
  return plan;
}

/** The canonical text of `plan` ("none" for no faults). */
export function formatFaultPlan(plan: FaultPlan): string {
  const items = [...plan.ioErrors]
    .sort((a, b) => OP_ORDER[a.op] - OP_ORDER[b.op] || a.nth - b.nth)
    .map((f) => `ioerr@${OP_LETTER[f.op]}${f.nth}`);
  if (plan.crash) items.push(`crash@${plan.crash.task}:${plan.crash.syscall}`);
  if (plan.powerCut) items.push(`power@w${plan.powerCut.write}:${plan.powerCut.mode}`);
  return items.length === 0 ? "none" : items.join(",");
}

/**
 * The {@link FaultyStore} options that inject `plan` in run `seed`: the numbered I/O errors, and
 * the power cut with its survivor choice drawn from the seed. (The crash is the kernel's.)
 */
export function faultOptions(plan: FaultPlan, seed: number): FaultOptions {
  const failRequests: Record<RequestOp, number[]> = { read: [], write: [], flush: [] };
  for (const f of plan.ioErrors) failRequests[f.op].push(f.nth);
  const opts: FaultOptions = { failRequests };
  if (plan.powerCut) {
    opts.cut = {
      write: plan.powerCut.write,
      mode: plan.powerCut.mode,
      seed: Prng.stream(seed, "power-cut").nextU32(),
    };
  }
  return opts;
}
