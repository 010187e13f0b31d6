import { assert, assertEquals, assertRejects } from "../tests/assert.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { arraySource, type LineSource } from "./live.ts";
import { runSession } from "./session.ts";
import { Terminal } from "./terminal.ts";

const REQ = selectRequirement(parseLadder(`ladder = [{ phase = "end", marker = "x" }]`, "t"));
const sink = { writeSync: (p: Uint8Array) => p.length, isTerminal: () => false };
const terminal = () => new Terminal({ out: sink, err: sink, stream: false });

Deno.test("a session that cannot start keeps the last console and leaves no earlier verdict", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pass = await runSession({
      requirement: REQ,
      source: arraySource(["x"]),
      timeoutMs: 10_000,
      terminal: terminal(),
      json: false,
      logDir: dir,
      nexusVersion: "0.0.1",
    });
    assertEquals(pass.status, "PASS");
    assertEquals(await Deno.readTextFile(`${dir}/uart.log`), "x\n");
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    assertEquals([summary.schemaVersion, summary.nexusVersion, summary.status], [
      1,
      "0.0.1",
      "PASS",
    ]);
    const broken: LineSource = () => Promise.reject(new Error("the image is empty"));
    await assertRejects(
      () =>
        runSession({
          requirement: REQ,
          source: broken,
          timeoutMs: 10_000,
          terminal: terminal(),
          json: false,
          logDir: dir,
          nexusVersion: "0.0.1",
        }),
      Error,
      "the image is empty",
    );
    assertEquals(await Deno.readTextFile(`${dir}/uart.log`), "x\n", "not truncated");
    const after = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    assertEquals(after.status, "ERROR");
    assertEquals(after.error, "the image is empty");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a session that runs but prints nothing still replaces uart.log", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/uart.log`, "old\n");
    const v = await runSession({
      requirement: REQ,
      source: arraySource([]),
      timeoutMs: 10_000,
      terminal: terminal(),
      json: false,
      logDir: dir,
    });
    assert(v.status === "FAIL");
    assertEquals(await Deno.readTextFile(`${dir}/uart.log`), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
