import { assertEquals, assertMatch, assertThrows } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { HarnessError } from "./errors.ts";
import {
  checkWritable,
  LineFile,
  progressLine,
  reportPaths,
  writeJunit,
  writeSummary,
} from "./reports.ts";
import { parseXml } from "./xml.ts";

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
    assertEquals(parseXml(await Deno.readTextFile(`${dir}/ci/report.xml`)).attrs.failures, "1");
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
