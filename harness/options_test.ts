import { assertEquals, assertMatch, assertThrows } from "../tests/assert.ts";
import { HarnessError } from "./errors.ts";
import { DEFAULT_TIMEOUT_MS, resolveRunOptions, type RunFlags } from "./options.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("without flags or variables the defaults apply", () => {
  assertEquals(resolveRunOptions({}, env({})), {
    timeoutMs: DEFAULT_TIMEOUT_MS,
    keepImage: false,
    requireColdBoot: false,
    notices: [],
  });
});

Deno.test("the original harness's variables work as aliases", () => {
  const o = resolveRunOptions(
    {},
    env({
      RUN_PHASE: "mmio",
      RUN_UNTIL_MARKER: "1",
      RUN_TIMEOUT: "120s",
      INIT_LITE_WATCHDOG_TICKS: "800",
      NEXUS_KEEP_BLK: "1",
      REQUIRE_STATEFS_COLD_BOOT: "1",
    }),
  );
  assertEquals(o, {
    phase: "mmio",
    untilMarker: true,
    timeoutMs: 120_000,
    watchdogTicks: 800,
    keepImage: true,
    requireColdBoot: true,
    notices: [],
  });
  assertEquals(
    resolveRunOptions({}, env({ RUN_UNTIL_MARKER: "SELFTEST: end" })).untilMarker,
    "SELFTEST: end",
  );
  assertEquals(resolveRunOptions({}, env({ RUN_UNTIL_MARKER: "0" })).untilMarker, undefined);
  assertEquals(resolveRunOptions({}, env({ NEXUS_KEEP_BLK: "0" })).keepImage, false);
  assertEquals(resolveRunOptions({}, env({ RUN_PHASE: "" })).phase, undefined);
});

Deno.test("a flag wins over a conflicting variable with a one-line notice", () => {
  const flags: RunFlags = {
    phase: "bring-up",
    untilMarker: "init: ready",
    timeout: "5s",
    watchdogTicks: "100",
    keepImage: true,
  };
  const o = resolveRunOptions(
    flags,
    env({
      RUN_PHASE: "mmio",
      RUN_UNTIL_MARKER: "1",
      RUN_TIMEOUT: "2m",
      INIT_LITE_WATCHDOG_TICKS: "800",
      NEXUS_KEEP_BLK: "0",
    }),
  );
  assertEquals(o.phase, "bring-up");
  assertEquals(o.untilMarker, "init: ready");
  assertEquals(o.timeoutMs, 5000);
  assertEquals(o.watchdogTicks, 100);
  assertEquals(o.keepImage, true);
  assertEquals(o.notices, [
    "notice: --phase bring-up overrides RUN_PHASE=mmio",
    'notice: --until-marker "init: ready" overrides RUN_UNTIL_MARKER=1',
    "notice: --timeout 5s overrides RUN_TIMEOUT=2m",
    "notice: --watchdog-ticks 100 overrides INIT_LITE_WATCHDOG_TICKS=800",
    "notice: --keep-image overrides NEXUS_KEEP_BLK=0",
  ]);
});

Deno.test("agreeing flags and variables give no notice; a flag silences a bad variable", () => {
  const o = resolveRunOptions(
    { phase: "mmio", untilMarker: true, timeout: "2m", requireColdBoot: true },
    env({
      RUN_PHASE: "mmio",
      RUN_UNTIL_MARKER: "1",
      RUN_TIMEOUT: "120s",
      REQUIRE_STATEFS_COLD_BOOT: "yes",
    }),
  );
  assertEquals(o.notices, []);
  const bad = resolveRunOptions({ timeout: "5s" }, env({ RUN_TIMEOUT: "soon" }));
  assertEquals(bad.timeoutMs, 5000);
  assertEquals(bad.notices, ["notice: --timeout 5s overrides RUN_TIMEOUT=soon"]);
});

Deno.test("bad variable values are BAD_ENV errors naming the variable", () => {
  for (
    const [name, value] of [
      ["RUN_TIMEOUT", "soon"],
      ["INIT_LITE_WATCHDOG_TICKS", "-3"],
      ["INIT_LITE_WATCHDOG_TICKS", "many"],
      ["NEXUS_KEEP_BLK", "maybe"],
      ["REQUIRE_STATEFS_COLD_BOOT", "2"],
    ]
  ) {
    const err = assertThrows(() => resolveRunOptions({}, env({ [name]: value })), HarnessError);
    assertEquals(err.code, "BAD_ENV", name);
    assertMatch(err.message, new RegExp(`^${name} "${value.replace("-", "\\-")}" `));
  }
});

Deno.test("bad flag values are BAD_OPTION / BAD_DURATION errors", () => {
  assertEquals(
    assertThrows(() => resolveRunOptions({ watchdogTicks: "0" }, env({})), HarnessError).code,
    "BAD_OPTION",
  );
  assertEquals(
    assertThrows(() => resolveRunOptions({ timeout: "forever" }, env({})), HarnessError).code,
    "BAD_DURATION",
  );
});

Deno.test("a command honours only the knobs it names", () => {
  const o = resolveRunOptions(
    {},
    env({ NEXUS_KEEP_BLK: "1", INIT_LITE_WATCHDOG_TICKS: "bogus", RUN_PHASE: "ota" }),
    ["phase", "untilMarker", "timeout", "requireColdBoot"],
  );
  assertEquals(o.keepImage, false);
  assertEquals(o.watchdogTicks, undefined);
  assertEquals(o.phase, "ota");
});
