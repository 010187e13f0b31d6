import { assertEquals } from "../tests/assert.ts";
import { closest, didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance counts a swap of neighbours as one edit", () => {
  assertEquals(editDistance("rngd", "rgnd"), 1);
  assertEquals(editDistance("logd", "logd"), 0);
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("mmoi", "mmio"), 1);
});

Deno.test("closest suggests only likely typos, ties to the first candidate", () => {
  assertEquals(closest("modul", ["name", "module", "slots"]), "module");
  assertEquals(closest("zzz", ["name", "module"]), undefined);
  assertEquals(closest("ab", ["ac", "ad"]), "ac");
  assertEquals(closest("same", ["same"]), undefined, "the word itself is no suggestion");
  assertEquals(didYouMean("endpont", ["endpoint"]), ' (did you mean "endpoint"?)');
  assertEquals(didYouMean("x", []), "");
});

Deno.test("closest suggests ladder phases for near misses only", () => {
  const phases = ["bring-up", "routing", "ota", "policy", "mmio", "end"];
  assertEquals(closest("mmoi", phases), "mmio");
  assertEquals(closest("bringup", phases), "bring-up");
  assertEquals(closest("persistence", phases), undefined);
});
