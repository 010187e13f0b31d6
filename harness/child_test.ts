import { assert, assertEquals, assertMatch, assertRejects } from "../tests/assert.ts";
import { childSource, processRunning } from "./child.ts";
import { HarnessError } from "./errors.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { runLive } from "./live.ts";

const LADDER = parseLadder(
  `ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", marker = "init: ready", ordered = true },
  { phase = "end", marker = "the end" },
]`,
  "t",
);

/** A Deno child running `code`. */
function deno(code: string): [string, string[]] {
  return [Deno.execPath(), ["eval", "--quiet", code]];
}

const PRINT_SLOWLY = `
for (const l of ["init: start", "init: ready", "the end"]) {
  console.log(l);
  await new Promise((r) => setTimeout(r, 30));
}
await new Promise((r) => setTimeout(r, 600_000));
`;

Deno.test("a child printing the ladder slowly is stopped at the end marker and reaped", async () => {
  let pid = 0;
  const [cmd, args] = deno(PRINT_SLOWLY);
  const v = await runLive(
    childSource(cmd, args, { onSpawn: (p) => pid = p }),
    new Judge(selectRequirement(LADDER, { untilMarker: true })),
    { timeoutMs: 30_000 },
  );
  assertEquals(v.status, "PASS");
  assertEquals(v.end, "complete");
  assert(pid > 0);
  assertEquals(processRunning(pid), false, "the child is gone");
});

Deno.test("a child that never ends is stopped at the timeout, with everything it started", async () => {
  let pid = 0;
  // sh starts a grandchild in the same group and waits: both must go.
  const v = await runLive(
    childSource("sh", ["-c", 'sleep 600 & echo "grandchild $!"; echo "init: start"; wait'], {
      onSpawn: (p) => pid = p,
    }),
    new Judge(selectRequirement(LADDER, { untilMarker: true })),
    { timeoutMs: 1000 },
  );
  assertEquals(v.end, "timeout");
  assertEquals(v.status, "FAIL");
  const grandchild = Number(
    /grandchild (\d+)/.exec(v.excerpt!.lines.map((l) => l.text).join("\n"))![1],
  );
  assertEquals(processRunning(pid), false, "the child is gone");
  // SIGTERM reaches the whole group; give the grandchild a moment to die.
  for (let i = 0; i < 50 && processRunning(grandchild); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(processRunning(grandchild), false, "the grandchild is gone");
});

Deno.test("a child ignoring SIGTERM is killed after the grace period", async () => {
  let pid = 0;
  const v = await runLive(
    childSource("sh", ["-c", 'trap "" TERM; echo "x FAIL"; while :; do sleep 0.05; done'], {
      onSpawn: (p) => pid = p,
      killGraceMs: 100,
      tailGraceMs: 50,
    }),
    new Judge(selectRequirement(LADDER)),
    { timeoutMs: 30_000 },
  );
  assertEquals(v.end, "failure");
  assertEquals(processRunning(pid), false);
});

Deno.test("a child that exits on its own is judged on what it printed, with its status", async () => {
  const [cmd, args] = deno(`console.log("init: start"); console.log("init: ready"); Deno.exit(3);`);
  const v = await runLive(childSource(cmd, args), new Judge(selectRequirement(LADDER)), {
    timeoutMs: 30_000,
  });
  assertEquals(v.end, "exited");
  assertEquals(v.endDetail, "command exited with code 3");
  assertEquals(v.firstMissing, { marker: "the end", phase: "end" });
});

Deno.test("a failure line stops the child, keeping what it printed right after", async () => {
  const [cmd, args] = deno(`
console.log("init: start");
console.log("!fatal init-lite: watchdog fired");
console.log("  pid task state");
await new Promise((r) => setTimeout(r, 600_000));
`);
  let pid = 0;
  const v = await runLive(
    childSource(cmd, args, { onSpawn: (p) => pid = p }),
    new Judge(selectRequirement(LADDER)),
    { timeoutMs: 30_000 },
  );
  assertEquals(v.end, "failure");
  assertMatch(v.excerpt!.lines.map((l) => l.text).join("\n"), /pid task state/);
  assertEquals(processRunning(pid), false);
});

Deno.test("a command that cannot start is a SPAWN_FAILED error", async () => {
  const err = await assertRejects(
    () =>
      runLive(
        childSource("/nonexistent/nexus-no-such-cmd", []),
        new Judge(selectRequirement(LADDER)),
        {
          timeoutMs: 1000,
        },
      ),
    HarnessError,
  );
  assertEquals(err.code, "SPAWN_FAILED");
  assertMatch(err.message, /cannot run \/nonexistent\/nexus-no-such-cmd: command not found/);
});

Deno.test("processRunning tells a live process from a finished one", async () => {
  assertEquals(processRunning(Deno.pid), true);
  const child = new Deno.Command("true").spawn();
  await child.status;
  assertEquals(processRunning(child.pid), false);
});
