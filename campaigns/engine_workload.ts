/**
 * The random engine workload of `torture power`: the seeded sequence of
 * core/statefs/workload.ts (puts, deletes, batches, some aborted, syncs, compactions and
 * reopens) run once on a recording device (core/statefs/crash_device.ts); then every chosen
 * crash point is materialised with chosen subsets of the writes in flight, reopened, and checked
 * by the durability oracle, fsck, and a write after recovery. Crash points inside a compaction
 * (its superblock flip included) and inside the zeroing a reopened engine does before its first
 * append are crash points like any other: the workload compacts and reopens. A second scenario
 * crashes `fsck --repair` itself.
 *
 * @example
 * ```ts
 * import { tortureEngine } from "./engine_workload.ts";
 * const r = await tortureEngine(7, { mode: "linear", behaviours: ["atomic", "reorder"] });
 * r.problems; // [] when every crash image kept the contract
 * ```
 *
 * @module
 */

import { CrashBlockDevice } from "../core/statefs/crash_device.ts";
import { MemoryBlockDevice } from "../core/statefs/devices.ts";
import { StateFs } from "../core/statefs/engine.ts";
import { StateFsError } from "../core/statefs/errors.ts";
import { fsck } from "../core/statefs/fsck.ts";
import { type WorkloadStep, workloadSteps } from "../core/statefs/workload.ts";
import { Prng } from "../core/simulation/prng.ts";
import type { CutMode } from "../core/virtio/fault.ts";
import { readState, stateKey, type StoreState } from "./medium.ts";
import { checkCrashState, type LoggedOp } from "./oracle.ts";

/** Which crash points to try: every write, 1, 2, 4, 8 ..., or every write with every subset. */
export type PowerMode = "linear" | "log" | "exhaustive";

/** Options of one engine torture. */
export interface EngineTortureOptions {
  /** Crash-point schedule. */
  mode: PowerMode;
  /**
   * What of the writes in flight survives: all of them (`atomic`), whole write requests in any
   * subset and order (`reorder`), or single 512-byte blocks, so a multi-block request may land in
   * part (`torn`).
   */
  behaviours: readonly CutMode[];
  /** Operations in the workload (default 40). */
  ops?: number;
  /** Device blocks (default 1024: small, so compactions happen). */
  blocks?: number;
  /** exhaustive: in-flight writes up to which every subset is tried (default 8); beyond, that many seeded subsets. */
  bound?: number;
}

/** One workload step. */
type Step = WorkloadStep;

/** The seeded workload: `n` steps (core/statefs/workload.ts, with distinct values for the oracle). */
export function engineSteps(seed: number, n: number): Step[] {
  return workloadSteps(seed, n, { distinct: true });
}

/** An operation with the device events around it. */
interface Timed {
  op: LoggedOp | undefined;
  step: Step;
  start: number;
  end: number;
}

/** Runs the steps on a recording device; returns the device, the timeline and the initial state. */
async function record(steps: Step[], blocks: number) {
  const fresh = new MemoryBlockDevice(blocks);
  await StateFs.format(fresh);
  const initialBytes = new Uint8Array(blocks * 512);
  initialBytes.set(await fresh.read(0, blocks));
  const dev = new CrashBlockDevice(blocks, initialBytes);
  const fs = await StateFs.open(dev);
  const timeline: Timed[] = [];
  for (const step of steps) {
    const start = dev.eventCount;
    let op: LoggedOp | undefined;
    try {
      switch (step.kind) {
        case "put":
          await fs.put(step.key, step.value);
          op = { kind: "put", key: step.key, value: step.value, ack: "ok" };
          break;
        case "delete":
          await fs.delete(step.key);
          op = { kind: "delete", key: step.key, ack: "ok" };
          break;
        case "batch":
          await fs.batch(step.ops, { abort: step.abort });
          op = { kind: "batch", ops: step.ops, abort: step.abort, ack: "ok" };
          break;
        case "sync":
          await fs.sync();
          op = { kind: "sync", ack: "ok" };
          break;
        case "compact":
          await fs.compact();
          break;
        case "reopen":
          await fs.reopen();
          break;
      }
    } catch (err) {
      // A refusal (a full device, a delete of a missing key) changes nothing: not an operation.
      if (!(err instanceof StateFsError && (err.code === "NO_SPACE" || err.code === "NOT_FOUND"))) {
        throw err;
      }
    }
    timeline.push({ op, step, start, end: dev.eventCount });
  }
  return { dev, timeline, initial: await readState(MemoryBlockDevice.fromBytes(initialBytes)) };
}

/** The operations as a crash just before event `at` sees them. */
function opsAt(timeline: Timed[], at: number): LoggedOp[] {
  const out: LoggedOp[] = [];
  for (const t of timeline) {
    if (!t.op) continue;
    if (t.end <= at) out.push(t.op);
    else if (t.start < at) out.push({ ...t.op, ack: "maybe" } as LoggedOp);
  }
  return out;
}

/** The crash points a mode visits among `1..events`. */
export function crashPoints(mode: PowerMode, events: number): number[] {
  if (mode !== "log") return Array.from({ length: events }, (_, i) => i + 1);
  const out: number[] = [];
  for (let p = 1; p <= events; p *= 2) out.push(p);
  if (out[out.length - 1] !== events) out.push(events);
  return out;
}

/**
 * What may land of the blocks in flight (the requests they belong to, in issue order), as lists
 * of block indices in landing order, to try at one crash point: `atomic` all of them; `reorder`
 * whole requests, any subset in any order; `torn` single blocks, so a multi-block request may
 * land in part. `exhaustive` tries every subset of up to `bound` units (requests or blocks),
 * seeded subsets beyond; the other modes one seeded subset.
 */
