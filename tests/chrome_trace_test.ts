/**
 * The `--trace` timeline of a real boot checked against the Chrome trace-event format: every flow
 * has both ends inside slices, slices nest per track, async slices close, every track is named.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { withTempDir } from "./helpers.ts";
import { SMALL_GPT } from "./small_image.ts";
import { mkfsImage } from "../images/mod.ts";
import { bootSystem } from "../init/boot.ts";
import { type ChromeEvent, ChromeTrace } from "../timeline/chrome_trace.ts";
import { mermaidText, SequenceDiagram } from "../timeline/sequence.ts";

/** Boots the default system until selftest-client has proven routing; returns the trace. */
async function traceBoot(image: string): Promise<{ chrome: string; seq: SequenceDiagram }> {
  const trace = new ChromeTrace();
  const seq = new SequenceDiagram();
  let done = false;
  await bootSystem({
    imagePath: image,
    seed: 1,
    tracer: (e) => {
      trace.tracer(e);
      seq.tracer(e);
    },
    onLine: (line) => {
      if (line.startsWith("SELFTEST: ipc routing updated ok")) done = true;
    },
    shouldStop: () => done,
  });
  assert(done, "the boot got through routing");
  return { chrome: trace.render(), seq };
}

const EPS = 1e-6;

/** Problems with `events` as a Chrome trace (empty when it is sound). */
export function chromeTraceProblems(events: readonly ChromeEvent[]): string[] {
  const problems: string[] = [];
  const named = new Set(events.filter((e) => e.name === "process_name").map((e) => e.pid));
  const slices = events.filter((e) => e.ph === "X");
  for (const e of events) {
    if (e.ph !== "M" && !named.has(e.pid)) problems.push(`pid ${e.pid} has no process_name`);
    if (e.ph !== "M" && (typeof e.ts !== "number" || !(e.ts >= 0))) {
      problems.push(`${e.ph} ${e.name}: bad ts`);
    }
  }
  // Slices nest per track: each starts after the enclosing one and ends within it.
  const tracks = new Map<string, ChromeEvent[]>();
  for (const s of slices) {
    const key = `${s.pid}:${s.tid}`;
    tracks.set(key, [...(tracks.get(key) ?? []), s]);
  }
  for (const [key, list] of tracks) {
    const sorted = [...list].sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const open: number[] = [];
    for (const s of sorted) {
      const end = s.ts! + s.dur!;
      while (open.length > 0 && open[open.length - 1] < s.ts! - EPS) open.pop();
      if (open.length > 0 && end > open[open.length - 1] + EPS) {
        problems.push(`track ${key}: "${s.name}" at ${s.ts} overlaps without nesting`);
      }
      open.push(end);
    }
  }
  // Flows: one start and one finish per id, in time order, each inside a slice of its track.
  const flows = new Map<number, ChromeEvent[]>();
  for (const f of events.filter((e) => e.ph === "s" || e.ph === "t" || e.ph === "f")) {
    flows.set(f.id!, [...(flows.get(f.id!) ?? []), f]);
  }
  for (const [id, list] of flows) {
    const starts = list.filter((f) => f.ph === "s");
    const ends = list.filter((f) => f.ph === "f");
    if (starts.length !== 1 || ends.length !== 1) {
      problems.push(`flow ${id}: ${starts.length} starts, ${ends.length} finishes`);
      continue;
    }
    const times = [starts[0], ...list.filter((f) => f.ph === "t"), ends[0]].map((f) => f.ts!);
    if (times.some((t, i) => i > 0 && t < times[i - 1])) problems.push(`flow ${id} goes back`);
    for (const f of list) {
      // Microseconds with nanosecond fractions: compare to within a thousandth of a nanosecond.
      const inside = (tracks.get(`${f.pid}:${f.tid}`) ?? []).some((s) =>
        s.ts! <= f.ts! + EPS && f.ts! <= s.ts! + s.dur! + EPS
      );
      if (!inside) problems.push(`flow ${id} ${f.ph} at ${f.ts} is in no slice of its track`);
    }
  }
  // Async slices: every begin has its end, later, on the same track.
  const open = new Map<string, number>();
  for (const e of events) {
    const key = `${e.pid}:${e.cat}:${e.id}`;
    if (e.ph === "b") open.set(key, e.ts!);
    if (e.ph === "e") {
      if (!open.has(key) || open.get(key)! > e.ts!) problems.push(`async ${key} ends unopened`);
      open.delete(key);
    }
  }
  for (const key of open.keys()) problems.push(`async ${key} never ends`);
  return problems;
}

