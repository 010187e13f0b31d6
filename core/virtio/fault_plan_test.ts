import fc from "fast-check";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { CUT_MODES, FaultyStore } from "./fault.ts";
import {
  faultOptions,
  type FaultPlan,
  FaultPlanError,
  formatFaultPlan,
  hasDiskFaults,
  isEmptyPlan,
  parseFaultPlan,
} from "./fault_plan.ts";
import { MemoryStore, StoreError } from "./store.ts";

const planArb: fc.Arbitrary<FaultPlan> = fc.record({
  ioErrors: fc.uniqueArray(
    fc.record({
      op: fc.constantFrom("read" as const, "write" as const, "flush" as const),
      nth: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).filter((n) => n < 1e15),
    }),
    { selector: (f) => `${f.op}:${f.nth}`, maxLength: 6 },
  ),
  powerCut: fc.option(
    fc.record({
      write: fc.integer({ min: 1, max: 999_999_999_999_999 }),
      mode: fc.constantFrom(...CUT_MODES),
    }),
    { nil: undefined },
  ),
}).map((p) => (p.powerCut === undefined ? { ioErrors: p.ioErrors } : p));

Deno.test("fault plan: format then parse gives the plan back; the text is canonical (property)", () => {
  fc.assert(
    fc.property(planArb, (plan) => {
      const text = formatFaultPlan(plan);
      const back = parseFaultPlan(text);
      assertEquals(formatFaultPlan(back), text);
      assertEquals(
        new Set(back.ioErrors.map((f) => `${f.op}:${f.nth}`)).size,
        plan.ioErrors.length,
      );
      assertEquals(back.powerCut, plan.powerCut && { ...plan.powerCut });
    }),
    { numRuns: 300, seed: 12 },
  );
});

Deno.test("fault plan: the documented forms", () => {
  assertEquals(parseFaultPlan("none"), { ioErrors: [] });
  assertEquals(isEmptyPlan(parseFaultPlan("none")), true);
  assertEquals(formatFaultPlan({ ioErrors: [] }), "none");
  assertEquals(parseFaultPlan("ioerr@w12,power@w156:reorder"), {
    ioErrors: [{ op: "write", nth: 12 }],
    powerCut: { write: 156, mode: "reorder" },
  });
  // Order of items does not matter; the canonical form sorts them and names the mode.
  assertEquals(
    formatFaultPlan(parseFaultPlan("power@w9,ioerr@f2,ioerr@w3,ioerr@r7")),
    "ioerr@r7,ioerr@w3,ioerr@f2,power@w9:atomic",
  );
});

Deno.test("fault plan: a crash names a service and its blocking syscall, and sorts before the power cut", () => {
  const plan = parseFaultPlan("power@w9:torn,crash@selftest-client:40,ioerr@r2");
  assertEquals(plan.crash, { task: "selftest-client", syscall: 40 });
  assertEquals(formatFaultPlan(plan), "ioerr@r2,crash@selftest-client:40,power@w9:torn");
  assertEquals(formatFaultPlan(parseFaultPlan(formatFaultPlan(plan))), formatFaultPlan(plan));
  const only = parseFaultPlan("crash@statefsd:7");
  assertEquals(isEmptyPlan(only), false);
  assertEquals(hasDiskFaults(only), false);
  assertEquals(hasDiskFaults(parseFaultPlan("ioerr@f1")), true);
  // The crash is the kernel's: the disk layer's options carry none of it.
  assertEquals(faultOptions(only, 5), { failRequests: { read: [], write: [], flush: [] } });
});

