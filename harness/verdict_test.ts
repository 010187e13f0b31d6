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

Deno.test("a FAIL lists missing markers by phase, failure lines, and the excerpt", () => {
  const v = verdict([["init: start", 0], ["cold seeded", 1], ["boom FAIL", 2], ["after", 3]], true);
  const text = renderText(v);
  const lines = text.split("\n");
  assertEquals(
    lines[0],
    "FAIL: 4 of 5 markers missing, 1 failure line (phase end; ended: failure signature) in virtual 3 ns, wall 420 ms",
  );
  assertEquals(lines[1], 'first missing: "init: ready" (phase bring-up)');
  assert(
    text.includes(
      "missing markers:\n  bring-up:\n    init: ready\n  routing:\n    route ok\n  mmio:\n",
    ),
  );
  assertMatch(text, /cold persist ok \(line 2 has "cold seeded" instead\)/);
  assert(text.includes("failure lines:\n  line 3: boom FAIL\n"));
  assert(text.includes("console excerpt (lines 1-4, around the failure):\n  1 | init: start\n"));
  assert(text.endsWith("> 3 | boom FAIL\n  4 | after\n"));
  assert(!text.includes("\x1b"), "plain text has no escape codes");
  assert(renderText(v, ANSI).startsWith("\x1b[1;31mFAIL\x1b[0m: "));
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
        blockedOn: { op: "recv", slot: 4, endpointId: 9, peer: "bundlemgrd" },
        since: 1_200_000,
      },
      { pid: 5, name: "rngd", state: "exited", since: 0 },
    ],
  });
  const text = renderText(v);
  assert(
    text.includes(
      "unfinished tasks at virtual 2.000 ms:\n" +
        "  pid 1 init blocked: recv slot 0x03 since 5 ns\n" +
        "  pid 4 updated blocked: recv slot 0x04 (endpoint 9 of bundlemgrd) since 1.200 ms\n",
    ),
    text,
  );
  assert(!text.includes("rngd"));
  assertEquals(JSON.parse(renderJson(v)).tasks.length, 3);
  assertEquals(verdict([["init: start", 0]]).tasks, null);
});
