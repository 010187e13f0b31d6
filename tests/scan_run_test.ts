/**
 * `nexus scan --run -- CMD ARGS...` end to end: the command's stdout is judged live and the
 * command, only it, is stopped at the end marker, a failure line or the timeout.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexus } from "./cli_helpers.ts";
import { processRunning } from "../harness/child.ts";

const PASS_LOG = new URL("./fixtures/scan_pass.log", import.meta.url).pathname;

/** Arguments running a Deno child with `code` (it first prints its pid). */
function child(code: string): string[] {
  return [Deno.execPath(), "eval", "--quiet", `console.log("child pid " + Deno.pid);\n${code}`];
}

function childPid(stdout: string): number {
  const m = /child pid (\d+)/.exec(stdout);
  assert(m, `no child pid in: ${stdout}`);
  return Number(m[1]);
}

const SLOW_LADDER = `
const lines = Deno.readTextFileSync(${JSON.stringify(PASS_LOG)}).trimEnd().split("\\n");
for (const l of lines) {
  console.log(l);
  await new Promise((r) => setTimeout(r, 3));
}
await new Promise((r) => setTimeout(r, 600_000));
`;

Deno.test("scan --run: a child printing the ladder slowly is stopped at the end marker", async () => {
  // A bystander process the scan must leave alone.
  const bystander = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const r = await nexus(["scan", "--run", "--timeout", "60s", "--", ...child(SLOW_LADDER)]);
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
  const r = await nexus([
    "scan",
    "--run",
    "--timeout",
    "1500ms",
    "--",
    ...child(
      `console.log("init: start"); while (true) await new Promise((r) => setTimeout(r, 50));`,
    ),
  ]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  assertMatch(
    r.stdout,
    /\nFAIL: timeout after 1.5s \(during phase bring-up\)\n85 of 86 markers missing \(phase end; ended: timeout after 1.5s\)/,
  );
  assertEquals(processRunning(childPid(r.stdout)), false, "the child is gone");
});

Deno.test("scan --run: RUN_TIMEOUT applies to the child", async () => {
  const r = await nexus(
    ["scan", "--run", "--", ...child(`await new Promise((r) => setTimeout(r, 600_000));`)],
    { env: { RUN_TIMEOUT: "1500ms" } },
  );
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /ended: timeout after 1.5s/);
  assertEquals(processRunning(childPid(r.stdout)), false);
});

Deno.test("scan --run: a failure line stops the child at once", async () => {
  const r = await nexus([
    "scan",
    "--run",
    "--json",
    "--",
    ...child(
      `console.log("init: start"); console.log("SELFTEST: ota switch FAIL (no route)"); await new Promise((r) => setTimeout(r, 600_000));`,
    ),
  ]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const v = JSON.parse(r.stdout);
  assertEquals(v.end, "failure");
  assertEquals(v.failures[0].text, "SELFTEST: ota switch FAIL (no route)");
  const pid = Number(/child pid (\d+)/.exec(v.excerpt.lines[0].text)![1]);
  assertEquals(processRunning(pid), false);
});

Deno.test("scan --run: a child exiting on its own is judged with its exit status", async () => {
  const r = await nexus([
    "scan",
    "--run",
    "--",
    ...child(`console.log("init: start"); Deno.exit(7);`),
  ]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /ended: command exited with code 7/);
});

Deno.test("scan --run: stopping nexus itself (SIGINT, SIGTERM) stops the child too", async () => {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const nx = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "-A",
        main,
        "scan",
        "--run",
        "--",
        ...child(`console.log("init: start"); await new Promise((r) => setTimeout(r, 600_000));`),
      ],
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
  const r = await nexus([
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
