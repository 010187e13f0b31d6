import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../tests/assert.ts";
import { HarnessError } from "./errors.ts";
import {
  DEFAULT_FAILURE_SIGNATURES,
  DEFAULT_PHASES,
  defaultLadderPath,
  entryLabel,
  ladderNames,
  loadLadder,
  loadNamedLadder,
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
  assertEquals(l.services.length, 10);
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

Deno.test("an until-marker that is a marker cuts the ladder there; any other string only stops", () => {
  const l = parseLadder(SMALL, "small");
  const r = selectRequirement(l, { untilMarker: "route ok" });
  assertEquals(r.untilString, "route ok");
  assertEquals(r.untilAll, false);
  assertEquals(r.entries.map(entryLabel).at(-1), "route ok");
  assertEquals(selectRequirement(l, { untilMarker: "cold seeded" }).entries.length, 7);
  // Not a marker (a typo, a substring, a prompt): the run stops there and the phase cut counts.
  for (const s of ["rout ok", "route", "login:"]) {
    const other = selectRequirement(l, { untilMarker: s });
    assertEquals(other.untilString, s);
    assertEquals(other.entries.length, l.entries.length);
  }
  const err = assertThrows(
    () => selectRequirement(l, { phase: "routing", untilMarker: "the end" }),
    HarnessError,
  );
  assertEquals(err.code, "UNKNOWN_MARKER");
  assertMatch(err.message, /belongs to phase end, beyond phase routing/);
  assertEquals(selectRequirement(l, { untilMarker: true }).untilAll, true);
});

Deno.test("an until-marker requires the phases the console proves before it (console_order)", () => {
  const l = parseLadder(
    `console_order = ["bring-up", "mmio", "routing", "ota", "policy", "end"]\n${SMALL}`,
    "small",
  );
  // mmio is cut last but printed second: stopping at it must not demand routing.
  const r = selectRequirement(l, { untilMarker: "cold seeded" });
  assertEquals(r.entries.map(entryLabel), [
    "init: start",
    "init: start a",
    "init: up a",
    "init: start b",
    "init: up b",
    "cold seeded | cold persist ok",
  ]);
  // Stopping in routing requires mmio, proved before it.
  assertEquals(
    selectRequirement(l, { untilMarker: "route ok" }).entries.map(entryLabel).slice(-2),
    ["route ok", "cold seeded | cold persist ok"],
  );
  invalid(`console_order = ["bring-up"]\n${SMALL}`, /console_order must list every phase/);
  // Interleaved phases share a step: stopping in it requires only its ordered entries before.
  const grouped = parseLadder(
    `console_order = [["bring-up", "mmio"], "routing", "ota", "policy", "end"]\n${SMALL}`,
    "small",
  );
  assertEquals(grouped.consoleOrder[0], ["bring-up", "mmio"]);
  assertEquals(
    selectRequirement(grouped, { untilMarker: "cold seeded" }).entries.map(entryLabel).length,
    6,
  );
  assertEquals(
    selectRequirement(grouped, { untilMarker: "route ok" }).entries.map(entryLabel).length,
    7,
  );
});

Deno.test("odd until-marker strings are refused with one line", () => {
  const l = parseLadder(SMALL, "small");
  const cases: [string, RegExp][] = [
    ["", /--until-marker "" is empty/],
    ["a\nb", /spans lines/],
    ["a\rb", /spans lines/],
    ["a\x00b", /control characters/],
    ["\x1b[31m", /control characters/],
    ["x".repeat(5000), /is 5000 characters long \(at most 4096\)/],
  ];
  for (const [value, re] of cases) {
    const err = assertThrows(() => selectRequirement(l, { untilMarker: value }), HarnessError);
    assertEquals(err.code, "BAD_OPTION");
    assertMatch(err.message, re);
    assert(!err.message.includes("\n") && err.message.length < 200, err.message);
  }
  // A tab is a printable part of a line.
  assertEquals(selectRequirement(l, { untilMarker: "a\tb" }).untilString, "a\tb");
});

const SEQUENCE = `
phases = ["boot", "disk", "end"]
start = "banner"
failure_signatures = []
ladder = [
  "banner",
  "KSELFTEST: one ok",
  "init: start",
  "init: start a",
  "init: up a",
  "disk ok",
  { marker = 'blk: up \\(ss=(?<ss>\\d+) nsec=(?<nsec>\\d+)\\)', regex = true, record = "blk" },
  "net ok",
  "SELFTEST: end",
]

[phase_end]
boot = "init: up a"
disk = "disk ok"
end = "SELFTEST: end"

[order_rule]
equals = ["init: start"]
prefixes = ["init: up ", "KSELFTEST:"]
`;

Deno.test("a sequence ladder: plain-string entries, phases from end markers, the order rule", () => {
  const l = parseLadder(SEQUENCE, "seq");
  assertEquals(l.start, "banner");
  assertEquals(l.failureSignatures, []);
  assertEquals(l.entries.map((e) => e.phase), [
    "boot",
    "boot",
    "boot",
    "boot",
    "boot",
    "disk",
    "end",
    "end",
    "end",
  ]);
  assertEquals(
    l.entries.filter((e) => e.ordered).map(entryLabel),
    ["KSELFTEST: one ok", "init: start", "init: up a"],
  );
  assertEquals(l.entries[6].regex, true);
  assertEquals(l.entries[6].record, "blk");
  assertEquals(l.phaseEnds!.disk, { marker: "disk ok", index: 5 });
  // --phase cuts at the end marker; no --phase takes the whole sequence under the label "all".
  assertEquals(selectRequirement(l, { phase: "disk" }).entries.length, 6);
  assertEquals(selectRequirement(l).phase, "all");
  assertEquals(selectRequirement(l).entries.length, 9);
  // An until-marker of a sequence keeps the sequence up to it.
  assertEquals(selectRequirement(l, { untilMarker: "init: start a" }).entries.length, 4);
});

Deno.test("a sequence ladder: a phase whose end marker is not in it cannot be cut at", () => {
  const l = parseLadder(SEQUENCE.replace('end = "SELFTEST: end"', 'end = "SELFTEST: done"'), "seq");
  assertEquals(l.entries.at(-1)!.phase, "unknown");
  const err = assertThrows(() => selectRequirement(l, { phase: "end" }), HarnessError);
  assertEquals(err.code, "UNKNOWN_PHASE");
  assertMatch(err.message, /phase "end" ends at "SELFTEST: done", which is not in ladder seq/);
});

Deno.test("the extended language refuses what it cannot mean", () => {
  invalid(
    SEQUENCE.replace(
      '"banner",\n  "KSELFTEST',
      '{ phase = "boot", marker = "banner" },\n  "KSELFTEST',
    ),
    /no phase keys in a ladder with phase_end/,
  );
  invalid(SEQUENCE.replace("boot = ", "bot = "), /phase_end: unknown phase "bot"/);
  invalid(SEQUENCE.replace("(?<ss>", "(?<ss"), /bad regular expression/);
  invalid(
    SEQUENCE.replace(', regex = true, record = "blk"', ', record = "blk"'),
    /record needs regex = true/,
  );
  invalid(
    SEQUENCE.replace("(?<ss>", "(").replace("(?<nsec>", "("),
    /record needs a named group/,
  );
  invalid(SEQUENCE.replace("prefixes =", "prefix ="), /unknown key "prefix" in order_rule/);
  invalid(SEQUENCE.replace('start = "banner"', "start = 3"), /start must be a non-empty string/);
  invalid(`ladder = ["x"]`, /ladder entry 1 must be a table$/);
  invalid(
    `phases = ["unknown"]\nladder = [{ phase = "unknown", marker = "x" }]`,
    /"unknown" is reserved/,
  );
});

Deno.test("shipped ladders are found by name; unknown names list them", async () => {
  const names = ladderNames();
  assert(names.includes("default"));
  assert(names.includes("original-2026-02-03"));
  assertEquals((await loadNamedLadder("default")).source, "images/ladder.toml");
  assertEquals(
    (await loadNamedLadder("original-2026-02-06")).source,
    "images/ladders/original-2026-02-06.toml",
  );
  const err = await assertRejects(() => loadNamedLadder("original-2026-02-3"), HarnessError);
  assertMatch(
    err.message,
    /no ladder named "original-2026-02-3" \(did you mean "original-2026-02-03"\?\), and no such file; shipped ladders: default, /,
  );
  // A path is a path; so is a plain name that is no shipped ladder but an existing file.
  await assertRejects(() => loadNamedLadder("./absent.toml"), HarnessError, "cannot read ladder");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/mine`, SMALL);
    const mine = await loadNamedLadder("mine", (p) => `${dir}/${p}`);
    assertEquals(mine.source, "mine");
    assertEquals(mine.entries.length, 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
