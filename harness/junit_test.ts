import { assert, assertEquals, assertMatch } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { escapeXml, renderJunit, renderJunitError } from "./junit.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { junitProblems, parseJunit, testcases, type XmlNode } from "../tests/junit_check.ts";

const LADDER = parseLadder(
  `ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", marker = "init: ready", ordered = true },
  { phase = "routing", marker = "route <a> & \\"b\\" ok" },
  { phase = "end", marker = "the end" },
]`,
  "t",
);

function run(lines: string[], end: "eof" | "timeout" = "eof") {
  const j = new Judge(selectRequirement(LADDER));
  for (const l of lines) if (j.feed(l) && !j.wantsTail) break;
  return j.verdict({ reason: end, wallMs: 1234 });
}

function cases(root: XmlNode): XmlNode[] {
  return testcases(root);
}

Deno.test("a passing run gives one passing testcase per marker plus the checks", () => {
  const root = parseJunit(
    renderJunit(run(["init: start", "init: ready", 'route <a> & "b" ok', "the end"])),
  );
  assertEquals(root.name, "testsuites");
  assertEquals(root.attrs.tests, "7");
  assertEquals(root.attrs.failures, "0");
  const [ladder, checks] = root.children;
  assertEquals(ladder.attrs.tests, "4");
  assertEquals(ladder.children.map((c) => c.attrs.name), [
    "init: start",
    "init: ready",
    'route <a> & "b" ok',
    "the end",
  ]);
  assertEquals(ladder.children[2].attrs.classname, "nexus.ladder.routing");
  assertEquals(checks.attrs.tests, "3");
  assert(cases(root).every((c) => c.children.length === 0));
});

Deno.test("missing markers and failure lines fail their testcases; the excerpt appears once", () => {
  const v = run(["init: start", "init: ready", "x\x1b FAIL <boom> & more", "the end"]);
  const xml = renderJunit(v);
  const root = parseJunit(xml);
  assertEquals(root.attrs.tests, "7");
  assertEquals(root.attrs.failures, "3", "route + the end missing, one failure line");
  const failed = cases(root).filter((c) => c.children.some((f) => f.name === "failure"));
  assertEquals(failed.map((c) => c.attrs.name), [
    'route <a> & "b" ok',
    "the end",
    "no failure signature",
  ]);
  const failure = failed[2].children[0];
  assertEquals(failure.attrs.type, "failure-signature");
  assertMatch(failure.text, /line 3: x\\x1b FAIL <boom> & more/);
  const outs = root.children.flatMap((s) => s.children.filter((c) => c.name === "system-out"));
  assertEquals(outs.length, 1, "one excerpt, on the suite");
  assertMatch(outs[0].text, /3: x\\x1b FAIL <boom>/);
  assertEquals(xml.match(/^3: x/gm)?.length, 1, "the excerpt is not repeated per case");
  const sum = root.children.reduce((n, s) => n + Number(s.attrs.failures), 0);
  assertEquals(sum, 3);
});

Deno.test("every rendering validates against the JUnit schema Jenkins' xunit plugin uses", async () => {
  const problems = await junitProblems(
    renderJunit(run(["init: start", "init: ready", 'route <a> & "b" ok', "the end"])),
    renderJunit(run(["init: start", "init: ready", "x\x1b FAIL <boom> & more", "the end"])),
    renderJunit(run(["init: ready", "init: start"], "timeout")),
    renderJunit(run([])),
    renderJunitError('image <x> & "y": the image is empty'),
    // The validator does fail: a testcase without its required name, a time that is no number.
    renderJunit(run([])).replace(/ name="init: start"/, "").replace(/time="[\d.]+"/, 'time="1s"'),
  );
  assertEquals(problems.slice(0, 5), [[], [], [], [], []]);
  assertEquals(problems[5].length, 2, problems[5].join("\n"));
});

Deno.test("a timeout and an order violation fail their checks", () => {
  const root = parseJunit(renderJunit(run(["init: ready", "init: start"], "timeout")));
  const byName = new Map(cases(root).map((c) => [c.attrs.name, c]));
  assertEquals(byName.get("init markers in ladder order")!.children[0].attrs.type, "order");
  assertEquals(byName.get("run ended within its limits")!.children[0].attrs.type, "timeout");
  assertEquals(root.attrs.failures, "4");
});

Deno.test("testcase time is the duration since the previous marker; the suite adds them up", () => {
  const j = new Judge(selectRequirement(LADDER));
  const lines: [string, number][] = [
    ["init: start", 1_000_000_000],
    ["noise", 1_500_000_000],
    ["init: ready", 3_500_000_000],
    ['route <a> & "b" ok', 3_750_000_000],
    ["the end", 10_000_000_000],
  ];
  for (const [l, t] of lines) j.feed(l, t);
  const root = parseJunit(renderJunit(j.verdict({ reason: "eof", wallMs: 5 })));
  const ladder = root.children[0];
  assertEquals(
    ladder.children.filter((c) => c.name === "testcase").map((c) => c.attrs.time),
    ["1.000000", "2.500000", "0.250000", "6.250000"],
  );
  assertEquals(ladder.attrs.time, "10.000000");
});

Deno.test("escapeXml keeps markup characters and makes characters XML cannot carry visible", () => {
  const text = `a<b>&"c"'d' \x1b[0m\x00 \r\n\t é 😀`;
  const xml = `<?xml version="1.0"?>\n<testsuites><testsuite name="${
    escapeXml(text)
  }" tests="0" failures="0" errors="0"><system-out>${
    escapeXml(text)
  }</system-out></testsuite></testsuites>`;
  const root = parseJunit(xml);
  const expected = `a<b>&"c"'d' \\x1b[0m\\x00 \r\n\t é 😀`;
  assertEquals(root.children[0].children[0].text, expected);
});

Deno.test("the error report for a run that could not start is valid JUnit with one error", () => {
  const root = parseJunit(renderJunitError('image <x> & "y": the image is empty'));
  assertEquals(root.attrs.errors, "1");
  const [c] = testcases(root);
  assertEquals(c.children[0].name, "error");
  assertEquals(c.children[0].attrs.message, 'image <x> & "y": the image is empty');
});
