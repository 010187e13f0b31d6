/**
 * The StateFS engine, unchanged, on the virtio path statefsd uses: engine -> SubBlockDevice
 * (the partition) -> VirtioBlkDriver inside a simulated task -> virtio-blk device -> store.
 *
 * - the engine's own suite (core/statefs/testing/engine_suite.ts) over that path, on a disk with a
 *   volatile write cache, so only what FLUSH made durable survives from one run to the next;
 * - engine behaviour over virtio on a file-backed disk, cross-checked by opening the same file
 *   partition directly with the engine's own FileBlockDevice;
 * - a model-based run (random operations with random reopens against a Map);
 * - fault injection: for a sequence of engine operations, power is cut after every device write
 *   under each behaviour (atomic, reorder, torn); reopening must always succeed and must show the
 *   state after some prefix of the operations that includes everything synced.
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import type { Syscalls } from "../kernel/types.ts";
import { FileBlockDevice, SubBlockDevice } from "../statefs/devices.ts";
import { type BatchOp, StateFs } from "../statefs/engine.ts";
import { defineEngineSuite, type EngineRig } from "../statefs/testing/engine_suite.ts";
import { StateFsError } from "../statefs/errors.ts";
import { fsck } from "../statefs/fsck.ts";
import { type ProbeOptions, VirtioBlkDriver } from "./blk_driver.ts";
import { CUT_MODES, FaultyStore, formatCutId } from "./fault.ts";
import { Prng } from "../simulation/prng.ts";
import { type BlockStore, FileRegionStore, MemoryStore } from "./store.ts";
import { runInTask, virtioRig } from "./test_util.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Partition of the test disks holding the StateFS (like the image's `nexus-state`). */
const PART_START = 64;
const PART_BLOCKS = 192;
const DISK_SECTORS = PART_START + PART_BLOCKS + 16;

/**
 * Runs `body` in statefsd over `store` with the StateFS partition, returning its result.
 * `probe` tunes the driver (small requests give the fault tests more cut points).
 */
function onVirtio<T>(
  store: BlockStore,
  body: (part: SubBlockDevice, sys: Syscalls) => Promise<T>,
  probe: ProbeOptions = {},
): Promise<T> {
  const rig = virtioRig(store, { memorySize: 2 * 1024 * 1024 });
  return runInTask(rig, async (sys, slot) => {
    const driver = await VirtioBlkDriver.probe(sys, slot, probe);
    return body(new SubBlockDevice(driver, PART_START, PART_BLOCKS), sys);
  });
}

/** Sectors before and after the suite's partition, filled with a pattern no run may touch. */
const GUARD_SECTORS = 8;
const GUARD_BYTE = 0xa5;

/**
 * The engine suite's rig: each run boots a fresh kernel and driver over a disk holding the
 * device's bytes as a partition between two guard areas. The disk has a volatile write cache
 * (a {@link FaultyStore} that never cuts), so `snapshot()` and the next run see only what the
 * driver's FLUSH made durable. Requests of at most 2 sectors turn every larger transfer into
 * several requests in flight, so the driver's splitting and batching carry the engine's I/O too.
 */
const virtioEngineRig: EngineRig = {
  async run(device, body) {
    const blocks = typeof device === "number" ? device : device.length / 512;
    const medium = new MemoryStore(blocks + 2 * GUARD_SECTORS);
    medium.bytes.fill(GUARD_BYTE);
    const start = GUARD_SECTORS * 512;
    const end = start + blocks * 512;
    if (typeof device === "number") medium.bytes.fill(0, start, end);
    else medium.bytes.set(device, start);
    const disk = new FaultyStore(medium);
    const rig = virtioRig(disk, { memorySize: 1024 * 1024 });
    const out = await runInTask(rig, async (sys, slot) => {
      const driver = await VirtioBlkDriver.probe(sys, slot, { maxSectorsPerRequest: 2 });
      const dev = new SubBlockDevice(driver, GUARD_SECTORS, blocks);
      return await body(dev, () => medium.bytes.slice(start, end));
    });
    // Read through the write cache: an unflushed stray write counts too.
    for (const at of [0, GUARD_SECTORS + blocks]) {
      const guard = disk.read(at, GUARD_SECTORS);
      assert(guard.every((b) => b === GUARD_BYTE), `guard at sector ${at} was overwritten`);
    }
    return out;
  },
};

