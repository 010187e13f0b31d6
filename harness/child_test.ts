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

/** A shell child running `script` (the commands in these tests are real processes). */
function sh(script: string): [string, string[]] {
  return ["sh", ["-c", script]];
}

const PRINT_SLOWLY = `for l in "init: start" "init: ready" "the end"; do echo "$l"; sleep 0.03; done
exec sleep 600`;

Deno.test("a child printing the ladder slowly is stopped at the end marker and reaped", async () => {
  let pid = 0;
  const [cmd, args] = sh(PRINT_SLOWLY);
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
  const [cmd, args] = sh(`echo "init: start"; echo "init: ready"; exit 3`);
  const v = await runLive(childSource(cmd, args), new Judge(selectRequirement(LADDER)), {
    timeoutMs: 30_000,
  });
  assertEquals(v.end, "exited");
  assertEquals(v.endDetail, "command exited with code 3");
  assertEquals(v.firstMissing, { marker: "the end", phase: "end" });
});

Deno.test("a failure line stops the child, keeping what it printed right after", async () => {
  const [cmd, args] = sh(`echo "init: start"
echo "!fatal init-lite: watchdog fired"
echo "  pid task state"
exec sleep 600`);
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

/** Waits (bounded) for `pid` to be gone; true when it is. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && processRunning(pid); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return !processRunning(pid);
}

async function pidFrom(file: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const n = Number((await Deno.readTextFile(file)).trim());
      if (n > 0) return n;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no pid in ${file}`);
}

// A process that ignores SIGTERM and writes its pid to $1 (ignored signals survive exec).
const STUBBORN = `sh -c 'trap "" TERM; echo $$ > "$1"; exec sleep 30' stubborn`;
// The leader goes on only once the stubborn process ignores SIGTERM (its pid file is written).
const waitPid = (file: string) => `while [ ! -s "${file}" ]; do sleep 0.01; done`;

Deno.test("a grandchild ignoring SIGTERM after the leader exited is killed and named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const v = await runLive(
      childSource("sh", [
        "-c",
        `${STUBBORN} "${dir}/pid" > /dev/null 2>&1 & ${
          waitPid(`${dir}/pid`)
        }; echo "init: start"; exit 0`,
      ], { killGraceMs: 150, lateGraceMs: 50 }),
      new Judge(selectRequirement(LADDER)),
      { timeoutMs: 30_000 },
    );
    const pid = await pidFrom(`${dir}/pid`);
    assert(await gone(pid), "the grandchild is gone");
    assertEquals(v.end, "exited");
    assertMatch(v.endDetail!, /command exited with code 0/);
    assertMatch(v.cleanup!, new RegExp(`killed with SIGKILL: sleep \\(pid ${pid}\\)`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a subshell ignoring SIGTERM while the leader dies is killed after the grace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let leader = 0;
    const v = await runLive(
      childSource("sh", [
        "-c",
        `${STUBBORN} "${dir}/pid" & ${
          waitPid(`${dir}/pid`)
        }; echo "init: start"; echo "init: ready"; echo "the end"; wait`,
      ], { killGraceMs: 150, onSpawn: (p) => leader = p }),
      new Judge(selectRequirement(LADDER, { untilMarker: true })),
      { timeoutMs: 30_000 },
    );
    const pid = await pidFrom(`${dir}/pid`);
    assertEquals(v.status, "PASS");
    assert(await gone(pid), "the subshell is gone");
    assertEquals(processRunning(leader), false);
    assertMatch(v.cleanup!, new RegExp(`killed with SIGKILL: sleep \\(pid ${pid}\\)`));
    assertMatch(v.cleanup!, new RegExp(`stopped with SIGTERM: sh \\(pid ${leader}\\)`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a background job left by a leader exiting 0 is stopped, holding stdout or not", async () => {
  for (const redirect of ["", "> /dev/null"]) {
    const dir = await Deno.makeTempDir();
    try {
      const v = await runLive(
        childSource("sh", [
          "-c",
          `sleep 30 ${redirect} & echo $! > "${dir}/pid"; echo "init: start"; exit 0`,
        ], { killGraceMs: 2000, lateGraceMs: 50 }),
        new Judge(selectRequirement(LADDER)),
        { timeoutMs: 30_000 },
      );
      const pid = await pidFrom(`${dir}/pid`);
      assert(await gone(pid), `the background job is gone (${redirect || "holding stdout"})`);
      assertEquals(v.end, "exited");
      assertMatch(v.cleanup!, new RegExp(`stopped with SIGTERM: sleep \\(pid ${pid}\\)`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a child that leaves nothing behind has no cleanup line", async () => {
  const v = await runLive(
    childSource("sh", ["-c", 'echo "init: start"; exit 0']),
    new Judge(selectRequirement(LADDER)),
    { timeoutMs: 30_000 },
  );
  assertEquals(v.end, "exited");
  assertEquals(v.cleanup, undefined);
});
