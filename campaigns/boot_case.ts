/**
 * One boot case of a campaign: boot the system on a memory copy of a fresh image with a fault
 * plan, judge its console, then check what a reboot finds on the medium (the StateFS opens, fsck
 * is clean or repairable, the durability oracle explains the store) and, unless asked not to,
 * reboot it without faults under the next seed: the rebooted system must reach its ladder.
 *
 * A planned service crash fails the ladder with the kernel's `panic:` line when it strikes; the
 * boot then runs on until the system settles, to check what the rest of it does about the dead
 * service: it must come to rest (no endless loop), and no task may be left waiting on the dead
 * one (a caller's request to it ends in CLOSED, core/kernel/ipc.ts).
 *
 * @module
 */

import { bootSystem } from "../init/boot.ts";
import { SERVICES } from "../services/mod.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
import { CrashPoint, type SimSchedule } from "../core/kernel/kernel.ts";
import type { TaskInfo } from "../core/kernel/types.ts";
import { INIT_NAME } from "../init/manifest.ts";
import { defaultLadderPath, loadLadder, selectRequirement } from "../harness/ladder.ts";
import type { Requirement } from "../harness/ladder.ts";
import { Judge } from "../harness/judge.ts";
import type { Verdict } from "../harness/verdict.ts";
import { fsck } from "../core/statefs/fsck.ts";
import { mkfsImage, type MkfsOptions } from "../images/mkfs.ts";
import { parseRecipe, RecipeError } from "../images/recipe.ts";
import { readTextFileOr } from "../init/text_file.ts";
import { SelectError } from "./select.ts";
import { type CampaignOptions, recipeOption } from "./campaign.ts";
import { findStateArea, OverlayStore, readState, StoreDevice, type StoreState } from "./medium.ts";
import {
  faultCount,
  type FaultPlan,
  formatPlan,
  noFaults,
  powerOf,
  type Workload,
} from "./plan.ts";
import { PlanStore } from "./plan_store.ts";
import { type SfLog, tapStatefsd } from "./sf_tap.ts";
import { checkCrashState } from "./oracle.ts";

/** What every boot case of one process shares: the fresh image and the ladder. */
export interface BootBench {
  /** A freshly made default image (never written: each case writes a copy-on-write overlay). */
  template: Uint8Array;
  /** The StateFS contents of the fresh image. */
  initial: StoreState;
  /** The ladder cut every boot is judged against (phase `end`, stop once complete). */
  requirement: Requirement;
  /** Requests a fault-free boot makes (seed 1): the range plans draw from. */
  workload: Workload;
  /** Service modules to boot (default services/mod.ts SERVICES). */
  services?: Record<string, ServiceModule>;
}

/**
 * The image options a campaign's `recipe` option names: the recipe file at `path` (as
 * `nexus image mkfs --recipe` reads it), or the default image without one. A file that cannot be
 * read or parsed is a {@link SelectError}, one line naming the file.
 */
export async function recipeImage(path?: string): Promise<Omit<MkfsOptions, "force">> {
  if (path === undefined || path === "") return {};
  const text = await readTextFileOr(path, (why) => new SelectError(`recipe ${path}: ${why}`));
  try {
    return { recipe: parseRecipe(text, path) };
  } catch (err) {
    if (err instanceof RecipeError) throw new SelectError(err.message);
    throw err;
  }
}

/** The bench a campaign's options ask for: the image of their `recipe`, or the default one. */
export async function campaignBench(o: CampaignOptions, dir: string): Promise<BootBench> {
  return await makeBootBench(dir, undefined, await recipeImage(recipeOption(o)));
}

/**
 * Makes the shared bench: builds a fresh image in `dir` (the default one unless `image` shapes
 * it otherwise, e.g. a small one for a quick run) and measures a clean boot.
 */
export async function makeBootBench(
  dir: string,
  services?: Record<string, ServiceModule>,
  image: Omit<MkfsOptions, "force"> = {},
): Promise<BootBench> {
  const path = `${dir}/template.img`;
  await mkfsImage(path, { ...image, force: true });
  const template = await Deno.readFile(path);
  await Deno.remove(path);
  const requirement = selectRequirement(
    await loadLadder(defaultLadderPath(), "images/ladder.toml"),
    { phase: "end", untilMarker: true },
  );
  const area = await findStateArea(new OverlayStore(template));
  if ("error" in area) throw new Error(`fresh image: ${area.error}`);
  const initial = await readState(
    new StoreDevice(new OverlayStore(template), area.first, area.count),
  );
  const bench: BootBench = {
    template,
    initial,
    requirement,
    workload: { writes: 0, reads: 0 },
    ...(services ? { services } : {}),
  };
  const count = new CrashPoint();
  const probe = await bootOnce(bench, new OverlayStore(template), 1, noFaults(), undefined, count);
  const syscalls = Object.fromEntries(
    [...count.calls].filter(([name]) => name !== INIT_NAME).sort(([a], [b]) => a < b ? -1 : 1),
  );
  bench.workload = { writes: probe.store.writes, reads: probe.store.reads, syscalls };
  return bench;
}

