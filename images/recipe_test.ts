import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../tests/assert.ts";
import { LINUX_DATA_TYPE_GUID, STATEFS_TYPE_GUID } from "../core/statefs/gpt.ts";
import {
  defaultRecipe,
  formatSize,
  parseRecipe,
  parseSize,
  planImage,
  RecipeError,
  STATEFS_PARTITION,
} from "./recipe.ts";

const MiB = 1024 * 1024;

Deno.test("parseSize accepts bytes and binary units", () => {
  assertEquals(parseSize("64M"), 64 * MiB);
  assertEquals(parseSize("64MiB"), 64 * MiB);
  assertEquals(parseSize("64m"), 64 * MiB);
  assertEquals(parseSize(" 1G "), 1024 * MiB);
  assertEquals(parseSize("512K"), 512 * 1024);
  assertEquals(parseSize("1KiB"), 1024);
  assertEquals(parseSize("67108864"), 64 * MiB);
  assertEquals(parseSize(512), 512);
  assertEquals(parseSize("1T"), 2 ** 40);
});

Deno.test("parseSize rejects bad size strings with BAD_SIZE", () => {
  for (
    const bad of ["", "12X", "-1", "0", "1.5M", "64MB", "1e6", "M", "64 M B", "2T", "1000", "100K1"]
  ) {
    const err = assertThrows(() => parseSize(bad), RecipeError);
    assertEquals(err.code, "BAD_SIZE", bad);
  }
  assertMatch(assertThrows(() => parseSize("1000"), RecipeError).message, /not a multiple of 512/);
  assertMatch(assertThrows(() => parseSize("12X"), RecipeError).message, /bad size "12X"/);
  assertEquals(assertThrows(() => parseSize(true), RecipeError).code, "BAD_SIZE");
  assertEquals(assertThrows(() => parseSize(1.5), RecipeError).code, "BAD_SIZE");
});

Deno.test("formatSize picks the largest unit that divides", () => {
  assertEquals(formatSize(64 * MiB), "64 MiB");
  assertEquals(formatSize(1536), "1536 B");
  assertEquals(formatSize(3 * 1024), "3 KiB");
});

Deno.test("the default recipe lays out a 131072-sector image", async () => {
  const recipe = await defaultRecipe();
  assertEquals(recipe.sizeBytes, 64 * MiB);
  const t = await planImage(recipe);
  assertEquals(t.totalSectors, 131072);
  assertEquals(t.firstUsableLba, 34);
  assertEquals(t.lastUsableLba, 131038);
  assertEquals(
    t.partitions.map((p) => [p.index, p.name, p.firstLba, p.lastLba, p.typeGuid]),
    [
      [1, STATEFS_PARTITION, 2048, 63487, STATEFS_TYPE_GUID],
      [2, "system-a", 63488, 96255, LINUX_DATA_TYPE_GUID],
      [3, "system-b", 96256, 129023, LINUX_DATA_TYPE_GUID],
    ],
  );
  const guids = new Set([t.diskGuid, ...t.partitions.map((p) => p.uniqueGuid)]);
  assertEquals(guids.size, 4, "disk and partition GUIDs are distinct");
});

Deno.test("planning is deterministic and the GUIDs follow the layout", async () => {
  const recipe = await defaultRecipe();
  assertEquals(await planImage(recipe), await planImage(recipe));
  const big = await planImage(recipe, 128 * MiB);
  assert(big.diskGuid !== (await planImage(recipe)).diskGuid);
  // "rest" grows with the image (128 MiB less 1 MiB lead-in, the 1 MiB aligned tail and the
  // two 16 MiB slots); the fixed partitions keep their size.
  assertEquals(big.partitions[0].lastLba - big.partitions[0].firstLba + 1, (94 * MiB) / 512);
  assertEquals(big.partitions[1].lastLba - big.partitions[1].firstLba + 1, (16 * MiB) / 512);
});

Deno.test("an image too small for the recipe fails with TOO_SMALL and names a size that fits", async () => {
  const recipe = await defaultRecipe();
  const err = await assertRejects(() => planImage(recipe, 34 * MiB), RecipeError);
  assertEquals(err.code, "TOO_SMALL");
  assertMatch(
    err.message,
    /too small for recipe default: needs at least \d+ bytes \(35 MiB fits\)/,
  );
  const min = Number(/at least (\d+) bytes/.exec(err.message)![1]);
  await planImage(recipe, 35 * MiB);
  await planImage(recipe, min);
  await assertRejects(() => planImage(recipe, min - 512), RecipeError);
  await assertRejects(() => planImage(recipe, 4096), RecipeError, "too small");
});

Deno.test("recipes without a rest partition and with explicit types", async () => {
  const guid = "E6D6D379-F507-44C2-A23C-238F2A3DF928";
  const r = parseRecipe(
    `size = "4M"\nalign = 4096\n[[partition]]\nname = "nexus-state"\nsize = "1M"\n` +
      `[[partition]]\nname = "blob"\nsize = "512K"\ntype = "${guid.toLowerCase()}"\n`,
    "t.toml",
  );
  assertEquals(r.alignBytes, 4096);
  const t = await planImage(r);
  assertEquals(t.partitions.map((p) => [p.firstLba, p.lastLba, p.typeGuid]), [
    [40, 40 + 2047, STATEFS_TYPE_GUID],
    [2088, 2088 + 1023, guid],
  ]);
});

Deno.test("bad recipes are refused with one clear reason", () => {
  const part = (name: string, size = '"1M"') => `[[partition]]\nname = "${name}"\nsize = ${size}\n`;
  const cases: [string, RegExp][] = [
    ["size = ", /invalid TOML/],
    ['sise = "64M"\n' + part("nexus-state"), /unknown key "sise"/],
    ['size = "64M"\n', /at least one \[\[partition\]\]/],
    ['size = "12X"\n' + part("nexus-state"), /bad size "12X"/],
    [part("system-a"), /needs a partition named "nexus-state"/],
    [part("nexus-state") + part("nexus-state"), /repeats/],
    [part("nexus-state", '"rest"') + part("a", '"rest"'), /at most one partition .* "rest"/],
    [part("nexus-state", '"2Q"'), /bad size of "nexus-state"/],
    [part("nexus-state", '"32K"'), /must be at least 64 KiB/],
    [part("x".repeat(37)) + part("nexus-state"), /at most 36 UTF-16/],
    ['[[partition]]\nname = "nexus-state"\n', /needs a "size"/],
    ['[[partition]]\nsize = "1M"\n', /non-empty string "name"/],
    [part("nexus-state") + 'type = "ntfs"\n', /type "ntfs" is neither/],
    [
      part("nexus-state") + 'type = "00000000-0000-0000-0000-000000000000"\n',
      /non-zero GUID/,
    ],
    [part("nexus-state") + "color = 1\n", /partition 1: unknown key "color"/],
    ["partition = 3\n", /at least one \[\[partition\]\]/],
  ];
  for (const [text, re] of cases) {
    const err = assertThrows(() => parseRecipe(text, "bad.toml"), RecipeError);
    assertMatch(err.message, re, text);
    assertMatch(err.message, /^recipe bad\.toml/);
    assert(!err.message.includes("\n"), "one line");
  }
});
