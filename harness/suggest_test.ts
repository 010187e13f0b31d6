import { assertEquals } from "../tests/assert.ts";
import { closest, editDistance } from "./suggest.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(editDistance("mmio", "mmio"), 0);
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("mmoi", "mmio"), 1, "a swap of neighbours is one edit");
});

Deno.test("closest suggests near misses only", () => {
  const phases = ["bring-up", "routing", "ota", "policy", "mmio", "end"];
  assertEquals(closest("mmoi", phases), "mmio");
  assertEquals(closest("bringup", phases), "bring-up");
  assertEquals(closest("persistence", phases), undefined);
});
