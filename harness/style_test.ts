import { assertEquals } from "../tests/assert.ts";
import { colorEnabled, painter } from "./style.ts";

Deno.test("colour only on a terminal, and never with a non-empty NO_COLOR", () => {
  assertEquals(colorEnabled(true, undefined), true);
  assertEquals(colorEnabled(true, ""), true);
  assertEquals(colorEnabled(true, "1"), false);
  assertEquals(colorEnabled(false, undefined), false);
  assertEquals(colorEnabled(false, ""), false);
});

Deno.test("a painter styles with ANSI codes when on and leaves text alone when off", () => {
  assertEquals(painter(true)(["bold", "red"], "FAIL"), "\x1b[1m\x1b[31mFAIL\x1b[39m\x1b[22m");
  assertEquals(painter(true)("green", "clean"), "\x1b[32mclean\x1b[39m");
  assertEquals(painter(false)(["bold", "red"], "FAIL"), "FAIL");
});
