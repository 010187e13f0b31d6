import { assertEquals, assertThrows } from "../tests/assert.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { HarnessError } from "./errors.ts";

Deno.test("parseDuration reads the forms users type", () => {
  assertEquals(parseDuration("90s"), 90_000);
  assertEquals(parseDuration("2m"), 120_000);
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("1h"), 3_600_000);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration("120"), 120_000, "a bare number is seconds");
  assertEquals(parseDuration(" 3s "), 3000);
});

Deno.test("parseDuration refuses garbage, negative and zero durations with BAD_DURATION", () => {
  for (const bad of ["", "abc", "10x", "-5s", "5 minutes", "0", "0ms", "s"]) {
    const err = assertThrows(() => parseDuration(bad, "--timeout"), HarnessError);
    assertEquals(err.code, "BAD_DURATION", bad);
    assertEquals(err.message.includes("--timeout"), true);
  }
});

Deno.test("formatDuration round-trips through parseDuration", () => {
  for (const ms of [250, 1000, 1500, 90_000, 120_000]) {
    assertEquals(parseDuration(formatDuration(ms)), ms);
  }
  assertEquals(formatDuration(120_000), "2m");
  assertEquals(formatDuration(90_000), "90s");
});