Deno.test("--trace: a boot's timeline is a sound Chrome trace", async () => {
  await withTempDir("nexus-trace-", async (dir) => {
    await mkfsImage(`${dir}/a.img`, { recipe: SMALL_GPT }); // the timeline's shape needs no 64 MiB
    const { chrome: a, seq } = await traceBoot(`${dir}/a.img`);
    // Byte-identity for the same seed is checked on the CLI's trace (boot_cli_test).
    const doc = JSON.parse(a) as { traceEvents: ChromeEvent[] };
    const events = doc.traceEvents;
    assertEquals(chromeTraceProblems(events), []);
    const names = new Set(
      events.filter((e) => e.name === "process_name").map((e) => e.args!.name as string),
    );
    for (
      const svc of ["init", "statefsd", "keystored", "selftest-client", "virtio-blk (window 0)"]
    ) {
      assert(names.has(svc), `a track for ${svc}`);
    }
    const slices = events.filter((e) => e.ph === "X");
    assert(slices.some((e) => /^call statefsd SF op 0x/.test(e.name)), "calls are named");
    assert(slices.some((e) => /^handle SF op 0x/.test(e.name)), "handling is named");
    assert(events.some((e) => e.ph === "b" && e.cat === "virtio" && e.args?.sector !== undefined));
    assert(events.some((e) => e.ph === "e" && e.args?.status === "ok"));
    assert(events.some((e) => e.ph === "i" && e.name === "init: start"));
    assert(events.some((e) => e.ph === "C" && e.name.startsWith("queue ")));
    assert(events.some((e) => e.ph === "C" && e.name === "sectors written"));
    // statefsd records its journal size as it grows, on its own track.
    const sfPid = events.find((e) => e.name === "process_name" && e.args!.name === "statefsd")!.pid;
    const journal = events.filter((e) => e.ph === "C" && e.name === "statefs journal bytes");
    assert(journal.length > 2 && journal.every((e) => e.pid === sfPid), "journal size counter");
    const sizes = journal.map((e) => e.args!.value as number);
    assert(sizes.at(-1)! > sizes[0], `the journal grew: ${sizes.slice(0, 5)}`);
    assert(events.some((e) => e.ph === "C" && e.name === "statefs live keys"));
    // A refused or failed request says so on both of its slices.
    const failed = slices.filter((e) => / status 0x[0-9a-f]{2}$/.test(e.name));
    assert(
      failed.some((e) => e.name.startsWith("call ")) &&
        failed.some((e) => e.name.startsWith("handle ")),
    );
    assert(failed.every((e) => typeof e.args!.status === "number" && e.args!.status !== 0));
    assert(slices.some((e) => e.name.startsWith("call ") && e.args!.status === 0), "OK replies");
    // The same boot as a sequence diagram: bounded, filtered, replies dashed.
    const mmd = seq.render({ limit: 6, only: ["selftest-client", "statefsd"] });
    const lines = mmd.trimEnd().split("\n");
    assertEquals(lines[0], "sequenceDiagram");
    const arrows = lines.filter((l) => /->>|-->>|--x/.test(l));
    assertEquals(arrows.length, 6);
    assert(
      arrows.every((l) =>
        /^ {2}(selftest_client|statefsd)(-{1,2}>>|--x)(selftest_client|statefsd): /.test(l)
      ),
    );
    assert(arrows.some((l) => l.includes("-->>") && l.includes(": reply SF op 0x8")));
    // The first GET of a fresh store finds nothing: a failed reply, drawn with its status.
    assert(arrows.some((l) => /--x\w+: reply SF op 0x82 status 0x01$/.test(l)), mmd);
    assertMatch(lines.at(-1)!, /^ {2}Note over \w+: \d+ more messages not drawn \(limit 6\)$/);
  });
});

Deno.test("the trace checker finds broken traces", () => {
  const meta: ChromeEvent = { name: "process_name", ph: "M", pid: 1, args: { name: "a" } };
  const slice = (ts: number, dur: number): ChromeEvent => ({
    name: "x",
    ph: "X",
    ts,
    dur,
    pid: 1,
    tid: 1,
  });
  assertEquals(chromeTraceProblems([meta, slice(0, 10), slice(2, 3)]), []);
  assert(chromeTraceProblems([meta, slice(0, 10), slice(5, 10)]).length > 0, "overlap");
  assert(
    chromeTraceProblems([meta, slice(0, 10), { name: "f", ph: "s", id: 1, ts: 1, pid: 1, tid: 1 }])
      .length > 0,
    "a flow without its finish",
  );
  assert(
    chromeTraceProblems([meta, { name: "v", cat: "virtio", ph: "b", id: 3, ts: 1, pid: 1 }])
      .length > 0,
    "an async slice that never ends",
  );
});

Deno.test("sequence labels are escaped so no text can break the diagram", () => {
  assertEquals(mermaidText('a;b:c#d<e>"f"\ng'), "a#59;b#58;c#35;d#60;e#62;#34;f#34;#10;g");
});
