import { assert, assertEquals } from "../../tests/assert.ts";
import { wallInterval, wallTimer } from "./wall_timer.ts";

const wait = (ms: number) =>
  new Promise<void>((resolve) => {
    wallTimer(ms, resolve);
  });

Deno.test("wallTimer calls back once its time has passed, never before", async () => {
  const start = performance.now();
  let at = -1;
  let calls = 0;
  wallTimer(30, () => {
    at = performance.now() - start;
    calls++;
  });
  assertEquals(calls, 0);
  await wait(80);
  assertEquals(calls, 1);
  assert(at >= 29, `called after ${at} ms`);
});

Deno.test("a cancelled wallTimer never calls back", async () => {
  let calls = 0;
  const cancel = wallTimer(10, () => calls++);
  cancel();
  cancel();
  await wait(50);
  assertEquals(calls, 0);
});

Deno.test("wallInterval calls back until cancelled, also from its own callback", async () => {
  let calls = 0;
  const cancel = wallInterval(5, () => {
    if (++calls === 3) cancel();
  });
  await wait(100);
  assertEquals(calls, 3);
  let outside = 0;
  const stop = wallInterval(5, () => outside++);
  await wait(40);
  stop();
  const seen = outside;
  assert(seen >= 2, `${seen} calls in 40 ms`);
  await wait(40);
  assertEquals(outside, seen);
});

/** Runs `code` in a fresh Deno process; returns its output and wall time. */
async function fresh(code: string): Promise<{ out: string; ms: number }> {
  const start = performance.now();
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "piped",
    // A timer that cannot be cancelled would keep the process alive: it is killed instead.
    signal: AbortSignal.timeout(10_000),
  }).output();
  assertEquals(run.signal, null, "killed: it was still running after 10 s");
  assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
  return { out: new TextDecoder().decode(run.stdout), ms: performance.now() - start };
}

Deno.test("an armed timer keeps its process alive; a cancelled one lets it exit", async () => {
  const url = new URL("./wall_timer.ts", import.meta.url).href;
  const armed = await fresh(
    `import { wallTimer } from "${url}"; wallTimer(200, () => console.log("fired"));`,
  );
  assertEquals(armed.out, "fired\n");
  const cancelled = await fresh(
    `import { wallTimer, wallInterval } from "${url}";
     wallTimer(20_000, () => console.log("fired"))();
     wallInterval(20_000, () => console.log("ticked"))();`,
  );
  assertEquals(cancelled.out, "");
  assert(cancelled.ms < 10_000, `the process waited ${cancelled.ms} ms`);
});