/**
 * Scheduler steps a boot may take after a crash struck before it counts as not settling (a
 * whole fault-free boot takes a few thousand).
 */
export const SETTLE_STEPS = 50_000;

/** One boot's outcome. */
export interface BootRun {
  /** The judge's verdict. */
  verdict: Verdict;
  /** The medium with the plan applied. */
  store: PlanStore;
  /** statefsd's logical operations. */
  log: SfLog;
  /** An exception that escaped the boot, if any. */
  crashed?: string;
  /** With a planned crash that struck: the dead service, and how the run ended after it. */
  crash?: { task: string; settled: boolean; tasks: TaskInfo[] };
}

/** Boots once on `medium` with `plan`, stopping when the judge is done or the power is gone. */
export async function bootOnce(
  bench: BootBench,
  medium: OverlayStore,
  seed: number,
  plan: FaultPlan,
  schedule?: SimSchedule,
  count?: CrashPoint,
): Promise<BootRun> {
  const store = new PlanStore(medium, plan, seed);
  const log: SfLog = { ops: [] };
  const judge = new Judge(bench.requirement);
  let crashed: string | undefined;
  let end: Parameters<Judge["verdict"]>[0] = { reason: "idle", wallMs: 0 };
  const point = count ?? (plan.crash ? new CrashPoint(plan.crash) : undefined);
  let after = 0;
  // After the crash's failure line the run goes on, so the rest of the system shows what it does.
  const stop = () =>
    store.powerLost ||
    (judge.shouldStop && (point?.fired === undefined || ++after > SETTLE_STEPS));
  let crashEnd: BootRun["crash"];
  try {
    const out = await bootSystem({
      imagePath: "<memory image>",
      store,
      seed,
      ...(schedule ? { schedule } : {}),
      services: {
        ...(bench.services ?? SERVICES),
        statefsd: tapStatefsd((bench.services ?? SERVICES).statefsd, log),
      },
      ...(point ? { crashPoint: point } : {}),
      onLine: (line, t) => judge.feed(line, t),
      shouldStop: stop,
    });
    end = { reason: out.reason, virtualNs: out.virtualNs, wallMs: 0 };
    if (point?.fired !== undefined && plan.crash) {
      const settled = out.reason !== "stopped" || store.powerLost;
      crashEnd = { task: plan.crash.task, settled, tasks: out.tasks };
    }
  } catch (err) {
    crashed = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  store.settle();
  return {
    verdict: judge.verdict(end),
    store,
    log,
    crashed,
    ...(crashEnd ? { crash: crashEnd } : {}),
  };
}

/** What is wrong with how a boot ended after the planned crash of one service. */
export function crashProblems(run: BootRun): string[] {
  const c = run.crash;
  if (!c) return [];
  const problems: string[] = [];
  if (run.verdict.status === "PASS") problems.push(`${c.task} crashed and the ladder passed`);
  if (!c.settled) {
    problems.push(
      `the system did not come to rest within ${SETTLE_STEPS} steps after ${c.task} crashed`,
    );
  }
  for (const t of c.tasks) {
    if (t.state !== "blocked" || !t.blockedOn) continue;
    const b = t.blockedOn;
    if (b.peer === c.task || b.calling?.owner === c.task) {
      problems.push(`${t.name} still waits (${b.op}) on ${c.task}, which crashed`);
    }
  }
  return problems;
}

/** The result of one case. */
export interface CaseResult {
  /** The case id (the seed, or the cut point). */
  id: string;
  /** True when every check held. */
  ok: boolean;
  /** What went wrong, one line each. */
  problems: string[];
  /** The plan that ran. */
  plan: string;
  /** The one command that replays this case. */
  replay: string;
  /** Extra facts (requests made, where the power was cut). */
  detail?: Record<string, string | number>;
}

function verdictProblem(v: Verdict): string {
  const f = v.failures[0];
  if (f) return `line ${f.line}: ${f.text}`;
  const first = v.firstMissing;
  return `${v.markers.seen}/${v.markers.expected} markers, end ${v.end}${
    first ? `, first missing "${first.marker}" (${first.phase})` : ""
  }`;
}

/**
 * Checks what a reboot finds on `medium` after a run that logged `ops`: the StateFS opens, fsck
 * is clean or repairable, the oracle explains the state. Returns the problems found.
 */
export async function checkMedium(
  medium: OverlayStore,
  initial: StoreState,
  ops: SfLog["ops"],
): Promise<string[]> {
  const problems: string[] = [];
  const area = await findStateArea(medium);
  if ("error" in area) return [`partition table unreadable after the run: ${area.error}`];
  let state: StoreState;
  try {
    state = await readState(new StoreDevice(medium, area.first, area.count));
  } catch (err) {
    return [`StateFS does not open after the run: ${(err as Error).message}`];
  }
  try {
    const rep = await fsck(new StoreDevice(medium.clone(), area.first, area.count));
    if (rep.status === "unrecoverable") {
      problems.push(
        `fsck: unrecoverable (${rep.problems.map((p) => `${p.code}@${p.offset}`).join(", ")})`,
      );
    }
  } catch (err) {
    problems.push(`fsck threw: ${(err as Error).message}`);
  }
  const o = checkCrashState(initial, ops, state);
  if (!o.ok) problems.push(...o.problems);
  return problems;
}

/** How {@link runBootCase} runs a case beyond its seed and plan. */
export interface BootCaseOptions {
  /** Keeps the disk of a failing case; returns where it went (reported in the case's detail). */
  onFailure?: (medium: OverlayStore) => Promise<string | undefined>;
  /** The schedule a boot under a seed runs with (default: the kernel's FIFO order). */
  schedule?: (seed: number) => SimSchedule | undefined;
  /**
   * False skips the fault-free reboot: the case checks the faulted boot and the disk it leaves,
   * not that the disk boots again (about half the cost of a case).
   */
  reboot?: boolean;
}

/**
 * Runs one explore case: a boot with `plan`, the medium checks, and (unless `opts.reboot` is
 * false) a fault-free reboot that must pass the ladder. `replay` is the command line that reruns
 * it.
 */
export async function runBootCase(
  bench: BootBench,
  seed: number,
  plan: FaultPlan,
  replay: string,
  opts: BootCaseOptions = {},
): Promise<CaseResult> {
  const { onFailure, schedule } = opts;
  const reboot = opts.reboot !== false;
  const medium = new OverlayStore(bench.template);
  const problems: string[] = [];
  const first = await bootOnce(bench, medium, seed, plan, schedule?.(seed));
  if (first.crashed) problems.push(`boot threw: ${first.crashed}`);
  problems.push(...crashProblems(first));
  const cut = powerOf(plan) !== undefined && first.store.powerLost;
  if (faultCount(plan) === 0 && first.verdict.status !== "PASS") {
    problems.push(`boot failed without faults: ${verdictProblem(first.verdict)}`);
  } else if (!cut && first.verdict.status !== "PASS" && first.verdict.failures.length === 0) {
    // A fault may fail the boot, but with a failure line that says so, never a silent stall.
    problems.push(`boot stalled without a failure line: ${verdictProblem(first.verdict)}`);
  }
  problems.push(...await checkMedium(medium, bench.initial, first.log.ops));
  // The reboot writes the medium: a failure it finds keeps the disk as the faulted run left it.
  const afterRun = reboot && problems.length === 0 && onFailure ? medium.clone() : medium;
  if (reboot && problems.length === 0) {
    // The reboot runs under the next seed: the selftest tells a reloaded device key from a
    // remade one only when the boots' seeds differ.
    const next = seed + 1;
    const again = await bootOnce(bench, medium, next, noFaults(), schedule?.(next));
    if (again.crashed) problems.push(`reboot threw: ${again.crashed}`);
    else if (again.verdict.status !== "PASS") {
      problems.push(`reboot failed: ${verdictProblem(again.verdict)}`);
    }
  }
  const image = problems.length > 0 && onFailure ? await onFailure(afterRun) : undefined;
  return {
    id: String(seed),
    ok: problems.length === 0,
    problems,
    plan: formatPlan(plan),
    replay,
    detail: {
      writes: first.store.writes,
      reads: first.store.reads,
      ...(first.store.cutId ? { cut: first.store.cutId } : {}),
      ...(first.crash ? { crashed: first.crash.task } : {}),
      ...(image ? { image } : {}),
    },
  };
}
