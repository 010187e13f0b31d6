/**
 * `nexus scan` against `grep -F -f` on the same 1M-line console log, whole processes, measured in
 * the same run: CPU (user + system, from bash's `time`) and wall, medians of interleaved rounds,
 * printed as ratios. The log is a chatty console: the default ladder's markers spread among noise
 * lines; grep gets every marker and failure signature as its pattern list and writes its matches
 * to a file (to /dev/null it would stop at the first match).
 *
 * Also as Deno benches: the in-process judge over a tenth of the lines, and splitting them.
 */
import { Judge } from "./judge.ts";
import { loadNamedLadder, selectRequirement } from "./ladder.ts";
import { LineSplitter } from "./lines.ts";
import { nexusProcessArgs } from "../tests/nexus_process.ts";

const LINES = 1_000_000;
const ROUNDS = 5;

const ladder = await loadNamedLadder("default");
const markers = ladder.entries.map((e) => e.markers[0]);
const step = Math.floor(LINES / markers.length);
const lines: string[] = [];
for (let i = 0; i < LINES; i++) {
  // Markers spread evenly, so most of the run has most entries still pending.
  if (i % step === 0 && i / step < markers.length) lines.push(markers[i / step]);
  else lines.push(`statefsd: put /state/bench/${i % 997} gen=${i >> 10} (${i} bytes journaled)`);
}
const dir = await Deno.makeTempDir({ prefix: "nexus-scan-bench-" });
const log = `${dir}/console.log`;
const patterns = `${dir}/patterns`;
await Deno.writeTextFile(log, lines.join("\n") + "\n");
await Deno.writeTextFile(
  patterns,
  [...ladder.entries.flatMap((e) => e.markers), ...ladder.failureSignatures].join("\n") + "\n",
);

/** Runs `cmd` under bash's `time`; returns CPU (user + sys) and wall seconds. */
async function timed(cmd: string[]): Promise<{ cpu: number; wall: number }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", 'TIMEFORMAT="%3U %3S %3R"; { time "$@" > "$OUT" 2>&1; } 2>&1', "bench", ...cmd],
    env: { OUT: `${dir}/out`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const [user, sys, wall] = new TextDecoder().decode(out.stdout).trim().split(/\s+/).map(Number);
  return { cpu: user + sys, wall };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function compare(): Promise<void> {
  const grep = ["grep", "-F", "-f", patterns, log];
  const scan = [Deno.execPath(), ...nexusProcessArgs(["scan", log])];
  const g: { cpu: number; wall: number }[] = [];
  const s: { cpu: number; wall: number }[] = [];
  // One untimed run first: after a change to the sources it builds the bundle nexus runs from.
  await timed(scan);
  for (let r = 0; r < ROUNDS; r++) {
    g.push(await timed(grep));
    s.push(await timed(scan));
  }
  const gc = median(g.map((x) => x.cpu));
  const sc = median(s.map((x) => x.cpu));
  const gw = median(g.map((x) => x.wall));
  const sw = median(s.map((x) => x.wall));
  console.log(
    `nexus scan vs grep -F -f, ${LINES} lines (${ROUNDS} interleaved rounds, medians): ` +
      `CPU ${sc.toFixed(2)} s vs ${gc.toFixed(2)} s = ${(sc / Math.max(gc, 0.001)).toFixed(1)}x; ` +
      `wall ${sw.toFixed(2)} s vs ${gw.toFixed(2)} s = ${(sw / Math.max(gw, 0.001)).toFixed(1)}x`,
  );
}

try {
  await compare();
} catch (err) {
  console.log(`nexus scan vs grep: not measured (${err instanceof Error ? err.message : err})`);
}

// The in-process benches take a tenth of the log, so that many iterations fit.
const tenth = lines.slice(0, LINES / 10);
const bytes = new TextEncoder().encode(tenth.join("\n") + "\n");
const requirement = selectRequirement(ladder);

Deno.bench("split 100k console lines from 1 MiB chunks", { group: "scan" }, () => {
  const sp = new LineSplitter();
  for (let o = 0; o < bytes.length; o += 1 << 20) sp.push(bytes.subarray(o, o + (1 << 20)));
  sp.flush();
});

Deno.bench("judge 100k console lines against the default ladder", { group: "scan" }, () => {
  const j = new Judge(requirement);
  for (const l of tenth) j.feed(l);
  j.verdict({ reason: "eof", wallMs: 0 });
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
