import { assertEquals, assertMatch, assertThrows } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { HarnessError } from "./errors.ts";
import {
  checkWritable,
  LineFile,
  progressLine,
  replaceWithError,
  REPORT_SCHEMA_VERSION,
  reportPaths,
  withRunInfo,
  writeJunit,
  writeSummary,
} from "./reports.ts";
import { parseJunit } from "../tests/junit_check.ts";

Deno.test("LineFile writes every line, across flushes, creating its directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = LineFile.create(`${dir}/a/b/uart.log`);
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${"x".repeat(20)}`);
    for (const l of lines) f.writeLine(l);
    f.close();
    f.writeLine("after close is ignored");
    assertEquals(await Deno.readTextFile(`${dir}/a/b/uart.log`), lines.join("\n") + "\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("summary.json and the JUnit report are written where asked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const v = new Judge(
      selectRequirement(parseLadder(`ladder = [{ phase = "end", marker = "x" }]`, "t")),
    )
      .verdict({ reason: "eof", wallMs: 1 });
    const path = writeSummary(`${dir}/logs/`, v);
    assertEquals(path, `${dir}/logs/uart.log`.replace("uart.log", "summary.json"));
    assertEquals(JSON.parse(await Deno.readTextFile(path)), JSON.parse(JSON.stringify(v)));
    writeJunit(`${dir}/ci/report.xml`, v);
    assertEquals(parseJunit(await Deno.readTextFile(`${dir}/ci/report.xml`)).attrs.failures, "1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report paths and the progress line", () => {
  assertEquals(reportPaths("build/logs"), {
    uart: "build/logs/uart.log",
    summary: "build/logs/summary.json",
  });
  assertEquals(reportPaths("/").uart, "/uart.log");
  assertMatch(progressLine({ seen: 2, expected: 5, phase: "ota" }), /phase ota: 2\/5 markers/);
});

Deno.test("reports that cannot be written are REPORT_UNWRITABLE errors naming the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "x");
    for (
      const fn of [
        () => LineFile.create(`${dir}/file/uart.log`),
        () => checkWritable(`${dir}/file/junit.xml`),
        () => checkWritable(dir),
      ]
    ) {
      const err = assertThrows(fn, HarnessError);
      assertEquals(err.code, "REPORT_UNWRITABLE");
      assertMatch(err.message, /^cannot write /);
    }
    checkWritable(`${dir}/new/junit.xml`);
    assertEquals(
      await Deno.readTextFile(`${dir}/file`),
      "x",
      "existing files are left as they are",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reports lead with the schema and nexus versions and end with what the run was", () => {
  const v = new Judge(
    selectRequirement(parseLadder(`ladder = [{ phase = "end", marker = "x" }]`, "t")),
  ).verdict({ reason: "eof", wallMs: 1 });
  const run = {
    command: ["nexus", "boot", "--seed", "7"],
    cwd: "/w",
    seed: 7,
    faultPlan: null,
    image: { path: "build/blk.img", sizeBytes: 512, partitions: null },
    manifest: "images/system.toml",
    ladder: "images/ladder.toml",
  };
  const r = withRunInfo(v, "9.9.9", run);
  assertEquals(Object.keys(r).slice(0, 3), ["schemaVersion", "nexusVersion", "status"]);
  assertEquals(Object.keys(r).at(-1), "run");
  assertEquals(r.schemaVersion, REPORT_SCHEMA_VERSION);
  assertEquals(r.nexusVersion, "9.9.9");
  assertEquals(r.run, run);
});

Deno.test("replaceWithError replaces an earlier verdict and JUnit file, and creates nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/logs`);
    await Deno.writeTextFile(`${dir}/logs/summary.json`, '{"status":"PASS"}');
    await Deno.writeTextFile(`${dir}/logs/uart.log`, "last run\n");
    await Deno.writeTextFile(`${dir}/junit.xml`, "<old/>");
    replaceWithError({
      logDir: `${dir}/logs`,
      junitPath: `${dir}/junit.xml`,
      error: "image empty.img: the image is empty",
      nexusVersion: "1.2.3",
      run: { command: ["nexus", "boot"] },
    });
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/logs/summary.json`));
    assertEquals(summary.status, "ERROR");
    assertEquals(summary.exitCode, 2);
    assertEquals(summary.error, "image empty.img: the image is empty");
    assertEquals(summary.schemaVersion, REPORT_SCHEMA_VERSION);
    assertEquals(parseJunit(await Deno.readTextFile(`${dir}/junit.xml`)).attrs.errors, "1");
    assertEquals(await Deno.readTextFile(`${dir}/logs/uart.log`), "last run\n", "uart.log kept");
    replaceWithError({ logDir: `${dir}/none`, error: "x", nexusVersion: "1" });
    assertThrows(() => Deno.statSync(`${dir}/none`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
