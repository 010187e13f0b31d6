/**
 * Crash consistency under the device model (block writes atomic; unsynced writes persist in any
 * subset and order). For seeded random operation sequences, every crash point (every block write
 * and flush) is materialised with several subsets/orders of the in-flight writes; each crash
 * image must open to exactly the state after some prefix of the operations, at least everything
 * before the last completed flush, never part of a batch; fsck must find nothing unrecoverable;
 * and the store must keep working after recovery (no stale record resurfacing). The operations
 * are the shared seeded workload (workload.ts), the one `nexus torture power` runs too.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { CrashBlockDevice } from "./crash_device.ts";
import { crc32c } from "./crc.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { StateFsError } from "./errors.ts";
import { fsck } from "./fsck.ts";
import { type WorkloadStep, workloadSteps } from "./workload.ts";
import { Prng } from "../simulation/prng.ts";

function fingerprint(entries: Iterable<[string, Uint8Array]>): string {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v.length}:${crc32c(v).toString(16)}`).join(",");
}

async function stateOf(fs: StateFs): Promise<string> {
  const out: Array<[string, Uint8Array]> = [];
  for (const k of fs.list("/state/", 1000)) out.push([k, (await fs.get(k))!]);
  return fingerprint(out);
}

/**
 * Applies `op` to the engine and, unless the engine refused with NO_SPACE, to the model.
 * Returns true when the op completed a durability point (a sync or a compaction).
 */
async function apply(
  fs: StateFs,
  model: Map<string, Uint8Array>,
  op: WorkloadStep,
): Promise<boolean> {
  try {
    switch (op.kind) {
      case "put":
        await fs.put(op.key, op.value);
        model.set(op.key, op.value);
        return false;
      case "delete":
        await fs.delete(op.key);
        model.delete(op.key);
        return false;
      case "batch":
        await fs.batch(op.ops, { abort: op.abort });
        if (!op.abort) {
          for (const b of op.ops) {
            if (b.op === "put") model.set(b.key, b.value);
            else model.delete(b.key);
          }
        }
        return false;
      case "sync":
        await fs.sync();
        return true;
      case "compact":
        await fs.compact();
        return true;
      case "reopen":
        await fs.reopen();
        return false;
    }
  } catch (err) {
    if (err instanceof StateFsError && err.code === "NO_SPACE") return false;
    throw err;
  }
}

interface Run {
  dev: CrashBlockDevice;
  /** states[j]: fingerprint after the first j operations. */
  states: string[];
  /** opStart[i]: device event count when operation i began (opStart[n] = final). */
  opStart: number[];
  /** Indices of ops that completed a sync or compaction. */
  durablePoints: number[];
  firstEvent: number;
}

async function run(seed: number, n: number, blocks: number, maxReplayRecords?: number) {
  const dev = new CrashBlockDevice(blocks);
  await StateFs.format(dev);
  const firstEvent = dev.eventCount;
  const fs = await StateFs.open(dev, { maxReplayRecords });
  const model = new Map<string, Uint8Array>();
  const states = [fingerprint(model)];
  const opStart: number[] = [];
  const durablePoints: number[] = [];
  for (const op of workloadSteps(seed, n)) {
    opStart.push(dev.eventCount);
    if (await apply(fs, model, op)) durablePoints.push(opStart.length - 1);
    const fp = fingerprint(model);
    assertEquals(await stateOf(fs), fp, `engine diverged from the model at op ${states.length}`);
    states.push(fp);
  }
  opStart.push(dev.eventCount);
  return { dev, states, opStart, durablePoints, firstEvent, compactions: fs.stats().compactions };
}

/** The op in progress at event `e` (ops before it completed). */
function opAt(r: Run, e: number): number {
  let i = 0;
  while (i + 1 < r.opStart.length && r.opStart[i + 1] <= e) i++;
  return i;
}

/**
 * Ops acknowledged before the last durability point (a completed `sync()` or `compact()`) that
 * finished before event `e`: all of them must survive.
 */
