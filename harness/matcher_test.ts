import fc from "fast-check";
import { assertEquals } from "../tests/assert.ts";
import { FixedMatcher } from "./matcher.ts";

/** Which patterns `text` contains, the obvious way. */
function naive(patterns: string[], text: string): number[] {
  return patterns.flatMap((p, id) => (text.includes(p) ? [id] : []));
}

function found(m: FixedMatcher, text: string): number[] {
  const hits: number[] = [];
  m.scan(text, hits);
  return [...new Set(hits)].sort((a, b) => a - b);
}

Deno.test("the matcher finds overlapping, nested and repeated patterns", () => {
  const patterns = ["he", "she", "his", "hers", "init: start", "init: start a", "a"];
  const m = new FixedMatcher(patterns);
  for (const text of ["ushers", "init: start a", "init: star", "", "hishe", "xyz"]) {
    assertEquals(found(m, text), naive(patterns, text), text);
  }
});

Deno.test("non-ASCII characters share a class and are confirmed", () => {
  const patterns = ["café ok", "naïve", "ok"];
  const m = new FixedMatcher(patterns);
  assertEquals(found(m, "café ok"), [0, 2]);
  // Same ASCII skeleton, other non-ASCII characters: not a match.
  assertEquals(found(m, "cafè ok"), [2]);
  assertEquals(found(m, "na\u00efve"), [1]);
  assertEquals(found(m, "na\u{1f600}ve"), []);
});

Deno.test("property: the matcher agrees with includes on every pattern", () => {
  const alphabet = fc.constantFrom("a", "b", "c", ":", " ", "é", "\u{1f600}", "\x00");
  const word = fc.array(alphabet, { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
  const line = fc.array(alphabet, { maxLength: 40 }).map((a) => a.join(""));
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 12 }), fc.array(line), (ps, lines) => {
      const m = new FixedMatcher(ps);
      for (const l of lines) assertEquals(found(m, l), naive(ps, l));
    }),
    { numRuns: 300 },
  );
});

/**
 * Where {@link FixedMatcher.passQuiet} must stop, the obvious way: at the first line with a
 * non-ASCII byte or a pattern in it, non-ASCII characters of a pattern standing for DEL or any
 * of them (they share one class; the scan of the decoded line confirms).
 */
function naivePass(patterns: string[], text: string): { at: number; lines: number } {
  const fold = (s: string) => s.replace(/[\x7f-\uffff]/g, "\x7f");
  const folded = patterns.map(fold);
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  let lines = 0;
  for (const line of text.split("\n").slice(0, -1)) {
    const size = new TextEncoder().encode(line).length;
    const nonAscii = bytes.subarray(at, at + size).some((b) => b >= 0x80);
    if (nonAscii || folded.some((p) => line.includes(p))) break;
    at += size + 1;
    lines++;
  }
  return { at, lines };
}

Deno.test("property: passQuiet passes exactly the lines before the first one that may match", () => {
  const alphabet = fc.constantFrom("a", "b", "c", ":", " ", "\n", "\r", "é", "\x7f", "\x00");
  const word = fc.array(alphabet, { minLength: 1, maxLength: 5 }).map((a) => a.join(""));
  const text = fc.array(alphabet, { maxLength: 60 }).map((a) => a.join(""));
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), text, (ps, t) => {
      // The pass takes whole lines: the bytes end just past a newline.
      const body = t.slice(0, t.lastIndexOf("\n") + 1);
      const m = new FixedMatcher(ps);
      const bytes = new TextEncoder().encode(body);
      const at = m.passQuiet(bytes, 0, bytes.length);
      assertEquals({ at, lines: m.passedLines }, naivePass(ps, body));
    }),
    { numRuns: 500 },
  );
});
