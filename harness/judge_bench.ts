/**
 * Judging throughput: a long console (the default ladder's markers among noise lines, as a chatty
 * real boot prints them) fed line by line, plus the renderings of a failed verdict.
 */
import { Judge } from "./judge.ts";
import { renderJunit } from "./junit.ts";
import { defaultLadderPath, loadLadder, selectRequirement } from "./ladder.ts";
import { renderJson, renderText } from "./verdict.ts";

const ladder = await loadLadder(defaultLadderPath());
const markers = ladder.entries.map((e) => e.markers[0]);
const NOISE = 100_000;
const step = Math.floor(NOISE / markers.length);
const lines: string[] = [];
for (let i = 0; i < NOISE; i++) {
  lines.push(`statefsd: put /state/bench/${i % 997} gen=${i >> 10} (${i} bytes journaled)`);
  // Markers spread evenly, so most of the run has most entries still pending.
  if (i % step === 0 && i / step < markers.length) lines.push(markers[i / step]);
}

Deno.bench("judge 100k console lines against the default ladder", { group: "judge" }, () => {
  const j = new Judge(selectRequirement(ladder));
  for (const l of lines) j.feed(l);
  j.verdict({ reason: "eof", wallMs: 0 });
});

const failed = (() => {
  const j = new Judge(selectRequirement(ladder));
  for (const l of lines.slice(0, 50_000)) j.feed(l);
  j.feed("SELFTEST: ota switch FAIL (no route)");
  return j.verdict({ reason: "eof", wallMs: 0 });
})();

Deno.bench("render a failed verdict as text", { group: "render" }, () => {
  renderText(failed);
});
Deno.bench("render a failed verdict as JSON", { group: "render" }, () => {
  renderJson(failed);
});
Deno.bench("render a failed verdict as JUnit XML", { group: "render" }, () => {
  renderJunit(failed);
});
