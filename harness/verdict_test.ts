import { assert, assertEquals, assertMatch } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { ANSI, formatVirtual, formatWall, renderJson, renderText } from "./verdict.ts";

const LADDER = parseLadder(
  `ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", marker = "init: ready", ordered = true },
  { phase = "routing", marker = "route ok" },
  { phase = "mmio", any = ["cold seeded", "cold persist ok"], cold_boot = "cold persist ok" },
  { phase = "end", marker = "the end" },
]`,
  "t",
);

function verdict(lines: [string, number][], requireColdBoot = false) {
  const j = new Judge(selectRequirement(LADDER, { requireColdBoot }));
  for (const [l, t] of lines) if (j.feed(l, t) && !j.wantsTail) break;
  return j.verdict({ reason: "idle", wallMs: 420 });
}

Deno.test("a PASS is one line with the marker count and both times", () => {
  const v = verdict([["init: start", 0], ["init: ready", 5], ["route ok", 9], [
    "cold seeded",
    10,
  ], ["the end", 1_500_000]]);
  assertEquals(
    renderText(v),
    "PASS: 5/5 markers (phase end; system idle) in virtual 1.500 ms, wall 420 ms\n",
  );
});

Deno.test("a FAIL leads with its cause and the console around it, then what it left missing", () => {
  const v = verdict([["init: start", 0], ["cold seeded", 1], ["boom FAIL", 2], ["after", 3]], true);
  const text = renderText(v);
  const lines = text.split("\n");
  assertEquals(lines[0], "FAIL: line 3: boom FAIL (during phase bring-up)");
  assertEquals(
    lines[1],
    "4 of 5 markers missing, 1 failure line (phase end; ended: failure signature) in virtual 3 ns, wall 420 ms",
  );
  assertEquals(lines[2], "console excerpt (lines 1-4, around the failure):");
  assertEquals(lines.slice(3, 7), [
    "  1 | init: start",
    "  2 | cold seeded",
    "> 3 | boom FAIL",
    "  4 | after",
  ]);
  assert(text.includes("failure lines:\n  line 3: boom FAIL\n"));
  // Nothing of a later phase was seen before the failure: it explains every missing marker.
  assert(!text.includes("first missing"), text);
  assert(
    text.includes(
      "missing markers (all 4 after the failure, which explains them):\n  bring-up:\n    init: ready\n  routing:\n    route ok\n  mmio:\n",
    ),
    text,
  );
  // A routing marker before the failure while a bring-up one is missing: not explained by it.
  const past = renderText(verdict([["init: start", 0], ["route ok", 1], ["boom FAIL", 2]]));
  assert(
    past.includes('first missing the cause does not explain: "init: ready" (phase bring-up)\n'),
    past,
  );
  assert(past.includes("missing markers (2 after the failure, which explains them):"), past);
  assertMatch(text, /cold persist ok \(line 2 has "cold seeded" instead\)/);
  assert(text.indexOf("console excerpt") < text.indexOf("missing markers"));
  assert(!text.includes("\x1b"), "plain text has no escape codes");
  assert(renderText(v, ANSI).startsWith("\x1b[1m\x1b[31mFAIL\x1b[39m\x1b[22m: "));
});

Deno.test("the JSON rendering is one parseable line holding the verdict", () => {
  const v = verdict([["init: start", 0]]);
  const json = renderJson(v);
  assertEquals(json.split("\n").length, 2);
  const back = JSON.parse(json);
  assertEquals(back, JSON.parse(JSON.stringify(v)));
  assertEquals(back.status, "FAIL");
  assertEquals(back.firstMissing, { marker: "init: ready", phase: "bring-up" });
  assert(Array.isArray(back.entries));
});

Deno.test("times are formatted for people", () => {
  assertEquals(formatVirtual(null), "n/a");
  assertEquals(formatVirtual(999), "999 ns");
  assertEquals(formatVirtual(12_345), "12.345 us");
  assertEquals(formatVirtual(2_500_000_000), "2.500 s");
  assertEquals(formatWall(12.6), "13 ms");
  assertEquals(formatWall(4321), "4.32 s");
});

Deno.test("a failed simulated run lists its unfinished tasks and what they wait on", () => {
  const j = new Judge(selectRequirement(LADDER));
  j.feed("init: start", 10);
  const v = j.verdict({
    reason: "idle",
    wallMs: 3,
    virtualNs: 2_000_000,
    tasks: [
      { pid: 1, name: "init", state: "blocked", blockedOn: { op: "recv", slot: 3 }, since: 5 },
      {
        pid: 4,
        name: "updated",
        state: "blocked",
        blockedOn: {
          op: "recv",
          slot: 4,
          slotName: "reply",
          endpointId: 9,
          peer: "updated",
          calling: { owner: "bundlemgrd", msg: 12, label: "5346:02" },
        },
        since: 1_200_000,
      },
      { pid: 5, name: "rngd", state: "exited", since: 0 },
    ],
  });
  const text = renderText(v);
  assert(
    text.includes(
      "unfinished tasks (2) at t=2.000000ms:\n" +
        "pid  task     state    since         blocked on\n" +
        "1    init     blocked  t=0.000005ms  recv slot 0x03\n" +
        "4    updated  blocked  t=1.200000ms  reply from bundlemgrd to SF op 0x02 (recv slot 0x04 reply)\n",
    ),
    text,
  );
  assert(!text.includes("rngd"));
  assertEquals(JSON.parse(renderJson(v)).tasks.length, 3);
  assertEquals(verdict([["init: start", 0]]).tasks, null);
});

Deno.test("a failure after every earlier phase counts nothing as first missing; a timeout leads too", () => {
  const j = new Judge(selectRequirement(LADDER));
  for (const [l, t] of [["init: start", 0], ["init: ready", 1], ["x FAIL", 2]] as const) {
    if (j.feed(l, t) && !j.wantsTail) break;
  }
  const text = renderText(j.verdict({ reason: "idle", wallMs: 1 }));
  assert(text.startsWith("FAIL: line 3: x FAIL (during phase routing)\n"), text);
  assert(!text.includes("first missing"), text);
  assert(text.includes("missing markers (all 3 after the failure, which explains them):"), text);
  const cut = new Judge(selectRequirement(LADDER));
  cut.feed("init: start", 0);
  const timeout = renderText(
    cut.verdict({ reason: "timeout", detail: "timeout after 1.5s", wallMs: 1 }),
  );
  assertMatch(
    timeout,
    /^FAIL: timeout.* \(during phase bring-up\)\n4 of 5 markers missing \(phase end; ended: timeout/,
  );
});

Deno.test("a run that ends on its own without a cause keeps the counts first and names the first missing", () => {
  const text = renderText(verdict([["init: start", 0]]));
  assert(text.startsWith("FAIL: 4 of 5 markers missing (phase end; ended: system idle)"), text);
  assert(text.includes('first missing: "init: ready" (phase bring-up)\n'));
});
