import { assert, assertEquals, assertThrows } from "../tests/assert.ts";
import { checkJunit, testcases } from "../tests/junit_check.ts";
import type { CaseResult } from "./boot_case.ts";
import {
  type CampaignReport,
  mergeReports,
  missingShards,
  renderCampaignJunit,
  REPORT_VERSION,
  ReportError,
  validateReport,
} from "./report.ts";

function shard(i: number, n: number, ids: string[], failing: string[] = []): CampaignReport {
  const results: CaseResult[] = ids.map((id) => ({
    id,
    ok: !failing.includes(id),
    problems: failing.includes(id) ? [`case ${id} <broke> & "stopped"`] : [],
    plan: "power@w3:torn",
    replay: `nexus explore --seeds ${id} --faults power --plan power@w3:torn`,
  }));
  return {
    version: REPORT_VERSION,
    campaign: "explore",
    options: { seeds: "1..6", faults: "power" },
    shards: [`${i}/${n}`],
    runs: ids.length,
    failures: failing.length,
    wallMs: 1000,
    cpuMs: 900,
    jobs: 1,
    results,
  };
}

Deno.test("merge: shards add up to one report with every case and failure", () => {
  const m = mergeReports([shard(0, 2, ["1", "3", "5"], ["3"]), shard(1, 2, ["2", "4", "6"])]);
  assertEquals(m.runs, 6);
  assertEquals(m.failures, 1);
  assertEquals(m.shards, ["0/2", "1/2"]);
  assertEquals(missingShards(m), []);
  assertEquals(m.wallMs, 2000);
  assertEquals(missingShards(mergeReports([shard(0, 3, ["1"])])), ["1/3", "2/3"]);
});

Deno.test("merge: refuses other campaigns, other options, a shard twice, a case twice", () => {
  const other = { ...shard(1, 2, ["2"]), campaign: "torture power" };
  assertThrows(() => mergeReports([shard(0, 2, ["1"]), other]), ReportError);
  const opts = { ...shard(1, 2, ["2"]), options: { seeds: "1..7", faults: "power" } };
  assertThrows(() => mergeReports([shard(0, 2, ["1"]), opts]), ReportError);
  assertThrows(() => mergeReports([shard(0, 2, ["1"]), shard(0, 2, ["2"])]), ReportError);
  assertThrows(() => mergeReports([shard(0, 2, ["1"]), shard(1, 2, ["1"])]), ReportError);
  assertThrows(() => mergeReports([shard(0, 2, ["1"]), shard(1, 3, ["2"])]), ReportError);
  assertThrows(() => mergeReports([]), ReportError);
  assertThrows(() => validateReport({ version: 99 }, "x.json"), ReportError);
});

Deno.test("junit: valid JUnit, one test case per case, failures carry the replay", async () => {
  const xml = renderCampaignJunit(mergeReports([shard(0, 1, ["1", "2"], ["2"])]));
  const root = await checkJunit(xml);
  const cases = testcases(root);
  assertEquals(cases.length, 2);
  assertEquals(cases.filter((c) => c.children.some((f) => f.name === "failure")).length, 1);
  assert(xml.includes("replay: nexus explore --seeds 2"));
  assert(xml.includes("&lt;broke&gt; &amp; &quot;stopped&quot;"));
});
