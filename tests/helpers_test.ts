/** The test helpers that stand in for whole-file comparisons must see every byte. */
import { assertEquals, assertNotEquals } from "./assert.ts";
import { fileDigest, patchFile, readRange, withTempDir } from "./helpers.ts";

Deno.test("fileDigest: equal bytes, equal digests; one changed byte or length anywhere, another", async () => {
  await withTempDir("nexus-helpers-", async (dir) => {
    const a = `${dir}/a`;
    const b = `${dir}/b`;
    const size = 3 * 1024 * 1024 + 700; // chunks of 1 MiB and a short last one
    await Deno.writeFile(a, new Uint8Array(size).map((_, i) => i * 7));
    await Deno.copyFile(a, b);
    const base = await fileDigest(a);
    assertEquals(await fileDigest(b), base);
    for (const at of [0, 1024 * 1024 - 1, 1024 * 1024, 2 * 1024 * 1024 + 5, size - 1]) {
      const [old] = await readRange(b, at, 1);
      await patchFile(b, at, [old ^ 1]);
      assertNotEquals(await fileDigest(b), base, `byte ${at}`);
      await patchFile(b, at, [old]);
      assertEquals(await fileDigest(b), base, `byte ${at} restored`);
    }
    for (const len of [0, 1024 * 1024, size - 1]) {
      await Deno.copyFile(a, b);
      await Deno.truncate(b, len);
      assertNotEquals(await fileDigest(b), base, `cut to ${len}`);
    }
    await Deno.copyFile(a, b);
    await Deno.truncate(b, size + 512); // zeros appended
    assertNotEquals(await fileDigest(b), base, "grown with zeros");
  });
});

Deno.test("readRange: the bytes at an offset, fewer at the end of the file", async () => {
  await withTempDir("nexus-helpers-", async (dir) => {
    const p = `${dir}/f`;
    await Deno.writeFile(p, new Uint8Array([1, 2, 3, 4, 5]));
    assertEquals(await readRange(p, 1, 3), new Uint8Array([2, 3, 4]));
    assertEquals(await readRange(p, 3, 10), new Uint8Array([4, 5]));
    assertEquals(await readRange(p, 9, 2), new Uint8Array(0));
  });
});
