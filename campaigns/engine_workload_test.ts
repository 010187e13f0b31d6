/**
 * What a power cut keeps of the writes in flight, in the engine workload of `torture power`:
 * `reorder` keeps whole write requests (any subset, any order), `torn` single blocks, so only a
 * torn cut can leave part of a multi-block write on the disk.
 */

import { assert, assertEquals } from "../tests/assert.ts";
import { CrashBlockDevice } from "../core/statefs/crash_device.ts";
import { MemoryBlockDevice } from "../core/statefs/devices.ts";
import { StateFs } from "../core/statefs/engine.ts";
import { fsck } from "../core/statefs/fsck.ts";
import { survivorSets, tortureEngine } from "./engine_workload.ts";

Deno.test("survivor sets: reorder keeps or loses whole requests, torn may keep part of one", () => {
  // A three-block request (blocks 0..2), then a one-block request (block 3).
  const requests = [7, 7, 7, 8];
  const reorder = survivorSets(requests, "reorder", "exhaustive", 1, 8);
  assertEquals(reorder.map((s) => s.join(" ")), ["", "0 1 2", "3", "0 1 2 3"]);
  const torn = survivorSets(requests, "torn", "exhaustive", 1, 8);
  assertEquals(torn.length, 16);
  assert(torn.some((s) => s.join(" ") === "0 2"), "a torn cut may keep blocks 0 and 2 only");
  assertEquals(survivorSets(requests, "atomic", "exhaustive", 1, 8), [[0, 1, 2, 3]]);
  // Seeded draws: a reorder draw never splits the request, whatever the seed.
  for (let seed = 0; seed < 200; seed++) {
    for (const s of survivorSets(requests, "reorder", "linear", seed, 8)) {
      const part = s.filter((i) => i < 3).length;
      assert(part === 0 || part === 3, `seed ${seed}: ${s}`);
    }
  }
});

Deno.test("torn differs from reorder: only a torn cut leaves a multi-block journal write in part", async () => {
  const dev = new CrashBlockDevice(256);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  await fs.put("/state/small", new Uint8Array([1]));
  await fs.sync();
  // One put of 1.5 KiB: its sync writes the journal's tail as one request of several blocks.
  await fs.put("/state/big", new Uint8Array(1500).fill(0x5a));
  const from = dev.eventCount;
  await fs.sync();
  // The crash point with that request in flight: just before the sync completes.
  let at = from + 1;
  for (let e = from + 1; e <= dev.eventCount; e++) {
    if (dev.inFlight(e).length > dev.inFlight(at).length) at = e;
  }
  const flight = dev.inFlight(at);
  const requests = flight.map((w) => w.request);
  assert(flight.length >= 3, `${flight.length} blocks in flight`);
  const codes = async (behaviour: "reorder" | "torn") => {
    const seen = new Set<string>();
    for (const apply of survivorSets(requests, behaviour, "exhaustive", 1, 8)) {
      const rep = await fsck(MemoryBlockDevice.fromBytes(dev.crashImage(at, apply)));
      seen.add(rep.problems.map((p) => p.code).join(",") || "clean");
    }
    return [...seen].sort();
  };
  // Reorder: the request landed whole or not at all, so fsck finds every image clean.
  assertEquals(await codes("reorder"), ["clean"]);
  // Torn: some image holds the record's first blocks without the rest.
  const torn = await codes("torn");
  assert(torn.some((c) => c !== "clean"), torn.join(" | "));
});

Deno.test("torture power: torn cuts over an engine workload keep the contract", async () => {
  const torn = await tortureEngine(3, { mode: "linear", behaviours: ["torn"], ops: 24 });
  assertEquals(torn.problems, []);
  const reorder = await tortureEngine(3, { mode: "linear", behaviours: ["reorder"], ops: 24 });
  assertEquals(reorder.problems, []);
  assertEquals(torn.images, reorder.images);
});
