import { assertEquals } from "../tests/assert.ts";
import { didYouMean } from "./usage.ts";

Deno.test("suggestions read as typed: flags in kebab case, commands without backticks", () => {
  assertEquals(didYouMean(["keepImage"], "--"), " (Did you mean --keep-image?)");
  assertEquals(didYouMean(["`image`", "`inspect`"]), " (Did you mean image or inspect?)");
  assertEquals(didYouMean([]), "");
});
