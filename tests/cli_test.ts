import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexus } from "./cli_helpers.ts";
import denoJson from "../deno.json" with { type: "json" };

Deno.test("nexus --version prints the version from deno.json", async () => {
  const r = await nexus(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(r.stdout.trim(), denoJson.version);
});

Deno.test("nexus --help lists the command groups", async () => {
  const r = await nexus(["--help"]);
  assertEquals(r.code, 0);
  for (const group of ["image", "slots", "boot", "scan"]) {
    assertMatch(r.stdout, new RegExp(`\\b${group}\\b`));
  }
});

Deno.test("a mistyped command suggests the right one and exits 2", async () => {
  const r = await nexus(["imgae"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /Did you mean image\?/);
  assert(!r.stderr.includes("    at "), "no stack trace");
});
