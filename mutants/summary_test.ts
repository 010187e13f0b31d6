import { assert, assertEquals } from "../tests/assert.ts";
import { laneSummary, mutantKey, renderSummary, type Report, score } from "./summary.ts";
import { fnv1a, inSample } from "./sample_plugin.mjs";

function assertStringIncludes(text: string, part: string): void {
  assert(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
}

const SOURCE = "const a = 1;\nif (a > 0) sync();\nreturn a + 1;\n";

function mutant(id: string, line: number, mutatorName: string, status: string, replacement = "x") {
  return {
    id,
    mutatorName,
    replacement,
    status,
    location: { start: { line, column: 1 }, end: { line, column: 9 } },
  };
}

function report(statuses: string[]): Report {
  const names = ["ConditionalExpression", "BlockStatement", "EqualityOperator", "UpdateOperator"];
  return {
    files: {
      "core/statefs/engine.ts": {
        source: SOURCE,
        mutants: statuses.map((s, i) => mutant(String(i), 1 + (i % 3), names[i % 4], s)),
      },
    },
  };
}

Deno.test("a lane's counts split every status; timeouts count as detected, ignored as nothing", () => {
  const l = laneSummary("ladder", [
    report(["Killed", "Survived", "Timeout", "Ignored", "NoCoverage", "RuntimeError"]),
  ]);
  assertEquals(l.total, {
    killed: 1,
    survived: 1,
    timeout: 1,
    noCoverage: 1,
    errors: 1,
    ignored: 1,
  });
  assertEquals(score(l.total), 50);
  assertEquals(l.survivors.map((s) => s.line), [2, 2]);
  assertEquals(l.survivors[0].original, "if (a > 0) sync();");
  assertEquals(l.status.size, 5, "ignored mutants are not looked up as run");
});

Deno.test("no run mutant has no score rather than 0 % or 100 %", () => {
  assertEquals(score(laneSummary("x", [report(["Ignored"])]).total), undefined);
  assertEquals(score(laneSummary("x", []).total), undefined);
});

Deno.test("several reports of one lane add up per file", () => {
  const l = laneSummary("suite", [report(["Killed"]), report(["Survived", "Killed"])]);
  assertEquals(l.files.get("core/statefs/engine.ts")?.killed, 2);
  assertEquals(l.files.get("core/statefs/engine.ts")?.survived, 1);
});

Deno.test("the summary shows both lanes per file and each survivor with the other lane's verdict", () => {
  const ladder = laneSummary("ladder", [report(["Survived", "Survived", "Killed"])]);
  const suite = laneSummary("suite", [report(["Killed", "Survived", "Killed"])]);
  const text = renderSummary([ladder, suite], { ladder: 61.6 });
  assertStringIncludes(text, "ladder: score 33.3% (killed 1, survived 2, timeout 0");
  assertStringIncludes(text, "wall 62 s");
  assertStringIncludes(text, "suite: score 66.7%");
  assertStringIncludes(text, "core/statefs/engine.ts");
  assertStringIncludes(text, "1:1 ConditionalExpression → x [suite: Killed]");
  assertStringIncludes(text, "2:1 BlockStatement → x [suite: Survived]");
  assertStringIncludes(text, "ladder: 2 surviving mutants");
  assertStringIncludes(text, "suite: 1 surviving mutants");
});

Deno.test("a mutant's key names file, span, mutator and replacement", () => {
  const m = mutant("7", 4, "BooleanLiteral", "Killed", "false");
  assertEquals(mutantKey("f.ts", m), "f.ts:4:1-4:9 BooleanLiteral false");
  assert(mutantKey("f.ts", m) !== mutantKey("g.ts", m));
});

Deno.test("the function sample hashes names with FNV-1a and keeps everything at n = 1", () => {
  assertEquals(fnv1a(""), 0x811c9dc5);
  assertEquals(fnv1a("a"), 0xe40c292c);
  assertEquals(fnv1a("foobar"), 0xbf9cf968);
  const keys = Array.from({ length: 200 }, (_, i) => `core/statefs/engine.ts#f${i}`);
  assert(keys.every((k) => inSample(k, 1)));
  const kept = keys.filter((k) => inSample(k, 5)).length;
  assert(kept > 20 && kept < 60, `about 1 in 5 of 200 names kept, got ${kept}`);
});
