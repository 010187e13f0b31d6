import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../tests/assert.ts";
import { HarnessError } from "./errors.ts";
import {
  DEFAULT_FAILURE_SIGNATURES,
  DEFAULT_PHASES,
  defaultLadderPath,
  entryLabel,
  loadLadder,
  parseLadder,
  selectRequirement,
} from "./ladder.ts";

const SMALL = `
services = ["a", "b"]
ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", each_service = ["init: start {svc}", "init: up {svc}"], ordered = true },
  { phase = "routing", marker = "route ok" },
  { phase = "mmio", any = ["cold seeded", "cold persist ok"], cold_boot = "cold persist ok" },
  { phase = "end", marker = "the end" },
]
`;

function invalid(text: string, expect: RegExp): void {
  const err = assertThrows(() => parseLadder(text, "t.toml"), HarnessError);
  assertEquals(err.code, "LADDER_INVALID");
  assertMatch(err.message, /^ladder t\.toml: /);
  assertMatch(err.message, expect);
}

Deno.test("parseLadder expands each_service interleaved per service and keeps defaults", () => {
  const l = parseLadder(SMALL, "small");
  assertEquals(l.phases, DEFAULT_PHASES);
  assertEquals(l.failureSignatures, DEFAULT_FAILURE_SIGNATURES);
  assertEquals(l.entries.map(entryLabel), [
    "init: start",
    "init: start a",
    "init: up a",
    "init: start b",
    "init: up b",
    "route ok",
    "cold seeded | cold persist ok",
    "the end",
  ]);
  assertEquals(l.entries.map((e) => e.index), [0, 1, 2, 3, 4, 5, 6, 7]);
  assertEquals(l.entries.filter((e) => e.ordered).length, 5);
  assertEquals(l.entries[6].coldBoot, "cold persist ok");
});

Deno.test("the default ladder loads with every phase and service of the issue", async () => {
  const l = await loadLadder(defaultLadderPath(), "images/ladder.toml");
  assertEquals(l.phases, DEFAULT_PHASES);
  assertEquals(l.services.length, 9);
  const labels = l.entries.map(entryLabel);
  for (const svc of l.services) {
    for (
      const m of [
        `init: start ${svc}`,
        `init: up ${svc}`,
        `${svc}: ready`,
        `slot-check: ${svc} all`,
      ]
    ) {
      assert(labels.includes(m), m);
    }
  }
  const cut = (phase: string) => selectRequirement(l, { phase }).entries;
  assertEquals(cut("end").at(-1)!.markers, ["SELFTEST: end"]);
  assert(!cut("mmio").some((e) => e.markers.includes("SELFTEST: end")));
  assert(cut("mmio").some((e) => e.markers.includes("SELFTEST: bootctl persist ok")));
  assert(cut("bring-up").every((e) => e.phase === "bring-up"));
  // Only init's markers are order-checked.
  assert(l.entries.filter((e) => e.ordered).every((e) => e.markers[0].startsWith("init: ")));
});