defineEngineSuite("virtio", virtioEngineRig);

function fingerprint(entries: Iterable<[string, Uint8Array]>): string {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${[...v].join(".")}`).join(",");
}

async function stateOf(fs: StateFs): Promise<string> {
  const out: [string, Uint8Array][] = [];
  for (const k of fs.list("/state/", 10_000)) out.push([k, (await fs.get(k))!]);
  return fingerprint(out);
}

// ---- behaviour over virtio ----

Deno.test("statefs over virtio: format, put/get/delete/list, sync, reopen, compact on a file disk", async () => {
  const path = await Deno.makeTempFile({ suffix: ".img" });
  try {
    await Deno.writeFile(path, new Uint8Array(DISK_SECTORS * 512));
    const file = await Deno.open(path, { read: true, write: true });
    const store = new FileRegionStore(file, 0, DISK_SECTORS * 512);
    const seen = await onVirtio(store, async (part) => {
      await StateFs.format(part);
      const fs = await StateFs.open(part);
      await fs.put("/state/a", enc.encode("alpha"));
      await fs.put("/state/b", new Uint8Array(1500).fill(0xb)); // spans blocks
      await fs.put("/state/c/d", enc.encode("gamma"));
      await fs.delete("/state/a");
      await fs.batch([
        { op: "put", key: "/state/t1", value: enc.encode("one") },
        { op: "put", key: "/state/t2", value: enc.encode("two") },
      ]);
      await fs.sync();
      const before = await stateOf(fs);
      await fs.reopen();
      const afterReopen = await stateOf(fs);
      for (let i = 0; i < 30; i++) await fs.put("/state/churn", enc.encode(`v${i}`));
      await fs.compact();
      const stats = fs.stats();
      const reopened = await StateFs.open(part);
      return {
        before,
        afterReopen,
        afterCompact: await stateOf(reopened),
        list: reopened.list("/state/", 10),
        churn: dec.decode((await reopened.get("/state/churn"))!),
        generation: stats.generation,
        compactions: stats.compactions,
      };
    });
    file.close();
    assertEquals(seen.afterReopen, seen.before, "reopen replays exactly what was synced");
    assertEquals(seen.list, ["/state/b", "/state/c/d", "/state/churn", "/state/t1", "/state/t2"]);
    assertEquals(seen.churn, "v29");
    assert(seen.compactions >= 1 && seen.generation >= 2, `compacted (gen ${seen.generation})`);

    // The same partition read straight from the file by the engine's own file device.
    const direct = await FileBlockDevice.open(path, {
      offsetBytes: PART_START * 512,
      lengthBytes: PART_BLOCKS * 512,
      readOnly: true,
    });
    const fs = await StateFs.open(direct);
    assertEquals(await stateOf(fs), seen.afterCompact, "virtio wrote real bytes at the partition");
    assertEquals((await fsck(direct)).status, "clean");
    direct.close();
    const raw = await Deno.readFile(path);
    assert(raw.subarray(0, PART_START * 512).every((b) => b === 0), "nothing before the partition");
    assert(
      raw.subarray((PART_START + PART_BLOCKS) * 512).every((b) => b === 0),
      "nothing after the partition",
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("statefs over virtio: a failing disk surfaces as IO_ERROR from the engine", async () => {
  // Sector PART_START + 1 is the first block of region A: the journal cannot be read.
  const store = new MemoryStore(DISK_SECTORS);
  await onVirtio(store, async (part) => await StateFs.format(part));
  const faulty = new FaultyStore(store, { readErrors: [PART_START + 1] });
  const code = await onVirtio(faulty, async (part) => {
    try {
      await StateFs.open(part);
      return "opened";
    } catch (err) {
      return err instanceof StateFsError ? err.code : String(err);
    }
  });
  assertEquals(code, "IO_ERROR");
});

Deno.test("statefs over virtio: model-based random operations with reopens", async () => {
  const rng = new Prng(77);
  const keys = ["a", "b", "c", "d/e", "f", "g"].map((k) => `/state/${k}`);
  const result = await onVirtio(new MemoryStore(DISK_SECTORS), async (part) => {
    await StateFs.format(part);
    let fs = await StateFs.open(part);
    const model = new Map<string, Uint8Array>();
    const mismatches: string[] = [];
    for (let step = 0; step < 300; step++) {
      const r = rng.below(100);
      const key = keys[rng.below(keys.length)];
      if (r < 45) {
        const v = rng.fill(new Uint8Array(rng.below(r < 5 ? 2000 : 60)));
        await fs.put(key, v);
        model.set(key, v);
      } else if (r < 60) {
        const live = [...model.keys()];
        if (live.length === 0) continue;
        const victim = live[rng.below(live.length)];
        await fs.delete(victim);
        model.delete(victim);
      } else if (r < 75) {
        await fs.sync();
      } else if (r < 85) {
        const got = await fs.get(key);
        const want = model.get(key);
        if (fingerprint(got ? [[key, got]] : []) !== fingerprint(want ? [[key, want]] : [])) {
          mismatches.push(`step ${step}: get ${key}`);
        }
      } else if (r < 95) {
        await fs.sync();
        fs = await StateFs.open(part);
      } else {
        await fs.compact();
      }
      if (step % 50 === 49 && (await stateOf(fs)) !== fingerprint(model)) {
        mismatches.push(`step ${step}: state`);
      }
    }
    return { mismatches, compactions: fs.stats().generation };
  });
  assertEquals(result.mismatches, []);
  assert(result.compactions > 1, "the run went through compactions");
});

// ---- fault injection ----

type Op =
  | { kind: "put"; key: string; value: Uint8Array }
  | { kind: "delete"; key: string }
  | { kind: "batch"; ops: BatchOp[] }
  | { kind: "sync" }
  | { kind: "compact" };

/** A fixed workload: puts (one multi-block), deletes, a batch, syncs and a compaction. */
function workload(): Op[] {
  const v = (s: string) => enc.encode(s);
  return [
    { kind: "put", key: "/state/a", value: v("a1") },
    { kind: "put", key: "/state/b", value: new Uint8Array(1300).fill(0xbb) },
    { kind: "sync" },
    { kind: "put", key: "/state/a", value: v("a2") },
    { kind: "put", key: "/state/big", value: new Uint8Array(5000).fill(0x5b) },
    { kind: "delete", key: "/state/b" },
    {
      kind: "batch",
      ops: [
        { op: "put", key: "/state/t/1", value: new Uint8Array(700).fill(1) },
        { op: "put", key: "/state/t/2", value: v("two") },
        { op: "delete", key: "/state/a" },
      ],
    },
    { kind: "sync" },
    { kind: "put", key: "/state/c", value: v("c1") },
    { kind: "compact" },
    { kind: "put", key: "/state/c", value: new Uint8Array(900).fill(0xcc) },
    { kind: "put", key: "/state/d", value: v("d1") },
    { kind: "sync" },
    { kind: "delete", key: "/state/t/2" },
    { kind: "put", key: "/state/e", value: v("e1") },
    { kind: "sync" },
    {
      kind: "batch",
      ops: [
        { op: "put", key: "/state/e", value: new Uint8Array(3100).fill(0xee) },
        { op: "delete", key: "/state/c" },
      ],
    },
    { kind: "put", key: "/state/f", value: v("f1") },
    { kind: "sync" },
    { kind: "compact" },
    { kind: "put", key: "/state/g", value: v("g1") },
    { kind: "sync" },
  ];
}

/** Model states after each prefix of `ops` (index i = after the first i operations). */
function prefixStates(ops: Op[]): string[] {
  const model = new Map<string, Uint8Array>();
  const states = [fingerprint(model)];
  for (const op of ops) {
    if (op.kind === "put") model.set(op.key, op.value);
    else if (op.kind === "delete") model.delete(op.key);
    else if (op.kind === "batch") {
      for (const b of op.ops) b.op === "put" ? model.set(b.key, b.value) : model.delete(b.key);
    }
    states.push(fingerprint(model));
  }
  return states;
}

interface RunOutcome {
  /** Operations started (the last may have failed). */
  invoked: number;
  /** Operations that completed before the last completed sync or compaction. */
  durable: number;
  /** The error that stopped the run, if any. */
  error?: string;
}

/** Small device requests: every engine write becomes several, so there are more cut points. */
const SMALL_REQUESTS: ProbeOptions = { maxSectorsPerRequest: 2 };

async function runWorkload(store: BlockStore, ops: Op[]): Promise<RunOutcome> {
  return await onVirtio(store, async (part) => {
    const out: RunOutcome = { invoked: 0, durable: 0 };
    try {
      const fs = await StateFs.open(part);
      for (const op of ops) {
        out.invoked++;
        if (op.kind === "put") await fs.put(op.key, op.value);
        else if (op.kind === "delete") await fs.delete(op.key);
        else if (op.kind === "batch") await fs.batch(op.ops);
        else if (op.kind === "sync") await fs.sync();
        else await fs.compact();
        if (op.kind === "sync" || op.kind === "compact") out.durable = out.invoked;
      }
    } catch (err) {
      out.error = err instanceof StateFsError ? `${err.code}: ${err.message}` : String(err);
    }
    return out;
  }, SMALL_REQUESTS);
}

Deno.test("fault injection: a power cut at every write, under every behaviour, never loses a synced operation", async () => {
  const ops = workload();
  const states = prefixStates(ops);

  // A formatted disk to start every run from, and the number of device writes the workload does.
  const base = new MemoryStore(DISK_SECTORS);
  await onVirtio(base, async (part) => await StateFs.format(part));
  const image = base.bytes.slice();
  const dry = new FaultyStore(new MemoryStore(image.slice()));
  const clean = await runWorkload(dry, ops);
  assertEquals(clean, { invoked: ops.length, durable: ops.length }, "the workload runs clean");
  const writes = dry.writes;
  assert(writes >= 20, `the workload issues a fair number of writes (${writes})`);

  let runs = 0;
  let lostUnsynced = 0;
  for (const [m, mode] of CUT_MODES.entries()) {
    for (let n = 1; n <= writes; n++) {
      const id = formatCutId({ write: n, mode, seed: n * 31 + m });
      const inner = new MemoryStore(image.slice());
      const faulty = new FaultyStore(inner, { cut: id });
      const run = await runWorkload(faulty, ops);
      assert(faulty.powerLost, `${id}: power was cut`);
      // A cut at the workload's last write (the synced-end mark written after the final flush)
      // has no later request to fail: nothing can see it.
      assert(
        run.error?.startsWith("IO_ERROR") || (n === writes && run.error === undefined),
        `${id}: the engine saw the dead disk (${run.error})`,
      );

      // Reboot: a fresh kernel, device and driver over what reached the medium.
      const after = await onVirtio(inner, async (part) => {
        try {
          const fs = await StateFs.open(part);
          return { state: await stateOf(fs), fsck: (await fsck(part)).status };
        } catch (err) {
          return { error: String(err) };
        }
      });
      assert(!("error" in after), `${id}: reopen failed: ${"error" in after ? after.error : ""}`);
      const { state, fsck: verdict } = after as { state: string; fsck: string };
      const prefixes = states
        .map((s, p) => (s === state ? p : -1))
        .filter((p) => p >= run.durable && p <= run.invoked);
      assert(
        prefixes.length > 0,
        `${id}: reopened state is not the state after any prefix in ${run.durable}..${run.invoked}`,
      );
      assert(verdict !== "unrecoverable", `${id}: fsck says ${verdict}`);
      if (!prefixes.includes(run.invoked) && state !== states[run.invoked]) lostUnsynced++;
      runs++;
    }
  }
  assertEquals(runs, 3 * writes);
  assert(lostUnsynced > 0, "some cuts really lost unsynced work (the faults bite)");
});

Deno.test("fault injection: a failing cut id replays to the identical disk image", async () => {
  const ops = workload();
  const base = new MemoryStore(DISK_SECTORS);
  await onVirtio(base, async (part) => await StateFs.format(part));
  const image = base.bytes.slice();
  const once = async (id: string) => {
    const inner = new MemoryStore(image.slice());
    await runWorkload(new FaultyStore(inner, { cut: id }), ops);
    return inner.bytes;
  };
  for (const id of ["cut:5:torn:4242", "cut:9:reorder:7", "cut:3:atomic:0"]) {
    assertEquals(await once(id), await once(id), id);
  }
  assert(
    (await once("cut:9:torn:1")).some((b, i) => b !== image[i]),
    "a cut image differs from the formatted one",
  );
});
