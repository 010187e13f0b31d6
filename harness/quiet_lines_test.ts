/**
 * A log read in bulk while nothing reads its lines (no echo, no uart.log, no progress line) is
 * judged exactly as a log handed over line by line: same verdict, excerpts, line numbers and
 * failure lines, however the bytes are chunked, with CRLF, non-ASCII text, byte-order marks and
 * runaway lines.
 */
import fc from "fast-check";
import { assertEquals } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { arraySource, type LineSource, runLive, streamSource } from "./live.ts";
import { MAX_LINE_CHARS, splitLines } from "./lines.ts";
import type { Verdict } from "./verdict.ts";

const LADDER = parseLadder(
  `ladder = [
  { phase = "bring-up", marker = "init: start", ordered = true },
  { phase = "bring-up", marker = "init: ready", ordered = true },
  { phase = "ota", marker = "SELFTEST: ota ok" },
  { phase = "ota", marker = "SELFTEST: héllo ok" },
  { phase = "end", marker = "the end" },
]`,
  "t",
);

/** Byte chunks of `bytes`, cut at `cuts` (offsets, any order). */
function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) parts.push(bytes.slice(from, c));
    from = Math.max(from, c);
  }
  return new ReadableStream({
    pull(ctl) {
      const p = parts.shift();
      if (p === undefined) ctl.close();
      else ctl.enqueue(p);
    },
  });
}

/** The stream read as before the bulk path: through the plain splitter, line by line. */
function plainSource(stream: ReadableStream<Uint8Array>): LineSource {
  const read = streamSource(stream);
  return (sink) =>
    read({
      onLine: sink.onLine,
      shouldStop: sink.shouldStop,
      wantsTail: sink.wantsTail,
      signal: sink.signal,
    });
}

async function judged(
  source: LineSource,
  untilMarker: string | true | undefined,
  teeIdle: boolean,
): Promise<{ verdict: Verdict; teed: string[] }> {
  const teed: string[] = [];
  const verdict = await runLive(source, new Judge(selectRequirement(LADDER, { untilMarker })), {
    timeoutMs: 1e9,
    clock: () => 0,
    teeIdle,
    ...(teeIdle ? {} : { tee: (t: string) => void teed.push(t) }),
  });
  return { verdict, teed };
}

const piece = fc.oneof(
  fc.constantFrom(
    "init: start",
    "init: ready",
    "SELFTEST: ota ok",
    "SELFTEST: héllo ok",
    "the end",
    "x FAIL y",
    "panic",
    "\r",
    "\n",
    "\r\n",
    "\n\n",
    "é",
    "\u{1F600}",
    "\uFEFF",
    "\x00",
    "\x7f",
    "noise ",
  ),
  fc.string({ maxLength: 12 }),
);

Deno.test("a log judged in bulk gives the verdict of the same log judged line by line", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(piece, { maxLength: 120 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.constantFrom<string | true | undefined>(undefined, true, "init: ready"),
      fc.boolean(),
      async (pieces, cuts, until, bom) => {
        const text = (bom ? "\uFEFF" : "") + pieces.join("");
        const bytes = new TextEncoder().encode(text);
        const bulk = await judged(streamSource(chunked(bytes, cuts)), until, true);
        const each = await judged(streamSource(chunked(bytes, cuts)), until, false);
        const plain = await judged(plainSource(chunked(bytes, cuts)), until, false);
        // The lines themselves: the plain splitter's (it drops a BOM starting the text).
        const lines = splitLines(text);
        assertEquals(plain.teed, lines.slice(0, plain.teed.length));
        const ref = await judged(arraySource(lines), until, false);
        assertEquals(plain.verdict, ref.verdict);
        assertEquals(bulk.verdict, ref.verdict);
        assertEquals(each.verdict, ref.verdict);
        assertEquals(each.teed, plain.teed, "every line reaches the tee when it is not idle");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("bulk reading keeps the excerpt's last lines and cuts runaway lines as before", async () => {
  const noise = Array.from({ length: 5000 }, (_, i) => `noise line ${i}`);
  const runaway = "r".repeat(MAX_LINE_CHARS * 2 + 7);
  const cases = [
    [...noise, "init: start", ...noise, "x FAIL", ...noise].join("\n"),
    [...noise, runaway, "init: start", ...noise].join("\r\n") + "\r\n",
    [...noise, "init: start", ...noise.slice(0, 3)].join("\n"),
    // An empty line starting a chunk (a cut below falls just before it), in a failure's excerpt.
    "a\n".repeat(1 << 15) + "\nx FAIL\n" + "b\n".repeat(50),
  ];
  for (const text of cases) {
    const bytes = new TextEncoder().encode(text);
    const cuts = [1 << 16, 3 << 16, 5 << 16];
    const bulk = await judged(streamSource(chunked(bytes, cuts)), true, true);
    const plain = await judged(plainSource(chunked(bytes, cuts)), true, false);
    assertEquals(bulk.verdict, plain.verdict);
  }
});
