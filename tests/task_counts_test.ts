/**
 * The kernel counts every task's syscalls and messages itself (snapshot.json's counts), so a boot
 * needs no tracer for them: the counts must equal the trace's events, and a tracer must not change
 * the run.
 */
import { assert, assertEquals } from "./assert.ts";
import { mkfsImage } from "../images/mod.ts";
import { type BootOutcome, bootSystem } from "../init/boot.ts";
import type { TraceEvent } from "../core/kernel/types.ts";
import type { TaskCounts } from "../core/kernel/kernel.ts";

async function boot(tracer?: (e: TraceEvent) => void): Promise<[BootOutcome, string]> {
  const dir = await Deno.makeTempDir({ prefix: "nexus-counts-" });
  try {
    await mkfsImage(`${dir}/blk.img`);
    const lines: string[] = [];
    const outcome = await bootSystem({
      imagePath: `${dir}/blk.img`,
      seed: 7,
      watchdogTicks: 800,
      onLine: (text, time) => void lines.push(`${time} ${text}`),
      // Far enough that messages flowed between services; the whole boot adds nothing here.
      shouldStop: () =>
        lines.length > 0 && lines[lines.length - 1].endsWith(" SELFTEST: samgrd v1 lookup ok"),
      tracer,
    });
    return [outcome, lines.join("\n")];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a boot's task counts equal its trace's syscall, ipc-send and ipc-recv events", async () => {
  const traced = new Map<number, TaskCounts>();
  const of = (pid: number) => {
    let c = traced.get(pid);
    if (c === undefined) traced.set(pid, c = { syscalls: 0, sent: 0, received: 0 });
    return c;
  };
  const [withTrace, consoleTraced] = await boot((e) => {
    if (e.kind === "syscall") of(e.pid).syscalls++;
    else if (e.kind === "ipc-send") of(e.pid).sent++;
    else if (e.kind === "ipc-recv") of(e.pid).received++;
  });
  const [plain, consolePlain] = await boot();
  assertEquals(consolePlain, consoleTraced, "a tracer does not change the run");
  assert(consolePlain.endsWith(" SELFTEST: samgrd v1 lookup ok"), "the boot got that far");
  const sum = (k: keyof TaskCounts) => [...traced.values()].reduce((a, c) => a + c[k], 0);
  for (const k of ["syscalls", "sent", "received"] as const) assert(sum(k) > 0, `some ${k}`);
  for (const t of withTrace.tasks) {
    const want = traced.get(t.pid) ?? { syscalls: 0, sent: 0, received: 0 };
    assertEquals(withTrace.counts.get(t.pid), want, `${t.name}: counts of the traced boot`);
    assertEquals(plain.counts.get(t.pid), want, `${t.name}: counts of the boot without a tracer`);
  }
});
