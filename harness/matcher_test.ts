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