export function survivorSets(
  requests: readonly number[],
  behaviour: CutMode,
  mode: PowerMode,
  seed: number,
  bound: number,
): number[][] {
  const blocks = requests.map((_, i) => i);
  if (behaviour === "atomic") return [blocks];
  // The units a cut keeps or loses: single blocks when it tears, else whole requests.
  const units: number[][] = [];
  for (const i of blocks) {
    const last = units[units.length - 1];
    if (behaviour !== "torn" && last && requests[last[0]] === requests[i]) last.push(i);
    else units.push([i]);
  }
  const rng = new Prng(seed);
  const pick = (keep: (u: number) => boolean) => units.filter((_, u) => keep(u));
  if (mode === "exhaustive" && units.length <= bound) {
    const out: number[][] = [];
    for (let m = 0; m < 1 << units.length; m++) out.push(pick((u) => ((m >> u) & 1) === 1).flat());
    return out;
  }
  const draws = mode === "exhaustive" ? bound : 1;
  return Array.from({ length: draws }, () => rng.shuffle(pick(() => rng.bool())).flat());
}

/** What one torture found. */
export interface TortureOutcome {
  /** Crash images checked. */
  images: number;
  /** Problems, each naming its crash point (`event@subset`). */
  problems: string[];
}

/** Checks one crash image: opens, fsck, the oracle, and a write after recovery. */
async function checkImage(
  img: Uint8Array,
  initial: StoreState,
  ops: LoggedOp[],
): Promise<string[]> {
  const dev = MemoryBlockDevice.fromBytes(img);
  let state: StoreState;
  try {
    state = await readState(dev);
  } catch (err) {
    return [`does not open: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  const rep = await fsck(MemoryBlockDevice.fromBytes(img));
  if (rep.status === "unrecoverable") {
    problems.push(`fsck unrecoverable: ${rep.problems.map((p) => p.code).join(",")}`);
  }
  const o = checkCrashState(initial, ops, state);
  if (!o.ok) problems.push(...o.problems);
  // The store keeps working: a write after recovery lands and nothing else changes.
  const fs = await StateFs.open(dev);
  await fs.put("/state/after-crash", new Uint8Array([1]));
  await fs.sync();
  const again = await readState(dev);
  again.delete("/state/after-crash");
  if (stateKey(again) !== stateKey(state)) {
    problems.push("a write after recovery changed other keys");
  }
  return problems;
}

/** Runs the engine workload of `seed` and checks the crash points `opts` selects. */
export async function tortureEngine(
  seed: number,
  opts: EngineTortureOptions,
): Promise<TortureOutcome> {
  const steps = engineSteps(seed, opts.ops ?? 40);
  const { dev, timeline, initial } = await record(steps, opts.blocks ?? 1024);
  const problems: string[] = [];
  let images = 0;
  for (const at of crashPoints(opts.mode, dev.eventCount)) {
    const flight = dev.inFlight(at);
    const ops = opsAt(timeline, at);
    for (const b of opts.behaviours) {
      for (
        const apply of survivorSets(
          flight.map((w) => w.request),
          b,
          opts.mode,
          (seed * 7919 + at) >>> 0,
          opts.bound ?? 8,
        )
      ) {
        images++;
        for (const p of await checkImage(dev.crashImage(at, apply), initial, ops)) {
          problems.push(
            `crash before event ${at} (${b}, writes ${apply.join(" ") || "none"} landed): ${p}`,
          );
        }
        if (problems.length >= 5) return { images, problems };
      }
    }
  }
  return { images, problems };
}

/**
 * Crashes `fsck --repair`: takes the engine workload's crash images that fsck calls repairable,
 * repairs each on a recording device, and crashes the repair at every write with the behaviours
 * given: every such image must open to the state the unrepaired image opened to.
 */
export async function tortureRepair(
  seed: number,
  opts: EngineTortureOptions,
): Promise<TortureOutcome> {
  const steps = engineSteps(seed, opts.ops ?? 40);
  const blocks = opts.blocks ?? 1024;
  const { dev } = await record(steps, blocks);
  const problems: string[] = [];
  let images = 0;
  let repaired = 0;
  for (const at of crashPoints("log", dev.eventCount)) {
    const flight = dev.inFlight(at);
    const rng = new Prng((seed ^ at) >>> 0);
    const img = dev.crashImage(at, rng.shuffle(flight.map((_, i) => i).filter(() => rng.bool())));
    const before = await fsck(MemoryBlockDevice.fromBytes(img));
    if (before.status !== "repairable") continue;
    repaired++;
    let want: string;
    try {
      want = stateKey(await readState(MemoryBlockDevice.fromBytes(img)));
    } catch {
      continue;
    }
    const rec = new CrashBlockDevice(blocks, img);
    await fsck(rec, { repair: true });
    for (let e = 1; e <= rec.eventCount; e++) {
      for (const b of opts.behaviours) {
        const requests = rec.inFlight(e).map((w) => w.request);
        for (const apply of survivorSets(requests, b, "linear", (seed + e) >>> 0, 8)) {
          images++;
          const cut = rec.crashImage(e, apply);
          try {
            const got = stateKey(await readState(MemoryBlockDevice.fromBytes(cut)));
            if (got !== want) {
              problems.push(
                `repair of crash image ${at} cut before event ${e} (${b}): the state changed`,
              );
            }
          } catch (err) {
            problems.push(
              `repair of crash image ${at} cut before event ${e} (${b}): does not open: ${
                (err as Error).message
              }`,
            );
          }
        }
      }
    }
    if (repaired >= 4) break;
  }
  return { images, problems };
}
