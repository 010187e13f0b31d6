import { assert, assertEquals, assertNotEquals } from "../../tests/assert.ts";
import { Kernel } from "../kernel/kernel.ts";
import { call, serve } from "../kernel/rpc.ts";
import { bytes, text } from "../kernel/test_util.ts";
import { RIGHT_RECV, RIGHT_SEND } from "../kernel/types.ts";
import type { DeviceEvent, SimSchedule, TraceEvent } from "../kernel/mod.ts";
import { VirtioBlkDriver } from "../virtio/blk_driver.ts";
import { MemoryStore } from "../virtio/store.ts";
import { runInTask, virtioRig } from "../virtio/test_util.ts";
import { Prng } from "./prng.ts";
import { MAX_COMPLETION_DELAY_NS, MAX_DELIVERY_DELAY_NS, SeededSchedule } from "./schedule.ts";

/** Three clients calling an upper-casing server, with sleeps: returns its trace and console. */
async function workload(seed?: number): Promise<{ trace: string; console: string[] }> {
  const events: TraceEvent[] = [];
  const k = new Kernel({
    tracer: (e) => events.push(e),
    ...(seed !== undefined ? { schedule: new SeededSchedule(seed) } : {}),
  });
  const server = k.spawn(
    "server",
    (sys) => serve(sys, 5, (req) => bytes(text(req.data).toUpperCase())),
  );
  const ep = k.createEndpoint(server, 2);
  k.placeCap(server, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
  for (const name of ["a", "b", "c"]) {
    const pid = k.spawn(name, async (sys) => {
      for (let i = 0; i < 4; i++) {
        const m = await call(sys, 6, 0, bytes(`${name}${i}`));
        sys.print(`${name} got ${text(m.data)}`);
        await sys.sleep(1000 * (i + 1));
      }
    });
    k.placeCap(pid, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  }
  const res = await k.run();
  assertEquals(res.reason, "idle");
  return { trace: JSON.stringify(events), console: k.console.lines().map((l) => l.text) };
}

Deno.test("seeded schedule: different seeds order the same work differently, each run correct", async () => {
  const runs = [];
  for (const seed of [1, 2, 3, 4, 12345]) {
    const run = await workload(seed);
    // Whatever the order, every call got its own answer.
    assertEquals(
      [...run.console].sort(),
      ["a", "b", "c"].flatMap((n) => [0, 1, 2, 3].map((i) => `${n} got ${n.toUpperCase()}${i}`)),
    );
    runs.push(run.trace);
  }
  assertEquals(new Set(runs).size, runs.length, "every seed gives its own schedule");
  // Without a schedule the kernel keeps its canonical order.
  assertNotEquals((await workload()).trace, runs[0]);
});

Deno.test("seeded schedule: the same seed replays the same run byte for byte", async () => {
  const a = await workload(777);
  const b = await workload(777);
  assertEquals(b.trace, a.trace);
  assertEquals(b.console, a.console);
});

Deno.test("seeded schedule: every choice stays in its bounds", () => {
  const s = new SeededSchedule(5);
  const picks = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const p = s.pickReady(3);
    assert(p >= 0 && p < 3);
    picks.add(p);
    const d = s.deliveryDelay();
    assert(Number.isInteger(d) && d >= 0 && d <= MAX_DELIVERY_DELAY_NS, `delivery ${d}`);
    const c = s.completionDelay();
    assert(Number.isInteger(c) && c >= 1 && c <= MAX_COMPLETION_DELAY_NS, `completion ${c}`);
  }
  assertEquals(picks.size, 3);
});

Deno.test("prng streams: one per name and seed, reproducible, unrelated to each other", () => {
  const draw = (p: Prng) => Array.from({ length: 8 }, () => p.nextU32());
  assertEquals(draw(Prng.stream(1, "schedule")), draw(Prng.stream(1, "schedule")));
  assertNotEquals(draw(Prng.stream(1, "schedule")), draw(Prng.stream(1, "delivery")));
  assertNotEquals(draw(Prng.stream(1, "schedule")), draw(Prng.stream(2, "schedule")));
  // Seeds beyond 32 bits still count in full.
  assertNotEquals(draw(Prng.stream(2 ** 32 + 1, "x")), draw(Prng.stream(1, "x")));
});

Deno.test("seeded schedule: a device completes later than it was handed the request, data intact", async () => {
  const events: TraceEvent[] = [];
  const rig = virtioRig(new MemoryStore(64), { tracer: (e) => events.push(e) });
  // The rig's kernel has no schedule: give the same device model one through a seeded kernel.
  const seeded = virtioRig(new MemoryStore(64), {
    tracer: (e) => events.push(e),
    schedule: new SeededSchedule(9),
  });
  for (const r of [rig, seeded]) {
    const back = await runInTask(r, async (sys, slot) => {
      const d = await VirtioBlkDriver.probe(sys, slot);
      await d.write(3, new Uint8Array(1024).fill(0x5a));
      return await d.read(3, 2);
    });
    assertEquals(back, new Uint8Array(1024).fill(0x5a));
  }
  const device = events.filter((e): e is DeviceEvent => e.kind === "device");
  const split = device.findIndex((e, i) => i > 0 && e.req === 1 && e.phase === "submit");
  const gaps = (events: DeviceEvent[]) => {
    const submit = new Map<number, number>();
    const out: number[] = [];
    for (const e of events) {
      if (e.phase === "submit") submit.set(e.req, e.time);
      else out.push(e.time - submit.get(e.req)!);
    }
    return out;
  };
  assertEquals(
    gaps(device.slice(0, split)),
    [0, 0],
    "without a schedule a device is instantaneous",
  );
  const delayed = gaps(device.slice(split));
  assertEquals(delayed.length, 2);
  assert(delayed.every((g) => g >= 1 && g <= MAX_COMPLETION_DELAY_NS), `${delayed}`);
});

Deno.test("seeded schedule: a receiver killed during its delivery delay never runs again", async () => {
  const slow: SimSchedule = {
    pickReady: () => 0,
    deliveryDelay: () => 1_000_000,
    completionDelay: () => 0,
  };
  const k = new Kernel({ schedule: slow });
  const seen: string[] = [];
  const rx = k.spawn("rx", async (sys) => {
    await sys.recv(5);
    seen.push("rx resumed");
  });
  const tx = k.spawn("tx", async (sys) => {
    await sys.send(5, bytes("x"));
    seen.push(`tx sent at ${sys.now()}`);
  });
  // Alive past the delay, so the run would reach the cancelled wake-up.
  k.spawn("sleeper", (sys) => sys.sleep(3_000_000));
  const ep = k.createEndpoint(rx, 2);
  k.placeCap(rx, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
  k.placeCap(tx, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  const first = await k.run({ shouldStop: () => seen.length > 0 });
  assertEquals(first.reason, "stopped");
  // Woken with the frame, it waits out the delay: ready in the table, not yet run.
  assertEquals(k.taskList()[0].state, "ready");
  k.kill(rx);
  // A dead task resumed would hang its step; the host's stuck-step guard ends the run then.
  const second = await k.run({ shouldStop: () => k.taskList()[0].state !== "exited" });
  assertEquals(second.reason, "all-exited");
  assertEquals(seen, ["tx sent at 2000"]);
  assertEquals(second.time, 3_003_000);
});
