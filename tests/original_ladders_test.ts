/**
 * The original OS's ladders shipped in images/ladders/ judged the way the original harness judges
 * a console. A small model of that harness's rules (presence by substring, the first missing
 * marker attributed to the first phase whose end marker follows it, strict first-occurrence order
 * for init's and the kernel's markers, `--phase` cutting at an end marker) is checked against the
 * judge on transcripts of each sequence with every single marker left out, and on swapped lines.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { HarnessError } from "../harness/errors.ts";
import { Judge } from "../harness/judge.ts";
import {
  type Ladder,
  ladderNames,
  loadNamedLadder,
  type Requirement,
  selectRequirement,
} from "../harness/ladder.ts";
import type { Verdict } from "../harness/verdict.ts";

const ORIGINALS = ladderNames().filter((n) => n.startsWith("original-"));

/** The sequence a ladder holds, in order (every entry of a sequence ladder is one fixed marker). */
function sequenceOf(l: Ladder): string[] {
  return l.entries.map((e) => e.markers[0]);
}

type Outcome =
  | { pass: true }
  | { pass: false; missing: string; phase: string }
  | { pass: false; order: string };

/** The original harness's verdict on `lines`, from its rules (not from the judge's code). */
function originalHarness(l: Ladder, lines: string[], phase?: string): Outcome {
  let seq = sequenceOf(l);
  const ends = l.phaseEnds!;
  if (phase !== undefined) seq = seq.slice(0, seq.indexOf(ends[phase].marker) + 1);
  const firstLine = (m: string) => lines.findIndex((line) => line.includes(m));
  for (let k = 0; k < seq.length; k++) {
    if (firstLine(seq[k]) >= 0) continue;
    const owner = l.phases.find((p) => {
      const end = ends[p] === undefined ? -1 : seq.indexOf(ends[p].marker);
      return end >= 0 && k <= end;
    });
    return { pass: false, missing: seq[k], phase: owner ?? "unknown" };
  }
  let prev = -1;
  for (const m of seq) {
    const ordered = m === "init: start" || m === "init: ready" || m.startsWith("init: start ") ||
      m.startsWith("init: up ") || m.startsWith("KSELFTEST:");
    if (!ordered) continue;
    const line = firstLine(m);
    if (prev !== -1 && line <= prev) return { pass: false, order: m };
    prev = line;
  }
  return { pass: true };
}

const requirements = new Map<string, Requirement>();

function judge(l: Ladder, lines: string[], phase?: string): Verdict {
  const key = `${l.source} ${phase}`;
  if (!requirements.has(key)) requirements.set(key, selectRequirement(l, { phase }));
  const j = new Judge(requirements.get(key)!);
  for (const line of lines) j.feed(line);
  return j.verdict({ reason: "eof", wallMs: 0 });
}

function agree(l: Ladder, lines: string[], phase?: string): void {
  const want = originalHarness(l, lines, phase);
  const got = judge(l, lines, phase);
  const what = `${l.source} phase ${phase ?? "all"}`;
  if (want.pass) {
    assertEquals(got.status, "PASS", `${what}: ${JSON.stringify(got.firstMissing)}`);
  } else if ("missing" in want) {
    assertEquals(got.status, "FAIL", what);
    assertEquals(got.firstMissing, { marker: want.missing, phase: want.phase }, what);
  } else {
    assertEquals(got.status, "FAIL", what);
    assertEquals(got.firstMissing, null, what);
    assert(got.orderViolations.length > 0, `${what}: an order violation`);
  }
}

Deno.test("the three original ladders are shipped and selectable by name", () => {
  assertEquals(ORIGINALS, [
    "original-2026-02-03",
    "original-2026-02-06",
    "original-2026-08-18-full",
  ]);
});

for (const name of ORIGINALS) {
  Deno.test(`${name}: a transcript of exactly its sequence passes, with every phase cut`, async () => {
    const l = await loadNamedLadder(name);
    const seq = sequenceOf(l);
    const v = judge(l, seq);
    assertEquals(v.status, "PASS");
    assertEquals(v.markers, { expected: seq.length, seen: seq.length });
    for (const p of l.phases) {
      if (l.phaseEnds![p]?.index === undefined) continue;
      assertEquals(judge(l, seq, p).status, "PASS", p);
    }
  });

  Deno.test(`${name}: leaving out any one marker fails naming the marker and phase the original would`, async () => {
    const l = await loadNamedLadder(name);
    const seq = sequenceOf(l);
    const phases = [undefined, ...l.phases.filter((p) => l.phaseEnds![p]?.index !== undefined)];
    for (let k = 0; k < seq.length; k++) {
      const lines = seq.filter((_, i) => i !== k);
      // The whole sequence, and one phase cut in turn (every cut is met many times over).
      agree(l, lines);
      agree(l, lines, phases[1 + k % (phases.length - 1)]);
    }
  });

  Deno.test(`${name}: order is checked only for init's and the kernel's markers, strictly`, async () => {
    const l = await loadNamedLadder(name);
    const seq = sequenceOf(l);
    // Swapping each pair of neighbours: an ordered pair fails, any other pair passes.
    for (let k = 0; k + 1 < seq.length; k++) {
      const lines = [...seq];
      [lines[k], lines[k + 1]] = [lines[k + 1], lines[k]];
      agree(l, lines);
    }
    // Two ordered markers on one line are not in order.
    const at = seq.indexOf("init: ready");
    const joined = [...seq.slice(0, at - 1), `${seq[at - 1]} ${seq[at]}`, ...seq.slice(at + 1)];
    agree(l, joined);
    assertEquals(judge(l, joined).status, "FAIL");
  });
}

Deno.test("original ladders: the kernel banner is the start; a log without it never started", async () => {
  const l = await loadNamedLadder("original-2026-02-03");
  const v = judge(l, ["OpenSBI v1.3", "boot hart 0"]);
  assertEquals(v.status, "FAIL");
  assertEquals(v.start, { marker: "neuron vers.", seen: false });
  assertEquals(v.firstMissing, { marker: "neuron vers.", phase: "bring-up" });
});

Deno.test("original ladders: a phase whose end marker the sequence lacks is refused", async () => {
  const l = await loadNamedLadder("original-2026-08-18-full");
  for (const p of ["input-startup", "end"]) {
    const err = assertThrows(() => selectRequirement(l, { phase: p }), HarnessError);
    assertEquals(err.code, "UNKNOWN_PHASE");
  }
  // Markers past the last end marker the sequence holds belong to no phase.
  const seq = sequenceOf(l);
  const v = judge(l, seq.slice(0, -1));
  assertEquals(v.firstMissing, { marker: seq.at(-1)!, phase: "unknown" });
});

Deno.test("original ladders: the phase cut attributes a missing marker within the cut", async () => {
  const l = await loadNamedLadder("original-2026-02-03");
  const seq = sequenceOf(l);
  const lines = seq.filter((m) => m !== "SELFTEST: ota stage ok");
  // The whole sequence: mmio's end marker comes later, so mmio owns it; cut at ota: ota does.
  assertEquals(judge(l, lines).firstMissing, { marker: "SELFTEST: ota stage ok", phase: "mmio" });
  assertEquals(judge(l, lines, "ota").firstMissing, {
    marker: "SELFTEST: ota stage ok",
    phase: "ota",
  });
});