Deno.test("parseLadder reports every structural mistake with a clear message", () => {
  invalid(
    `ladder = [{ phase = "end", marker = "x" }]\nservice = ["a"]`,
    /unknown key "service" in the top level \(did you mean "services"\?\)/,
  );
  invalid(
    `ladder = [{ phase = "end", markr = "x" }]`,
    /unknown key "markr" in ladder entry 1 \(did you mean "marker"\?\)/,
  );
  invalid(`ladder = [{ marker = "x" }]`, /ladder entry 1 needs a phase/);
  invalid(
    `ladder = [{ phase = "boot", marker = "x" }]`,
    /unknown phase "boot" \(phases: bring-up, routing/,
  );
  invalid(
    `ladder = [{ phase = "ota", marker = "x" }, { phase = "routing", marker = "y" }]`,
    /ladder entry 2: phase "routing" comes after phase "ota"/,
  );
  invalid(
    `ladder = [{ phase = "end", marker = "x", any = ["y"] }]`,
    /exactly one of marker, any, each_service/,
  );
  invalid(`ladder = [{ phase = "end" }]`, /exactly one of/);
  invalid(
    `ladder = [{ phase = "end", marker = "x", cold_boot = "x" }]`,
    /cold_boot only goes with any/,
  );
  invalid(
    `ladder = [{ phase = "end", any = ["x", "y"], cold_boot = "z" }]`,
    /cold_boot must be one of/,
  );
  invalid(
    `services = ["a"]\nladder = [{ phase = "end", each_service = ["a ready"] }]`,
    /lacks \{svc\}/,
  );
  invalid(
    `ladder = [{ phase = "end", each_service = ["{svc} ready"] }]`,
    /needs a non-empty services list/,
  );
  invalid(
    `ladder = [{ phase = "bring-up", marker = "x" }, { phase = "end", any = ["y", "x"] }]`,
    /marker "x" is already entry 1's/,
  );
  invalid(`ladder = []`, /non-empty list of entries/);
  invalid(`phases = ["a", "a"]\nladder = [{ phase = "a", marker = "x" }]`, /phases repeat/);
  invalid(`ladder = [{ phase = "end", marker = "" }]`, /marker must be a non-empty string/);
  invalid(
    `ladder = [{ phase = "end", marker = "x", ordered = "yes" }]`,
    /ordered must be true or false/,
  );
  invalid(`ladder = ["x"]`, /ladder entry 1 must be a table/);
  invalid(`ladder = [{ phase = "end", marker = "x" }`, /line \d+: /);
});

Deno.test("a ladder may declare its own phases and failure signatures", () => {
  const l = parseLadder(
    `phases = ["one", "two"]\nfailure_signatures = ["BOOM"]\nladder = [{ phase = "two", marker = "x" }]`,
    "own",
  );
  assertEquals(l.phases, ["one", "two"]);
  assertEquals(l.failureSignatures, ["BOOM"]);
  assertEquals(selectRequirement(l, { phase: "one" }).entries.length, 0);
  assertEquals(selectRequirement(l).phase, "two");
});

Deno.test("loadLadder names unreadable files with LADDER_UNREADABLE", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let err = await assertRejects(() => loadLadder(`${dir}/none.toml`), HarnessError);
    assertEquals(err.code, "LADDER_UNREADABLE");
    assertMatch(err.message, /none\.toml: no such file/);
    err = await assertRejects(() => loadLadder(dir), HarnessError);
    assertEquals(err.code, "LADDER_UNREADABLE");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("selectRequirement cuts at the phase, default the last one", () => {
  const l = parseLadder(SMALL, "small");
  assertEquals(selectRequirement(l).entries.length, 8);
  assertEquals(selectRequirement(l).phase, "end");
  assertEquals(selectRequirement(l, { phase: "bring-up" }).entries.length, 5);
  assertEquals(selectRequirement(l, { phase: "ota" }).entries.length, 6, "a phase without entries");
  assertEquals(selectRequirement(l, { phase: "mmio" }).entries.length, 7);
});

Deno.test("selectRequirement refuses an unknown phase listing the valid ones", () => {
  const l = parseLadder(SMALL, "small");
  const err = assertThrows(() => selectRequirement(l, { phase: "mmoi" }), HarnessError);
  assertEquals(err.code, "UNKNOWN_PHASE");
  assertEquals(
    err.message,
    'unknown phase "mmoi" (did you mean "mmio"?); valid phases: bring-up, routing, ota, policy, mmio, end',
  );
});

Deno.test("an until-marker string cuts the ladder at its entry; unknown ones are refused", () => {
  const l = parseLadder(SMALL, "small");
  const r = selectRequirement(l, { untilMarker: "route ok" });
  assertEquals(r.untilString, "route ok");
  assertEquals(r.untilAll, false);
  assertEquals(r.entries.map(entryLabel).at(-1), "route ok");
  assertEquals(selectRequirement(l, { untilMarker: "cold seeded" }).entries.length, 7);
  let err = assertThrows(() => selectRequirement(l, { untilMarker: "rout ok" }), HarnessError);
  assertEquals(err.code, "UNKNOWN_MARKER");
  assertMatch(err.message, /not a marker of ladder small \(did you mean "route ok"\?\)/);
  err = assertThrows(
    () => selectRequirement(l, { phase: "routing", untilMarker: "the end" }),
    HarnessError,
  );
  assertEquals(err.code, "UNKNOWN_MARKER");
  assertMatch(err.message, /belongs to phase end, beyond phase routing/);
  // A substring of a marker is not a marker.
  assertThrows(() => selectRequirement(l, { untilMarker: "route" }), HarnessError);
  assertEquals(selectRequirement(l, { untilMarker: true }).untilAll, true);
});

Deno.test("--require-cold-boot narrows the cold-boot entry and remembers the other alternative", () => {
  const l = parseLadder(SMALL, "small");
  const plain = selectRequirement(l).entries[6];
  assertEquals(plain.markers, ["cold seeded", "cold persist ok"]);
  assertEquals(plain.rejected, []);
  const cold = selectRequirement(l, { requireColdBoot: true });
  assertEquals(cold.requireColdBoot, true);
  assertEquals(cold.entries[6].markers, ["cold persist ok"]);
  assertEquals(cold.entries[6].rejected, ["cold seeded"]);
  // The ladder itself is untouched.
  assertEquals(l.entries[6].markers.length, 2);
});
