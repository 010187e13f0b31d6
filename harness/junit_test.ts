import { assert, assertEquals, assertMatch } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { renderJunit } from "./junit.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { parseXml, type XmlElement } from "./xml.ts";

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

function cases(root: XmlElement): XmlElement[] {
  return root.children.flatMap((s) => s.children);
}

Deno.test("a passing run gives one passing testcase per marker plus the checks", () => {
  const root = parseXml(
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

Deno.test("missing markers and failure lines fail their testcases with the excerpt", () => {
  const v = run(["init: start", "init: ready", "x\x1b FAIL <boom> & more", "the end"]);
  const xml = renderJunit(v);
  const root = parseXml(xml);
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
  assertMatch(
    failed[0].children[0].text,
    /3: x\\x1b FAIL <boom>/,
    "the excerpt travels with missing markers",
  );
  const sum = root.children.reduce((n, s) => n + Number(s.attrs.failures), 0);
  assertEquals(sum, 3);
});

Deno.test("a timeout and an order violation fail their checks", () => {
  const root = parseXml(renderJunit(run(["init: ready", "init: start"], "timeout")));
  const byName = new Map(cases(root).map((c) => [c.attrs.name, c]));
  assertEquals(byName.get("init markers in ladder order")!.children[0].attrs.type, "order");
  assertEquals(byName.get("run ended within its limits")!.children[0].attrs.type, "timeout");
  assertEquals(root.attrs.failures, "4");
});