function durableAt(r: Run, e: number): number {
  let lo = 0;
  for (const i of r.durablePoints) if (r.opStart[i + 1] <= e) lo = i + 1;
  return lo;
}

function subsets(rng: Prng, n: number): number[][] {
  const all = [...Array(n).keys()];
  const out = [[], all];
  if (n > 1) out.push([...all].reverse());
  for (let k = 0; k < 4 && n > 0; k++) out.push(rng.shuffle(all.filter(() => rng.bool())));
  return out;
}

async function crashEverywhere(r: Run, seed: number, stride = 1): Promise<number> {
  const rng = Prng.stream(seed, "crash subsets");
  let images = 0;
  for (let e = r.firstEvent; e <= r.dev.eventCount; e += stride) {
    const inProgress = opAt(r, e);
    const lo = durableAt(r, e);
    const allowed = new Set(r.states.slice(lo, inProgress + 2));
    for (const pick of subsets(rng, r.dev.inFlight(e).length)) {
      const img = r.dev.crashImage(e, pick);
      images++;
      const where = `seed ${seed}, crash before event ${e} (op ${inProgress}), writes [${pick}]`;
      const dev = MemoryBlockDevice.fromBytes(img);
      const fs = await StateFs.open(dev);
      const got = await stateOf(fs);
      assert(
        allowed.has(got),
        `${where}: state is not a prefix between op ${lo} and ${inProgress + 1}`,
      );
      const report = await fsck(MemoryBlockDevice.fromBytes(img));
      assert(report.status !== "unrecoverable", `${where}: fsck ${JSON.stringify(report)}`);
      // Repair keeps the state; the store keeps working and nothing stale resurfaces.
      const repaired = MemoryBlockDevice.fromBytes(img);
      await fsck(repaired, { repair: true });
      assertEquals(await stateOf(await StateFs.open(repaired)), got, `${where}: repair`);
      await fs.put("/state/after-crash", new Uint8Array([1, 2, 3]));
      await fs.sync();
      const again = await StateFs.open(dev);
      const expect = new Map<string, Uint8Array>();
      for (const k of fs.list("/state/", 1000)) expect.set(k, (await fs.get(k))!);
      assertEquals(await stateOf(again), fingerprint(expect), `${where}: after recovery`);
      assert(again.list("/state/after-crash", 1).length === 1);
      assertEquals((await fsck(dev)).status, "clean", `${where}: fsck after recovery`);
    }
  }
  return images;
}

Deno.test("crash at every write: prefix state, durable syncs, atomic batches, clean tails", async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = await run(seed, 160, 40);
    assert(r.compactions > 0, "the sequence includes compactions");
    const images = await crashEverywhere(r, seed);
    assert(images > 500, `explored ${images} crash images`);
  }
});

Deno.test("crash consistency with a small replay bound (compaction forced by record count)", async () => {
  const r = await run(11, 80, 64, 24);
  assert(r.compactions > 2);
  await crashEverywhere(r, 11, 2);
});

Deno.test("crash during a legacy journal's migration to NXS2 loses nothing", async () => {
  const dev = new CrashBlockDevice(40);
  const fs = await StateFs.open(dev);
  assertEquals(fs.stats().layout, "legacy");
  await fs.put("/state/a", new Uint8Array([1]));
  await fs.batch([{ op: "put", key: "/state/b", value: new Uint8Array([2]) }]);
  await fs.sync();
  const before = dev.eventCount;
  const expected = await stateOf(fs);
  await fs.compact();
  assertEquals(fs.stats().layout, "nxs2");
  const rng = new Prng(99);
  for (let e = before; e <= dev.eventCount; e++) {
    for (const pick of subsets(rng, dev.inFlight(e).length)) {
      const img = dev.crashImage(e, pick);
      const reopened = await StateFs.open(MemoryBlockDevice.fromBytes(img));
      assertEquals(await stateOf(reopened), expected, `crash before event ${e}`);
    }
  }
});
