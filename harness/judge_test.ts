import { assert, assertEquals, assertMatch } from "../tests/assert.ts";
import { Judge, sanitizeLine } from "./judge.ts";
import { parseLadder, type SelectOptions, selectRequirement } from "./ladder.ts";
import { renderText, type Verdict } from "./verdict.ts";

const LADDER = parseLadder(
  `
services = ["a", "b"]
ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", each_service = ["init: start {svc}", "init: up {svc}"], ordered = true },
  { phase = "bring-up", marker = "init: ready", ordered = true },
  { phase = "bring-up", each_service = ["{svc}: ready"] },
  { phase = "routing", marker = "route ok" },
  { phase = "mmio", any = ["cold seeded", "cold persist ok"], cold_boot = "cold persist ok" },
  { phase = "end", marker = "the end" },
]
`,
  "t",
);

const GOOD = [
  "boot banner",
  "init: start",
  "init: start a",
  "init: up a",
  "init: start b",
  "init: up b",
  "init: ready",
  "b: ready",
  "a: ready",
  "cold seeded",
  "route ok",
  "the end",
];

function judge(lines: string[], opts: SelectOptions = {}, end: Verdict["end"] = "eof") {
  const j = new Judge(selectRequirement(LADDER, opts));
  let stoppedAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const stop = j.feed(lines[i], i * 1000);
    if (stop && stoppedAt < 0) stoppedAt = i + 1;
    if (stop && !j.wantsTail) break;
  }
  return { j, stoppedAt, v: j.verdict({ reason: end, wallMs: 12.4 }) };
}

Deno.test("a complete console passes, order-tolerant outside init's markers", () => {
  const { v, stoppedAt } = judge(GOOD);
  assertEquals(stoppedAt, -1, "no stop without until-marker");
  assertEquals(v.status, "PASS");
  assertEquals(v.exitCode, 0);
  assertEquals(v.markers, { expected: 11, seen: 11 });
  assertEquals(v.end, "eof");
  assertEquals(v.excerpt, null);
  assertEquals(v.firstMissing, null);
  assertEquals(v.lines, 12);
  assertEquals(v.wallMs, 12);
  assertEquals(v.virtualNs, 11_000, "the last line's virtual time");
  const route = v.entries.find((e) => e.markers[0] === "route ok")!;
  assertEquals(route.line, 11);
  assertEquals(route.timeNs, 10_000);
});

Deno.test("every missing marker is listed by phase, the first with its phase", () => {
  const lines = GOOD.filter((l) => l !== "route ok" && l !== "the end" && l !== "a: ready");
  const { v } = judge(lines, {}, "idle");
  assertEquals(v.status, "FAIL");
  assertEquals(v.exitCode, 1);
  assertEquals(v.end, "idle");
  assertEquals(v.missingByPhase, {
    "bring-up": ["a: ready"],
    routing: ["route ok"],
    end: ["the end"],
  });
  assertEquals(v.firstMissing, { marker: "a: ready", phase: "bring-up" });
  assertEquals(v.excerpt!.around, "end");
  assertEquals(v.excerpt!.lines.at(-1)!.text, "cold seeded");
});

Deno.test("a failure signature stops at once, keeps a tail for the excerpt, and fails", () => {
  const lines = [
    ...GOOD.slice(0, 7),
    "!fatal init-lite: watchdog fired",
    "  pid task state",
    "    3 b    blocked recv slot 0x03",
    "route ok",
    "the end",
  ];
  const { v, stoppedAt } = judge(lines);
  assertEquals(stoppedAt, 8);
  assertEquals(v.status, "FAIL");
  assertEquals(v.end, "failure");
  assertEquals(v.failures.length, 1);
  assertEquals(v.failures[0].line, 8);
  assertEquals(v.failures[0].signature, "!fatal");
  assertEquals(v.excerpt!.around, "failure");
  assertEquals(v.excerpt!.anchor, 8);
  const texts = v.excerpt!.lines.map((l) => l.text);
  assert(
    texts.includes("    3 b    blocked recv slot 0x03"),
    "the watchdog table is in the excerpt",
  );
  assertEquals(texts[0], "boot banner");
  // Markers after the failure do not count: the run ended there.
  assert(!v.entries.find((e) => e.markers[0] === "route ok")!.seen);
});

