import { assert, assertEquals, assertThrows } from "../tests/assert.ts";
import { drawPlan, type FaultPlan, formatPlan, parsePlan, PlanError, shrinkPlan } from "./plan.ts";

Deno.test("plan text round-trips in canonical order", () => {
  const p = parsePlan("power@w156:reorder,ioerr@w12,ioerr@r3");
  assertEquals(formatPlan(p), "ioerr@r3,ioerr@w12,power@w156:reorder");
  assertEquals(formatPlan(parsePlan("")), "none");
  assertEquals(formatPlan(parsePlan(formatPlan(p))), formatPlan(p));
  assertEquals(formatPlan(parsePlan("none")), "none");
  assertEquals(formatPlan(parsePlan("power@w4")), "power@w4:atomic");
});

Deno.test("bad plans are refused with the part at fault", () => {
  for (const bad of ["power@w0", "ioerr@x3", "power@w3:melt", "power@w1,power@w2", "ioerr@w"]) {
    assertThrows(() => parsePlan(bad), PlanError);
  }
});

Deno.test("a seed draws the same plan every time, and different seeds differ", () => {
  const w = { writes: 160, reads: 1200 };
  assertEquals(formatPlan(drawPlan(42, "all", w)), formatPlan(drawPlan(42, "all", w)));
  const distinct = new Set(
    Array.from({ length: 50 }, (_, s) => formatPlan(drawPlan(s, "power", w))),
  );
  assert(distinct.size > 40, `only ${distinct.size} distinct plans`);
  assertEquals(formatPlan(drawPlan(5, "none", w)), "none");
  for (let s = 0; s < 50; s++) {
    const p = drawPlan(s, "all", w);
    if (p.powerCut) assert(p.powerCut.write >= 1 && p.powerCut.write <= 160);
    for (const f of p.ioErrors) assert(f.nth >= 1 && f.nth <= (f.op === "write" ? 160 : 1200));
  }
});

Deno.test("shrinking keeps only the faults the failure needs, with the mildest cut", async () => {
  const big = parsePlan("ioerr@r5,ioerr@w7,ioerr@w9,power@w30:torn");
  // The "bug": fails whenever write 9 errors and the power is cut after write 30 in any mode.
  const fails = (p: FaultPlan) =>
    Promise.resolve(
      p.ioErrors.some((f) => f.op === "write" && f.nth === 9) && p.powerCut?.write === 30,
    );
  const { plan } = await shrinkPlan(big, fails);
  assertEquals(formatPlan(plan), "ioerr@w9,power@w30:atomic");
});

Deno.test("a seed that draws the same request twice gets a valid plan (seeds 3324, 8444)", () => {
  const w = { writes: 162, reads: 1288 };
  for (const seed of [3324, 8444]) {
    const p = drawPlan(seed, "all", w);
    assertEquals(formatPlan(parsePlan(formatPlan(p))), formatPlan(p));
  }
  for (let seed = 1; seed <= 20000; seed++) parsePlan(formatPlan(drawPlan(seed, "disk", w)));
});

Deno.test("crash plans: one service at one of its counted syscalls; `all` adds one a quarter of the time", () => {
  const syscalls = { logd: 40, rngd: 4, statefsd: 900, idle: 0 };
  const w = { writes: 160, reads: 1200, syscalls };
  const seen = new Set<string>();
  for (let s = 1; s <= 200; s++) {
    const p = drawPlan(s, "crash", w);
    assertEquals([p.ioErrors.length, p.powerCut], [0, undefined]);
    const c = p.crash!;
    assert(c.syscall >= 1 && c.syscall <= syscalls[c.task as keyof typeof syscalls], c.task);
    seen.add(c.task);
  }
  // Services are drawn evenly (not by how many calls they make); one that made none never is.
  assertEquals([...seen].sort(), ["logd", "rngd", "statefsd"]);
  let withCrash = 0;
  for (let s = 1; s <= 400; s++) {
    const p = drawPlan(s, "all", w);
    if (p.crash) withCrash++;
    // The crash is drawn apart: the disk faults are the ones a workload without services gets.
    const { crash: _, ...disk } = p;
    assertEquals(formatPlan(disk), formatPlan(drawPlan(s, "all", { writes: 160, reads: 1200 })));
  }
  assert(withCrash > 70 && withCrash < 130, `${withCrash} of 400`);
  assertEquals(drawPlan(3, "crash", { writes: 160, reads: 1200 }).crash, undefined);
});

Deno.test("shrinking drops a crash the failure does not need, and keeps one it does", async () => {
  const big = parsePlan("ioerr@w9,crash@statefsd:31,power@w30:torn");
  const needsCut = (p: FaultPlan) => Promise.resolve(p.powerCut?.write === 30);
  assertEquals(formatPlan((await shrinkPlan(big, needsCut)).plan), "power@w30:atomic");
  const needsCrash = (p: FaultPlan) => Promise.resolve(p.crash?.task === "statefsd");
  assertEquals(formatPlan((await shrinkPlan(big, needsCrash)).plan), "crash@statefsd:31");
});
