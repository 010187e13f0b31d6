/**
 * Whole `nexus` processes against Deno's own start-up, measured in the same run: CPU (user +
 * system) and peak memory from GNU time, medians of interleaved rounds, printed as ratios against
 * `deno eval 0`:
 *
 * - `nexus --version`: start-up plus the root program, no command module loaded;
 * - `nexus --help`: every command module loaded (the difference is module loading);
 * - `nexus boot --help`: the modules a boot loads, and nothing run (so the steps from
 *   `deno eval 0` through this to the boot split a boot into Deno's start-up, the root program,
 *   module loading, and the boot itself);
 * - `nexus boot --phase mmio --until-marker`: the README's first command, a fresh image each time.
 *
 * Needs `/usr/bin/time` (GNU time); without it the figures are reported as not measured.
 */

import { nexusProcessArgs } from "../tests/nexus_process.ts";

// Nine rounds: on a shared machine five left the boot's median ratio moving by a whole point.
const ROUNDS = 9;

const dir = await Deno.makeTempDir({ prefix: "nexus-process-bench-" });

interface Sample {
  cpu: number;
  maxKiB: number;
}

/**
 * Runs `cmd` in `dir`: CPU seconds (user + system, from bash's `time`, to the millisecond: GNU
 * time rounds to 10 ms, a sixth of Deno's start-up) and peak resident KiB (GNU time).
 */
async function timed(cmd: string[]): Promise<Sample> {
  const mem = `${dir}/peak`;
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      'TIMEFORMAT="%3U %3S"; { time /usr/bin/time -f %M -o "$MEM" "$@" >/dev/null 2>&1; } 2>&1',
      "bench",
      ...cmd,
    ],
    cwd: dir,
    env: { NO_COLOR: "1", MEM: mem, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const times = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  const [user, sys] = times.split(/\s+/).map(Number);
  const maxKiB = Number(Deno.readTextFileSync(mem).trim().split("\n").at(-1));
  if (![user, sys, maxKiB].every(Number.isFinite)) {
    throw new Error(`${cmd.slice(0, 4).join(" ")}: ${times}`);
  }
  return { cpu: user + sys, maxKiB };
}

const nexus = (...args: string[]) => [Deno.execPath(), ...nexusProcessArgs(args)];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function compare(): Promise<void> {
  const runs: Record<string, string[]> = {
    "deno eval 0": [Deno.execPath(), "eval", "0"],
    "nexus --version": nexus("--version"),
    "nexus --help": nexus("--help"),
    "nexus boot --help": nexus("boot", "--help"),
    "nexus boot --phase mmio --until-marker": nexus(
      "boot",
      "--phase",
      "mmio",
      "--until-marker",
      "--quiet",
    ),
  };
  const samples = new Map<string, Sample[]>(Object.keys(runs).map((k) => [k, []]));
  // One untimed run first: after a change to the sources it builds the bundle nexus runs from.
  await timed(runs["nexus --version"]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, cmd] of Object.entries(runs)) samples.get(name)!.push(await timed(cmd));
  }
  const floorRuns = samples.get("deno eval 0")!;
  const floor = median(floorRuns.map((s) => s.cpu));
  const floorMem = median(floorRuns.map((s) => s.maxKiB));
  console.log(`whole processes (${ROUNDS} interleaved rounds, medians), against deno eval 0:`);
  for (const [name, s] of samples) {
    const cpu = median(s.map((x) => x.cpu));
    const mem = median(s.map((x) => x.maxKiB)) / 1024;
    // Each round's own ratio (against the floor measured next to it) shows the spread.
    const rounds = s.map((x, i) => x.cpu / Math.max(floorRuns[i].cpu, 0.001));
    console.log(
      `  ${name.padEnd(40)} CPU ${cpu.toFixed(3)} s = ${
        (cpu / Math.max(floor, 0.001)).toFixed(1)
      }x (rounds ${Math.min(...rounds).toFixed(1)}-${Math.max(...rounds).toFixed(1)}x); ` +
        `peak ${mem.toFixed(0)} MiB = ${(mem / (floorMem / 1024)).toFixed(1)}x`,
    );
  }
}

try {
  await compare();
} catch (err) {
  console.log(`whole processes: not measured (${err instanceof Error ? err.message : err})`);
} finally {
  await Deno.remove(dir, { recursive: true });
}

// `deno bench` wants at least one bench in a file it runs; the figures above are the point.
Deno.bench("nexus: build the root program with every command group", async () => {
  const { buildProgram } = await import("./main.ts");
  await buildProgram();
});
