/**
 * The run seed drives the simulation: different seeds schedule the same system differently (and
 * each still passes the ladder), and a seed with a fault plan replays byte for byte.
 */
import { assert, assertEquals, assertNotEquals } from "./assert.ts";
import { mkfsImage } from "../images/mod.ts";
import { type BootOutcome, bootSystem } from "../init/boot.ts";
import { defaultLadderPath, Judge, loadLadder, selectRequirement } from "../harness/mod.ts";
import { parseFaultPlan } from "../core/simulation/mod.ts";
import type { TraceEvent } from "../core/kernel/types.ts";
import { replayCommand } from "../cli/boot.ts";
import { bootIn } from "./cli_helpers.ts";
import { withTempDir } from "./helpers.ts";
import { SMALL_GPT } from "./small_image.ts";

const ladder = await loadLadder(defaultLadderPath());

interface SeededRun {
  status: string;
  console: string;
  trace: string;
  outcome: BootOutcome;
}

/**
 * Boots a fresh small image with `seed` (and `faults`), judging the mmio phase as the CLI does
 * (the schedule a seed draws does not depend on the image's size).
 */
async function bootSeed(seed: number, faults = "none"): Promise<SeededRun> {
  const dir = await Deno.makeTempDir({ prefix: "nexus-seed-" });
  try {
    const image = `${dir}/blk.img`;
    await mkfsImage(image, { recipe: SMALL_GPT });
    const judge = new Judge(selectRequirement(ladder, { phase: "mmio", untilMarker: true }));
    const lines: string[] = [];
    const events: string[] = [];
    // The kernel's own task counts must equal the trace's syscall, ipc-send and ipc-recv events.
    const traced = new Map<number, { syscalls: number; sent: number; received: number }>();
    const count = (pid: number, what: "syscalls" | "sent" | "received") => {
      let c = traced.get(pid);
      if (c === undefined) traced.set(pid, c = { syscalls: 0, sent: 0, received: 0 });
      c[what]++;
    };
    const outcome = await bootSystem({
      imagePath: image,
      seed,
      faults: parseFaultPlan(faults),
      watchdogTicks: 800,
      onLine: (text, time) => {
        lines.push(`${time} ${text}`);
        judge.feed(text, time);
      },
      shouldStop: () => judge.shouldStop,
      tracer: (e: TraceEvent) => {
        events.push(JSON.stringify(e));
        if (e.kind === "syscall") count(e.pid, "syscalls");
        else if (e.kind === "ipc-send") count(e.pid, "sent");
        else if (e.kind === "ipc-recv") count(e.pid, "received");
      },
    });
    for (const t of outcome.tasks) {
      const want = traced.get(t.pid) ?? { syscalls: 0, sent: 0, received: 0 };
      assertEquals(outcome.counts.get(t.pid), want, `seed ${seed}: ${t.name}'s counts`);
    }
    const verdict = judge.verdict({
      reason: judge.stopCause ?? outcome.reason,
      virtualNs: outcome.virtualNs,
      wallMs: 0,
    });
    return { status: verdict.status, console: lines.join("\n"), trace: events.join("\n"), outcome };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("seeds 1, 2, 3 and 12345 schedule differently and each passes the mmio ladder", async () => {
  const runs = [];
  for (const seed of [1, 2, 3, 12345]) {
    const run = await bootSeed(seed);
    assertEquals(run.status, "PASS", `seed ${seed}:\n${run.console.slice(-2000)}`);
    runs.push(run);
  }
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      assertNotEquals(runs[i].trace, runs[j].trace);
      assertNotEquals(runs[i].console, runs[j].console);
    }
  }
  assertEquals(new Set(runs.map((r) => r.outcome.virtualNs)).size, 4, "virtual times differ");
});

Deno.test("a seed with a fault plan replays byte for byte, faults and all", async () => {
  // Power goes with over a dozen writes in the cache, torn, before the read the plan fails.
  const plan = "ioerr@r2000,power@w34:torn";
  const first = await bootSeed(12345, plan);
  const second = await bootSeed(12345, plan);
  assertEquals(second.console, first.console);
  assertEquals(second.trace, first.trace);
  assertEquals(second.outcome.faults, first.outcome.faults);
  assertEquals(first.outcome.faults?.plan, plan);
  assertEquals(first.outcome.faults?.cut?.id.startsWith("cut:34:torn:"), true, "power was cut");
  assert((first.outcome.faults?.cut?.cached ?? 0) > 5, "with writes in the cache");
  assertEquals(first.status, "FAIL");
  // The same seed without the plan is another run.
  assertNotEquals(first.console, (await bootSeed(12345)).console);
});

Deno.test("a failing boot prints the one command that replays it, and that command does", async () => {
  await withTempDir("nexus-replay-", async (dir) => {
    const failed = await bootIn(dir, ["--faults", "crash@rngd:3", "--quiet", "--log-dir", "a"]);
    assertEquals(failed.code, 1);
    const line = failed.stdout.split("\n").find((l) => l.startsWith("replay: "));
    assertEquals(line, "replay: nexus boot --faults crash@rngd:3 --quiet --log-dir a --seed 1");
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/a/summary.json`));
    assertEquals(summary.run.replay, line!.slice("replay: ".length));
    // Run the printed command (log dir swapped) and compare the consoles byte for byte.
    const args = line!.split(" ").slice(3).map((a) => a === "a" ? "b" : a);
    const again = await bootIn(dir, args);
    assertEquals(again.code, 1);
    assertEquals(
      await Deno.readTextFile(`${dir}/b/uart.log`),
      await Deno.readTextFile(`${dir}/a/uart.log`),
    );
  });
});

Deno.test("replayCommand: the seed made explicit once, shell words quoted, a kept image named", () => {
  assertEquals(
    replayCommand(["nexus", "boot", "--seed", "9", "--seed=4", "--until-marker", "x y"], 5, false),
    "nexus boot --until-marker 'x y' --seed 5",
  );
  assertEquals(
    replayCommand(["nexus", "boot", "--keep-image", "--until-marker", "it's"], 2, true),
    "nexus boot --keep-image --until-marker 'it'\\''s' --seed 2   # on the image as it was before this run",
  );
});
