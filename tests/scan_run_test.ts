/**
 * `nexus scan --run -- CMD ARGS...` end to end: the command's stdout is judged live and the
 * command, only it, is stopped at the end marker, a failure line or the timeout. nexus runs in
 * this process (its `run(args)`) except where the test signals nexus itself; the commands are
 * real processes, small shell scripts.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexusIn } from "./cli_helpers.ts";
import { processRunning } from "../harness/child.ts";
import { nexusProcessArgs } from "./nexus_process.ts";

const PASS_LOG = new URL("./fixtures/scan_pass.log", import.meta.url).pathname;

/** Arguments running a shell child with `script` (it first prints its pid). */
function child(script: string): string[] {
  return ["sh", "-c", `echo "child pid $$"\n${script}`];
}

function childPid(stdout: string): number {
  const m = /child pid (\d+)/.exec(stdout);
  assert(m, `no child pid in: ${stdout}`);
  return Number(m[1]);
}

/** The ladder's log a line at a time, then a wait that only a stop ends. */
const SLOW_LADDER = `while IFS= read -r l; do echo "$l"; sleep 0.001; done < '${PASS_LOG}'
exec sleep 600`;

/** Waits that only a stop ends (exec keeps the child's pid). */
const FOREVER = "exec sleep 600";

Deno.test("scan --run: a child printing the ladder slowly is stopped at the end marker", async () => {
  // A bystander process the scan must leave alone.
  const bystander = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const r = await nexusIn(["scan", "--run", "--timeout", "60s", "--", ...child(SLOW_LADDER)]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertMatch(r.stdout, /init: start logd\n/, "the child's console is streamed");
    assertMatch(r.stdout, /\nPASS: 86\/86 markers \(phase end; every required marker seen\)/);
    assertEquals(processRunning(childPid(r.stdout)), false, "the child is gone");
    assertEquals(processRunning(bystander.pid), true, "nothing else was stopped");
  } finally {
    bystander.kill("SIGKILL");
    await bystander.status;
  }
});

Deno.test("scan --run: a child that never ends is stopped at the timeout", async () => {
  const r = await nexusIn([
    "scan",
    "--run",
    "--timeout",
    "500ms",
    "--",
    ...child(`echo "init: start"; while :; do sleep 0.05; done`),
  ]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  assertMatch(
    r.stdout,
    /\nFAIL: timeout after 500ms \(during phase bring-up\)\n85 of 86 markers missing \(phase end; ended: timeout after 500ms\)/,
  );
  assertEquals(processRunning(childPid(r.stdout)), false, "the child is gone");
});

Deno.test("scan --run: RUN_TIMEOUT applies to the child", async () => {
  const r = await nexusIn(["scan", "--run", "--", ...child(FOREVER)], {
    env: { RUN_TIMEOUT: "300ms" },
  });
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /ended: timeout after 300ms/);
  assertEquals(processRunning(childPid(r.stdout)), false);
});

Deno.test("scan --run: a failure line stops the child at once", async () => {
  const r = await nexusIn([
    "scan",
    "--run",
    "--json",
    "--",
    ...child(`echo "init: start"; echo "SELFTEST: ota switch FAIL (no route)"; ${FOREVER}`),
  ]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const v = JSON.parse(r.stdout);
  assertEquals(v.end, "failure");
  assertEquals(v.failures[0].text, "SELFTEST: ota switch FAIL (no route)");
  const pid = Number(/child pid (\d+)/.exec(v.excerpt.lines[0].text)![1]);
  assertEquals(processRunning(pid), false);
});

Deno.test("scan --run: a child exiting on its own is judged with its exit status", async () => {
  const r = await nexusIn(["scan", "--run", "--", ...child(`echo "init: start"; exit 7`)]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /ended: command exited with code 7/);
});

Deno.test("scan --run: stopping nexus itself (SIGINT, SIGTERM) stops the child too", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const nx = new Deno.Command(Deno.execPath(), {
      args: nexusProcessArgs(["scan", "--run", "--", ...child(`echo "init: start"; ${FOREVER}`)]),
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Wait until the child runs (its pid is printed), then signal nexus only.
    const reader = nx.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!/init: start\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const pid = childPid(out);
    nx.kill(signal);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const status = await nx.status;
    await nx.stderr.cancel();
    assertEquals(status.code, 1, `${signal}: ${out}`);
    assertMatch(out, /ended: interrupted/);
    assertEquals(processRunning(pid), false, `${signal}: the child is gone`);
  }
});

Deno.test("scan --run: what the command left behind is stopped and named in the verdict", async () => {
  const r = await nexusIn([
    "scan",
    "--run",
    "--",
    "sh",
    "-c",
    'sleep 60 > /dev/null & echo "child pid $!"; echo "init: start"; exit 0',
  ]);
  assertEquals(r.code, 1);
  const pid = childPid(r.stdout);
  assertMatch(
    r.stdout,
    new RegExp(`\\nleft behind by the command: stopped with SIGTERM: sleep \\(pid ${pid}\\)\\n`),
  );
  assertEquals(processRunning(pid), false, "the background job is gone");
});