Deno.test("fault plan: every malformed plan is refused with a message naming the item", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /empty fault plan/],
    ["ioerr@w1,", /empty item/],
    [",ioerr@w1", /empty item/],
    ["ioerr@w1,,ioerr@w2", /empty item/],
    ["crash@s5", /expected crash@TASK:N/],
    ["crash@statefsd", /expected crash@TASK:N/],
    ["crash@statefsd:", /"" is not a count/],
    ["crash@statefsd:0", /"0" is not a count/],
    ["crash@Statefsd:3", /unknown fault/],
    ["crash@state_fsd:3", /expected crash@TASK:N/],
    ["crash@:3", /unknown fault/],
    ["crash@statefsd:3,crash@logd:2", /one crash/],
    ["kill@statefsd:3", /unknown fault/],
    ["ioerr", /unknown fault/],
    ["ioerr@12", /unknown fault/],
    ["IOERR@w1", /unknown fault/],
    [" ioerr@w1", /unknown fault/],
    ["ioerr@w1 ", /"1 " is not a count/],
    ["ioerr@x1", /request kind must be r, w or f/],
    ["ioerr@w0", /"0" is not a count/],
    ["ioerr@w01", /"01" is not a count/],
    ["ioerr@w-1", /"-1" is not a count/],
    ["ioerr@w1.5", /"1.5" is not a count/],
    ["ioerr@w", /"" is not a count/],
    ["ioerr@w1234567890123456", /is not a count/],
    ["ioerr@w3,ioerr@w3", /appears twice/],
    ["power@r5", /counts writes/],
    ["power@w5,power@w6", /one power cut/],
    ["power@w5:sideways", /mode must be atomic, reorder, torn/],
    ["power@w5:", /mode must be/],
    ["power@w:torn", /"" is not a count/],
    ["none,ioerr@w1", /unknown fault "none"/],
  ];
  for (const [text, re] of cases) {
    const err = assertThrows(() => parseFaultPlan(text), FaultPlanError);
    if (!re.test(err.message)) throw new Error(`${JSON.stringify(text)}: ${err.message}`);
  }
});

Deno.test("fault plan: applied to a store, the chosen requests fail and the cut keeps per the seed", () => {
  const plan = parseFaultPlan("ioerr@r2,ioerr@w3,ioerr@f1,power@w4:reorder");
  const opts = faultOptions(plan, 99);
  assertEquals(opts.failRequests, { read: [2], write: [3], flush: [1] });
  assertEquals(opts.cut !== undefined && typeof opts.cut === "object" ? opts.cut.write : 0, 4);
  // The survivor choice comes from the run seed: the same seed gives the same cut.
  assertEquals(faultOptions(plan, 99).cut, opts.cut);
  const store = new FaultyStore(new MemoryStore(16), opts);
  const data = new Uint8Array(512).fill(1);
  store.write(0, data);
  store.write(1, data);
  const w3 = assertThrows(() => store.write(2, data), StoreError);
  assertEquals([w3.code, w3.message], ["IO_ERROR", "injected I/O error on write #3"]);
  store.read(0, 1);
  assertEquals(assertThrows(() => store.read(0, 1), StoreError).code, "IO_ERROR");
  store.read(0, 1);
  assertEquals(assertThrows(() => store.flush(), StoreError).code, "IO_ERROR");
  assertEquals(store.cachedWrites, 2, "a failed flush moves nothing");
  assertEquals(store.injectedErrors, 3);
  store.write(3, data); // the 3rd completed write
  assertEquals(store.powerLost, false);
  store.write(4, data); // the 4th: power is cut right after it
  assertEquals(store.cut?.id.startsWith("cut:4:reorder:"), true);
  assertEquals(assertThrows(() => store.read(0, 1), StoreError).code, "POWER_LOST");
});

Deno.test("fault store: drain moves the cache to the medium without counting a flush", () => {
  const inner = new MemoryStore(8);
  const store = new FaultyStore(inner, { failRequests: { flush: [1] } });
  store.write(5, new Uint8Array(512).fill(7));
  assertEquals(inner.bytes[5 * 512], 0);
  store.drain();
  assertEquals(inner.bytes[5 * 512], 7);
  assertEquals([store.flushes, store.cachedWrites], [0, 0]);
  // The first counted flush is still the one chosen to fail.
  assertEquals(assertThrows(() => store.flush(), StoreError).code, "IO_ERROR");
});
