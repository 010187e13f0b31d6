/**
 * The campaigns end to end, in-process and small: explore boots with and without faults, a
 * planted durability bug that the invariants must catch, the engine power torture, and the CLI's
 * usage errors and report merge.
 */
import { assert, assertEquals } from "./assert.ts";
import { withTempDir } from "./helpers.ts";
import { SMALL_GPT, SMALL_RECIPE, TINY_GPT, TINY_RECIPE } from "./small_image.ts";
import {
  type BootBench,
  bootOnce,
  type BootRun,
  checkMedium,
  crashProblems,
  makeBootBench,
  runBootCase,
} from "../campaigns/boot_case.ts";
import { OverlayStore } from "../campaigns/medium.ts";
import { drawPlan, FAULT_CLASSES, formatPlan, parsePlan } from "../campaigns/plan.ts";
import { explore } from "../campaigns/explore.ts";
import { recipeFlag } from "../campaigns/campaign.ts";
import { torturePower } from "../campaigns/torture_power.ts";
import { CUT_MODES } from "../core/virtio/fault.ts";
import { tortureEngine, tortureRepair } from "../campaigns/engine_workload.ts";
import { runCases } from "../campaigns/runner.ts";
import { SERVICES } from "../services/mod.ts";
import { makeCorruptBench, runCorruptCase } from "../campaigns/torture_corrupt.ts";
import { makeFramesCtx, runFramesCase } from "../campaigns/torture_frames.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
import type { TaskInfo } from "../core/kernel/types.ts";
import { SF_OP_STATS, SF_OP_SYNC } from "../services/statefsd/protocol.ts";
import { captureIo, run } from "../cli/main.ts";
import type { Recipe } from "../images/recipe.ts";

const bench = await withBench(SMALL_GPT);

