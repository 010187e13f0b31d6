import { assertEquals, assertThrows } from "../tests/assert.ts";
import { applyShard, countSeeds, parseSeeds, parseShard, SelectError } from "./select.ts";

Deno.test("seeds: ranges, single seeds and lists, in order without repeats", () => {
  assertEquals(parseSeeds("1..5"), [1, 2, 3, 4, 5]);
  assertEquals(parseSeeds("7"), [7]);
  assertEquals(parseSeeds("3..4,1,3"), [3, 4, 1]);
  assertEquals(countSeeds(10, 3), [10, 11, 12]);
});

Deno.test("seeds: empty, reversed, non-numeric and out-of-range selections are refused", () => {
  for (const bad of ["", "5..1", "a..b", "1..", "-1", "4294967296", "1...3"]) {
    assertThrows(() => parseSeeds(bad), SelectError);
  }
  assertThrows(() => countSeeds(1, 0), SelectError);
  assertThrows(() => countSeeds(0xffffffff, 2), SelectError);
});

Deno.test("shards are disjoint, cover the campaign, and keep case order", () => {
  const cases = parseSeeds("1..103");
  const parts = [0, 1, 2, 3].map((i) => applyShard(cases, parseShard(`${i}/4`)));
  assertEquals(parts.flat().sort((a, b) => a - b), cases);
  assertEquals(new Set(parts.flat()).size, cases.length);
  assertEquals(parts[1].slice(0, 3), [2, 6, 10]);
  assertEquals(applyShard(cases, parseShard("0/1")), cases);
});

Deno.test("shard: i must be below n, both integers", () => {
  for (const bad of ["4/4", "1/0", "a/2", "1", "-1/2", "1/2/3"]) {
    assertThrows(() => parseShard(bad), SelectError);
  }
});