Deno.test("each failure signature is recognised, later ones in the tail are listed too", () => {
  for (const sig of ["FAIL", "SLOT MISSING", "!fatal", "panic", "watchdog fired"]) {
    const { v } = judge(["init: start", `x ${sig} y`]);
    assertEquals(v.end, "failure", sig);
    assertEquals(v.failures[0].signature, sig);
  }
  const { v } = judge([
    "init: start",
    "SLOT MISSING: b needs blk at slot 0x07",
    "slot-check: b FAIL (1 missing)",
  ]);
  assertEquals(v.failures.map((f) => f.line), [2, 3]);
  // Case matters: "fail" is not a signature.
  assertEquals(judge(["it did not fail"]).v.failures, []);
});

Deno.test("the tail after a failure is bounded", () => {
  const j = new Judge(selectRequirement(LADDER), { tailLines: 3 });
  j.feed("x FAIL");
  let taken = 0;
  while (j.wantsTail) {
    j.feed(`tail ${taken++}`);
  }
  assertEquals(taken, 3);
  assertEquals(j.feed("ignored"), true);
  const v = j.verdict({ reason: "eof", wallMs: 0 });
  assertEquals(v.lines, 4);
  assertEquals(v.excerpt!.lines.map((l) => l.line), [1, 2, 3, 4]);
});

Deno.test("init markers out of order are a violation naming both lines", () => {
  const lines = [...GOOD];
  [lines[4], lines[5]] = [lines[5], lines[4]]; // "init: up b" before "init: start b"
  const { v } = judge(lines);
  assertEquals(v.status, "FAIL");
  assertEquals(v.orderViolations, [
    { marker: "init: start b", line: 6, after: { marker: "init: up b", line: 5 } },
  ]);
  assertEquals(v.excerpt!.around, "order");
  assertEquals(v.excerpt!.anchor, 6);
  assertEquals(v.markers.seen, v.markers.expected);
});

Deno.test("init: ready before a service's start is a violation; non-init markers may come in any order", () => {
  const lines = [
    "init: start",
    "init: start a",
    "init: up a",
    "init: ready",
    "init: start b",
    "init: up b",
  ];
  const { v } = judge(lines, { phase: "bring-up" });
  assertEquals(v.orderViolations.map((o) => o.marker), ["init: start b", "init: up b"]);
  const relaxed = ["a: ready", ...GOOD.filter((l) => l !== "a: ready")];
  assertEquals(judge(relaxed).v.status, "PASS");
});

Deno.test("until-marker without a value stops once every required marker was seen", () => {
  const { v, stoppedAt } = judge([...GOOD, "x FAIL later"], {
    phase: "routing",
    untilMarker: true,
  });
  assertEquals(stoppedAt, 11);
  assertEquals(v.status, "PASS");
  assertEquals(v.end, "complete");
  assertEquals(v.untilMarker, true);
  assertEquals(v.lines, 11);
});

Deno.test("an until-marker string stops at the first line containing it", () => {
  const { v, stoppedAt } = judge(GOOD, { untilMarker: "init: ready" });
  assertEquals(stoppedAt, 7);
  assertEquals(v.end, "until-marker");
  assertEquals(v.status, "PASS");
  assertEquals(v.markers.expected, 6);
  const early = judge(["init: start", "init: start a", "init: ready"], {
    untilMarker: "init: ready",
  });
  assertEquals(early.v.status, "FAIL");
  assertEquals(early.v.firstMissing, { marker: "init: up a", phase: "bring-up" });
});

Deno.test("a timeout fails even with every marker seen; the source's end reason is kept otherwise", () => {
  const j = new Judge(selectRequirement(LADDER));
  for (const l of GOOD) j.feed(l);
  const v = j.verdict({ reason: "timeout", detail: "timeout after 2s", wallMs: 2000 });
  assertEquals(v.status, "FAIL");
  assertEquals(v.endDetail, "timeout after 2s");
  assertEquals(v.excerpt!.around, "end");
});

Deno.test("--require-cold-boot reports the seeded marker seen instead", () => {
  const { v } = judge(GOOD, { requireColdBoot: true });
  assertEquals(v.status, "FAIL");
  const e = v.entries.find((x) => !x.seen)!;
  assertEquals(e.markers, ["cold persist ok"]);
  assertEquals(e.instead, { marker: "cold seeded", line: 10 });
  const ok = judge(GOOD.map((l) => l === "cold seeded" ? "cold persist ok" : l), {
    requireColdBoot: true,
  });
  assertEquals(ok.v.status, "PASS");
  assertEquals(
    judge(GOOD.map((l) => l === "cold seeded" ? "cold persist ok" : l)).v.status,
    "PASS",
  );
});