async function withBench(recipe: Recipe) {
  const dir = await Deno.makeTempDir({ prefix: "nexus-campaign-test-" });
  try {
    return await makeBootBench(dir, undefined, { recipe });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("explore: a fault-free boot and a power-cut boot keep every invariant", async () => {
  assert(bench.workload.writes > 10, `a boot writes (${bench.workload.writes})`);
  const clean = await runBootCase(bench, 1, parsePlan("none"), "-");
  assertEquals(clean.problems, []);
  const plan = drawPlan(3, "all", bench.workload);
  const faulted = await runBootCase(bench, 3, plan, "-");
  assertEquals(faulted.problems, [], formatPlan(plan));
});

/**
 * The in-process subset of `nexus explore`: the campaign's own case runner (plan, schedule,
 * checks, shrinking) over `perClass` seeds of each fault class from `first` on, each case run as
 * `--no-reboot` runs it unless `reboot`. Returns the failures with their replay commands.
 */
async function sweep(
  b: BootBench,
  first: number,
  perClass: number,
  reboot: boolean,
): Promise<string[]> {
  const classes = FAULT_CLASSES.filter((c) => c !== "none");
  // No failure image is kept (the count of saved ones is already past any limit).
  const ctx = { bench: b, dir: "", saved: Number.POSITIVE_INFINITY };
  const failed: string[] = [];
  for (let i = 0; i < perClass * classes.length; i++) {
    const faults = classes[i % classes.length];
    const r = await explore.run(ctx, String(first + i), { faults, reboot, recipe: TINY_RECIPE });
    if (!r.ok) failed.push(`${r.replay}: ${r.problems.join("; ")}`);
  }
  return failed;
}

// The seed sweeps boot the 512 KiB image: about half the CPU of a boot on the 2 MiB one.
const tiny = await withBench(TINY_GPT);

Deno.test("explore: 240 seeds, forty of each fault class, keep every invariant of their run and disk", async () => {
  assertEquals(await sweep(tiny, 1001, 40, false), []);
});

Deno.test("explore: 24 more seeds, four of each fault class, also reboot their disk to the ladder", async () => {
  assertEquals(await sweep(tiny, 101, 4, true), []);
});

Deno.test("explore: --no-reboot boots each case once; replay lines name the flag and the recipe", async () => {
  // samgrd starts in every boot: counting its starts counts the boots of a case.
  let boots = 0;
  const samgrd = SERVICES.samgrd;
  const counted: BootBench = {
    ...tiny,
    services: {
      ...SERVICES,
      samgrd: { ...samgrd, main: (sys, env) => (boots++, samgrd.main(sys, env)) },
    },
  };
  const ctx = { bench: counted, dir: "", saved: Number.POSITIVE_INFINITY };
  const full = await explore.run(ctx, "7", { faults: "sched", recipe: TINY_RECIPE });
  assertEquals([full.ok, boots], [true, 2]);
  assertEquals(
    full.replay,
    `nexus explore --seeds 7 --faults sched --plan none --recipe ${TINY_RECIPE}`,
  );
  boots = 0;
  const once = await explore.run(ctx, "7", { faults: "sched", reboot: false });
  assertEquals([once.ok, boots], [true, 1]);
  assertEquals(once.replay, "nexus explore --seeds 7 --faults sched --plan none --no-reboot");
});

Deno.test("explore: a sweep's replay line, run as a command, reproduces its case", async () => {
  await withTempDir("nexus-campaign-", async (dir) => {
    const ctx = { bench: tiny, dir: "", saved: Number.POSITIVE_INFINITY };
    for (const [seed, faults] of [["1006", "all"], ["1005", "crash"]]) {
      const r = await explore.run(ctx, seed, { faults, reboot: false, recipe: TINY_RECIPE });
      const args = r.replay.split(" ").slice(1); // drop "nexus"
      assertEquals(await quiet([...args, "--jobs", "0", "--json", `${dir}/r.json`]), 0);
      const again = JSON.parse(await Deno.readTextFile(`${dir}/r.json`)).results[0];
      assertEquals([again.ok, again.plan, again.detail], [r.ok, r.plan, r.detail], r.replay);
    }
  });
});

/** statefsd that answers SYNC without syncing (it serves a STATS instead): a lying disk path. */
function lyingStatefsd(): ServiceModule {
  const real = SERVICES.statefsd;
  return {
    ...real,
    main(sys, env) {
      const lying = new Proxy(sys, {
        get(target, prop) {
          if (prop === "recv") {
            return async (...args: Parameters<typeof sys.recv>) => {
              const m = await target.recv(...args);
              if (args[0] === env.slots.inbox && m.data[3] === SF_OP_SYNC) {
                const data = m.data.slice();
                data[3] = SF_OP_STATS;
                return { ...m, data };
              }
              return m;
            };
          }
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      return real.main(lying, env);
    },
  };
}

Deno.test("explore: a sync that is acknowledged but never made durable is caught", async () => {
  const planted = { ...bench, services: { ...SERVICES, statefsd: lyingStatefsd() } };
  const found: string[] = [];
  for (let w = bench.workload.writes; w > 0 && found.length === 0; w -= 7) {
    const medium = new OverlayStore(bench.template);
    const r = await bootOnce(planted, medium, 1, parsePlan(`power@w${w}:reorder`));
    found.push(...await checkMedium(medium, bench.initial, r.log.ops));
  }
  assert(found.some((p) => p.includes("acknowledged before the last sync")), found.join("\n"));
});

Deno.test("explore: a crashed service fails the ladder by name, leaves nobody waiting on it, and the disk keeps its contract", async () => {
  // keystored dies in the middle of the selftest's device-key calls; every service is counted.
  assert((bench.workload.syscalls?.keystored ?? 0) > 20, JSON.stringify(bench.workload));
  const medium = new OverlayStore(bench.template);
  const r = await bootOnce(bench, medium, 3, parsePlan("crash@keystored:20"));
  assertEquals(r.verdict.status, "FAIL");
  assert(r.verdict.failures[0].text.startsWith("panic: keystored: killed by an injected crash"));
  assertEquals(r.crash?.settled, true);
  assertEquals(crashProblems(r), []);
  // The caller that was waiting on keystored got its CLOSED and said so.
  assert(
    r.crash!.tasks.every((t) =>
      t.state !== "blocked" || t.blockedOn?.calling?.owner !== "keystored"
    ),
  );
  assertEquals(await checkMedium(medium, bench.initial, r.log.ops), []);
});

Deno.test("explore: seed 536, updated killed before it persisted bootctl, and the reboot still reaches its ladder", async () => {
  // Found by a 10,000-seed `explore --faults all` (and seeds 1732, 2242, 2887, 3208 likewise):
  // the dying boot still wrote its cold-boot sentinel, and the reboot demanded the bootctl record
  // that boot never wrote. The sentinel now vouches only for what held when it was synced.
  const r = await runBootCase(bench, 536, parsePlan("crash@updated:3"), "-");
  assertEquals(r.problems, []);
});

Deno.test("explore: after a crash, a task left waiting on the dead service, a green ladder or no rest are each a problem", () => {
  const base = {
    verdict: { status: "FAIL" } as BootRun["verdict"],
    store: undefined as unknown as BootRun["store"],
    log: { ops: [] },
  };
  const waiting: TaskInfo = {
    pid: 9,
    name: "updated",
    serviceId: 0n,
    state: "blocked",
    since: 0,
    blockedOn: {
      op: "recv",
      slot: 7,
      endpointId: 30,
      peer: "updated",
      calling: { msg: 4, endpointId: 12, ownerPid: 6, owner: "statefsd" },
    },
  };
  const ok: BootRun = { ...base, crash: { task: "statefsd", settled: true, tasks: [] } };
  assertEquals(crashProblems(ok), []);
  assertEquals(crashProblems({ ...base }), []);
  assertEquals(
    crashProblems({ ...ok, crash: { ...ok.crash!, tasks: [waiting] } }),
    ["updated still waits (recv) on statefsd, which crashed"],
  );
  assertEquals(
    crashProblems({ ...ok, verdict: { status: "PASS" } as BootRun["verdict"] }),
    ["statefsd crashed and the ladder passed"],
  );
  assertEquals(crashProblems({ ...ok, crash: { ...ok.crash!, settled: false } }).length, 1);
});

Deno.test("torture power: linear cuts over engine workloads and a repair keep the contract", async () => {
  let images = 0;
  for (const seed of [1, 2, 4, 5]) {
    const e = await tortureEngine(seed, {
      mode: "linear",
      behaviours: ["atomic", "reorder", "torn"],
      ops: 40,
    });
    assertEquals(e.problems, [], `engine:${seed}`);
    images += e.images;
  }
  assert(images > 500, `${images} crash images`);
  const r = await tortureRepair(2, { mode: "linear", behaviours: ["reorder"], ops: 24 });
  assertEquals(r.problems, []);
});

Deno.test("torture power: a cut after every write of a first boot keeps the disk's contract; every fourth disk reboots", async () => {
  // `torture power --workload boot --mode linear` on the 512 KiB image, the cut mode turning with
  // the write number, as --no-reboot runs it but for every fourth write.
  const ctx = { bench: tiny, dir: "" };
  const writes = tiny.workload.writes;
  assert(writes > 30, `a first boot makes ${writes} writes`);
  const failed: string[] = [];
  for (let w = 1; w <= writes; w++) {
    const cut = CUT_MODES[w % CUT_MODES.length];
    const reboot = w % 4 === 0;
    const o = { cut, reboot, recipe: TINY_RECIPE };
    const r = await torturePower.run(ctx, `boot:w${w}:${cut}`, o);
    if (!r.ok) failed.push(`${r.replay}: ${r.problems.join("; ")}`);
    const flags = `${reboot ? "" : " --no-reboot"} --recipe ${TINY_RECIPE}`;
    assertEquals(
      r.replay,
      `nexus torture power --mode linear --cut ${cut} --case boot:w${w}:${cut}${flags}`,
    );
  }
  assertEquals(failed, []);
});

Deno.test("runner: in-process cases come back in order with their replay commands", async () => {
  await withTempDir("nexus-campaign-", async (dir) => {
    const out = await runCases({
      campaign: "torture power",
      options: { workload: "engine", mode: "log", cut: "atomic" },
      cases: ["engine:2", "engine:1"],
      jobs: 0,
      dir,
    });
    assertEquals(out.results.map((r) => r.id), ["engine:2", "engine:1"]);
    assert(out.results.every((r) => r.ok && r.replay.includes("--case engine:")));
  });
});

function quiet(args: string[]): Promise<number> {
  return run(args, captureIo());
}

Deno.test("CLI: bad selections are usage errors (exit 2) before anything runs", async () => {
  for (
    const args of [
      ["explore", "--seeds", "5..1"],
      ["explore", "--faults", "meteor"],
      ["explore", "--plan", "power@w0"],
      ["explore", "--shard", "3/3"],
      ["explore", "--seeds", "1", "--count", "2"],
      ["explore", "--jobs", "two"],
      ["torture", "power", "--mode", "sideways"],
      ["explore", "--recipe", "/nonexistent/recipe.toml"],
      ["torture", "power", "--workload", "boot", "--recipe", "/nonexistent/recipe.toml"],
      ["torture", "corrupt", "--recipe", "/nonexistent/recipe.toml"],
      ["torture", "frames", "--recipe", "/nonexistent/recipe.toml"],
      ["report", "merge", "/nonexistent/report.json"],
    ]
  ) {
    assertEquals(await quiet(args), 2, args.join(" "));
  }
});

Deno.test("replay lines quote a recipe path so a shell gives it back whole", async () => {
  assertEquals(recipeFlag(undefined), "");
  assertEquals(recipeFlag("images/recipes/tiny.toml"), " --recipe images/recipes/tiny.toml");
  for (const path of ["/tmp/my recipes/a.toml", "it's $HOME `x`.toml", "a\tb"]) {
    const out = await new Deno.Command("sh", {
      args: ["-c", `printf '%s\\n'${recipeFlag(path)}`],
    }).output();
    assertEquals(new TextDecoder().decode(out.stdout), `--recipe\n${path}\n`, path);
  }
});

Deno.test("CLI: a recipe that is missing, a directory or a FIFO is one usage line, never a hang", async () => {
  await withTempDir("nexus-campaign-", async (dir) => {
    const made = await new Deno.Command("mkfifo", { args: [`${dir}/fifo.toml`] }).output();
    assertEquals(made.code, 0);
    for (
      const [path, why] of [
        [`${dir}/none.toml`, "no such file"],
        [dir, "is a directory"],
        [`${dir}/fifo.toml`, "is a FIFO, not a regular file (it could block forever)"],
      ]
    ) {
      const io = captureIo();
      assertEquals(await run(["explore", "--recipe", path, "--jobs", "0"], io), 2, path);
      assertEquals(io.stderr.text(), `nexus: recipe ${path}: ${why}\n`);
    }
  });
});

Deno.test("CLI: explore --recipe --no-reboot runs each case on that image, once, and says so", async () => {
  await withTempDir("nexus-campaign-", async (dir) => {
    const recipe = TINY_RECIPE;
    const args = ["explore", "--seeds", "3", "--faults", "power", "--recipe", recipe];
    assertEquals(
      await quiet([...args, "--no-reboot", "--jobs", "0", "--json", `${dir}/r.json`]),
      0,
    );
    const r = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assertEquals(r.results.map((c: { ok: boolean }) => c.ok), [true]);
    assert(r.results[0].replay.endsWith(` --no-reboot --recipe ${recipe}`), r.results[0].replay);
    // The first boot on the 512 KiB image makes a few dozen writes; one on the default image
    // makes over 200.
    assert(r.results[0].detail.writes < 100, JSON.stringify(r.results[0].detail));
  });
});

Deno.test("CLI: --no-reboot reaches the report's options; an empty shard boots nothing", async () => {
  await withTempDir("nexus-campaign-", async (dir) => {
    // One seed in two shards: shard 1 has no case, so it reports the options without a boot.
    const args = ["explore", "--seeds", "9", "--shard", "1/2", "--jobs", "0"];
    assertEquals(await quiet([...args, "--no-reboot", "--json", `${dir}/once.json`]), 0);
    assertEquals(await quiet([...args, "--json", `${dir}/full.json`]), 0);
    const once = JSON.parse(await Deno.readTextFile(`${dir}/once.json`));
    const full = JSON.parse(await Deno.readTextFile(`${dir}/full.json`));
    // No CPU spent on cases: the shard built no image.
    assertEquals([once.results, once.options.reboot, once.cpuMs], [[], false, 0]);
    assertEquals([full.results, full.options.reboot], [[], undefined]);
    // torture power takes the flag for its boot workload.
    const power = [
      "torture",
      "power",
      "--workload",
      "engine",
      "--workloads",
      "1",
      "--shard",
      "1/2",
    ];
    assertEquals(await quiet([...power, "--no-reboot", "--json", `${dir}/power.json`]), 0);
    const p = JSON.parse(await Deno.readTextFile(`${dir}/power.json`));
    assertEquals([p.results, p.options.reboot], [[], false]);
  });
});

Deno.test("CLI: torture power writes shard reports that report merge joins", async () => {
  await withTempDir("nexus-campaign-", async (dir) => {
    for (const i of [0, 1]) {
      const code = await quiet([
        "torture",
        "power",
        "--workload",
        "engine",
        "--workloads",
        "2",
        "--mode",
        "log",
        "--cut",
        "atomic",
        "--jobs",
        "0",
        "--shard",
        `${i}/2`,
        "--json",
        `${dir}/s${i}.json`,
      ]);
      assertEquals(code, 0);
    }
    const code = await quiet([
      "report",
      "merge",
      `${dir}/s0.json`,
      `${dir}/s1.json`,
      "--json",
      `${dir}/all.json`,
      "--junit",
      `${dir}/all.xml`,
    ]);
    assertEquals(code, 0);
    const all = JSON.parse(await Deno.readTextFile(`${dir}/all.json`));
    assertEquals(all.results.map((r: { id: string }) => r.id).sort(), ["engine:1", "engine:2"]);
    assert((await Deno.readTextFile(`${dir}/all.xml`)).includes('tests="2"'));
  });
});

Deno.test("torture corrupt: damaged images never throw past the documented errors nor stall a boot", async () => {
  await withTempDir("nexus-corrupt-", async (dir) => {
    const b = await makeCorruptBench(dir, SMALL_RECIPE);
    assert(b.records.has("/state/boot/bootctl.v1"), "the populated image holds bootctl");
    for (const seed of [1, 2]) {
      const r = await runCorruptCase(b, seed);
      const bad = r.problems.filter((p) => /exception escaped|threw|stalled/.test(p));
      assertEquals(bad, [], `seed ${seed}: ${r.plan}`);
      assertEquals(r.replay, `nexus torture corrupt --seeds ${seed} --recipe ${SMALL_RECIPE}`);
    }
  });
});

Deno.test("torture frames: 3000 hostile frames per service get well-formed replies, nobody dies", async () => {
  await withTempDir("nexus-frames-", async (dir) => {
    const r = await runFramesCase(await makeFramesCtx(dir, SMALL_RECIPE), 1, 3000);
    assertEquals(r.problems, []);
    assertEquals(r.replay, `nexus torture frames --seeds 1 --frames 3000 --recipe ${SMALL_RECIPE}`);
  });
});
