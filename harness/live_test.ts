import { assert, assertEquals } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { arraySource, CLOCK_EVERY, type LineSource, runLive, streamSource } from "./live.ts";

const LADDER = parseLadder(
  `ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", marker = "init: ready", ordered = true },
  { phase = "end", marker = "the end" },
]`,
  "t",
);

function judge(untilMarker?: string | true) {
  return new Judge(selectRequirement(LADDER, { untilMarker }));
}

function stream(text: string): ReadableStream<Uint8Array> {
  return new Blob([text]).stream();
}

/** A stream that never delivers anything and never ends, until cancelled. */
function silentStream(): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  return {
    stream: new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    }),
    cancelled: () => cancelled,
  };
}

Deno.test("runLive passes every line to the tee, judges them, and keeps the source's end", async () => {
  const teed: string[] = [];
  const v = await runLive(
    arraySource([["init: start", 10], ["init: ready", 20], ["the end", 30]]),
    judge(),
    { timeoutMs: 10_000, tee: (l, t) => teed.push(`${t}:${l}`) },
  );
  assertEquals(v.status, "PASS");
  assertEquals(v.end, "eof");
  assertEquals(v.virtualNs, 30);
  assertEquals(teed, ["10:init: start", "20:init: ready", "30:the end"]);
});

Deno.test("the source is asked to stop once the judge is satisfied", async () => {
  const seen: string[] = [];
  const v = await runLive(
    arraySource(["init: start", "init: ready", "the end", "after"]),
    judge(true),
    {
      timeoutMs: 10_000,
      tee: (l) => seen.push(l),
    },
  );
  assertEquals(v.end, "complete");
  assertEquals(seen, ["init: start", "init: ready", "the end"]);
});

Deno.test("a source that hogs the event loop is still cut at the timeout through shouldStop", async () => {
  let now = 0;
  let steps = 0;
  const busy: LineSource = (sink) => {
    // Synchronous, like a simulator step loop: timers cannot fire meanwhile.
    while (!sink.shouldStop()) {
      steps++;
      now += 10;
      if (steps === 3) sink.onLine("init: start", steps);
    }
    return Promise.resolve({ reason: "stopped", virtualNs: steps });
  };
  const v = await runLive(busy, judge(), { timeoutMs: 1000, clock: () => now });
  assertEquals(v.end, "timeout");
  assertEquals(v.endDetail, "timeout after 1s");
  assertEquals(v.status, "FAIL");
  // The clock is read every CLOCK_EVERY polls: the cut comes at the first read past the limit.
  assertEquals(steps, CLOCK_EVERY - 1);
  assertEquals(v.virtualNs, CLOCK_EVERY - 1);
});

Deno.test("a blocked stream is woken and cancelled at the timeout", async () => {
  const s = silentStream();
  const v = await runLive(streamSource(s.stream), judge(), { timeoutMs: 50 });
  assertEquals(v.end, "timeout");
  assert(s.cancelled(), "the stream was cancelled");
});

Deno.test("an interrupt cuts the run and fails it", async () => {
  const s = silentStream();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  const v = await runLive(streamSource(s.stream), judge(), {
    timeoutMs: 10_000,
    interrupt: ac.signal,
  });
  assertEquals(v.end, "interrupted");
  assertEquals(v.status, "FAIL");
});

Deno.test("streamSource reads a log to its end, or stops after the failure tail", async () => {
  let v = await runLive(streamSource(stream("init: start\r\ninit: ready\nthe end")), judge(), {
    timeoutMs: 10_000,
  });
  assertEquals(v.status, "PASS");
  assertEquals(v.lines, 3);
  v = await runLive(
    streamSource(stream("init: start\nx FAIL\n" + "tail\n".repeat(100) + "init: ready\n")),
    judge(),
    { timeoutMs: 10_000 },
  );
  assertEquals(v.end, "failure");
  assertEquals(v.lines, 2 + 40, "the failure line and its bounded tail");
});