Deno.test("progress reports seen/expected and the phase waited on", () => {
  const j = new Judge(selectRequirement(LADDER));
  assertEquals(j.progress(), { seen: 0, expected: 11, phase: "bring-up" });
  for (const l of GOOD.slice(0, 9)) j.feed(l);
  assertEquals(j.progress(), { seen: 8, expected: 11, phase: "routing" });
});

Deno.test("excerpts are bounded and lines made printable", () => {
  const lines = Array.from({ length: 100 }, (_, i) => `noise ${i}`);
  const { v } = judge(lines);
  assertEquals(v.excerpt!.lines.length, 20);
  assertEquals(v.excerpt!.lines[0].line, 81);
  assertEquals(sanitizeLine("a\x1b[31mb\tc"), "a\\x1b[31mb\tc");
  const long = sanitizeLine("x".repeat(1000), 10);
  assertMatch(long, /^x{10}\.\.\. \(1000 chars\)$/);
  const f = judge([`FAIL ${"y".repeat(5000)}`]).v.failures[0];
  assert(f.text.length < 400);
});

const SEQ = parseLadder(
  `
phases = ["boot", "end"]
start = "banner"
failure_signatures = ["PANIC"]
ladder = [
  "banner",
  "init: start",
  { marker = 'blk: up \\(ss=(?<ss>\\d+) nsec=(?<nsec>\\d+)\\)', regex = true, record = "blk" },
  { marker = 'net: ip=\\d+\\.\\d+', regex = true },
  "SELFTEST: end",
]

[phase_end]
boot = "init: start"
end = "SELFTEST: end"
`,
  "seq",
);

function judgeSeq(lines: string[]): Verdict {
  const j = new Judge(selectRequirement(SEQ));
  for (const l of lines) j.feed(l);
  return j.verdict({ reason: "eof", wallMs: 0 });
}

Deno.test("regex markers match; record keeps the named groups of the first match", () => {
  const v = judgeSeq([
    "banner",
    "init: start",
    "blk: up (ss=512 nsec=131072)",
    "blk: up (ss=4096 nsec=8)",
    "net: ip=10.0",
    "SELFTEST: end",
  ]);
  assertEquals(v.status, "PASS");
  assertEquals(v.records, { blk: { ss: "512", nsec: "131072" } });
  assertEquals(v.entries[2].line, 3);
  assertEquals(v.start, { marker: "banner", seen: true });
  // A line that only looks like it does not count.
  const miss = judgeSeq(["banner", "init: start", "blk: up (ss=x nsec=1)", "SELFTEST: end"]);
  assertEquals(miss.firstMissing!.phase, "end");
  assertEquals(miss.records, undefined);
});

Deno.test("a run that never prints the start marker never started", () => {
  const v = judgeSeq(["OpenSBI", "init: start", "SELFTEST: end"]);
  assertEquals(v.status, "FAIL");
  assertEquals(v.start, { marker: "banner", seen: false });
  const text = renderText(v);
  assertMatch(
    text,
    /^FAIL: never started \(no line has "banner"\) \(phase all; ended: end of log\)/,
  );
  // Everything printed after the start counts as usual.
  assertEquals(judgeSeq(["x banner y", "init: start"]).start!.seen, true);
});

Deno.test("an until-marker string that is no marker stops the run at its first line", () => {
  const { v, stoppedAt } = judge(GOOD, { untilMarker: "b: rea" });
  assertEquals(stoppedAt, 8);
  assertEquals(v.end, "until-marker");
  assertEquals(v.status, "FAIL");
  assertEquals(v.firstMissing, { marker: "a: ready", phase: "bring-up" });
});

Deno.test("the failure signature named is the first of the ladder's list on the line", () => {
  const { v } = judge(["init: start", "panic: x FAIL watchdog fired"]);
  assertEquals(v.failures[0].signature, "FAIL");
  assertEquals(v.failures.length, 1);
});

Deno.test("lines are made printable only when shown, and long lines are cut there", () => {
  const noisy = ["init: start", ...Array.from({ length: 50 }, (_, i) => `\x1b[1mnoise ${i}`)];
  const { v } = judge(noisy);
  assertEquals(v.excerpt!.lines.at(-1)!.text, "\\x1b[1mnoise 49");
  assertEquals(v.excerpt!.lines.length, 20);
});
