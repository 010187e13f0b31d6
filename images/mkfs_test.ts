import { assert, assertEquals, assertMatch, assertRejects } from "../tests/assert.ts";
import { fileDigest, readRange, withTempDir } from "../tests/helpers.ts";
import { FileBlockDevice, StateFs } from "../core/statefs/mod.ts";
import { readGpt, SECTOR_SIZE } from "../core/statefs/gpt.ts";
import { ImageError } from "./image.ts";
import { mkfsImage } from "./mkfs.ts";
import { defaultRecipe, parseRecipe, planImage, RecipeError } from "./recipe.ts";

const MiB = 1024 * 1024;

Deno.test("mkfs builds a sparse 64 MiB GPT image with an empty generation-1 StateFS", async () => {
  await withTempDir("nexus-mkfs-", async (dir) => {
    const path = `${dir}/blk.img`;
    const r = await mkfsImage(path);
    const st = await Deno.stat(path);
    assertEquals(st.size, 64 * MiB);
    assert(st.blocks !== null && st.blocks * 512 < 4 * MiB, `sparse: ${st.blocks} blocks`);
    assertEquals(r.table, await planImage(await defaultRecipe()));
    assertEquals(r.partition!.name, "nexus-state");
    assertEquals(r.stats.generation, 1);
    assertEquals(r.stats.liveKeys, 0);

    const gpt = await readGpt(
      (lba, count) => readRange(path, lba * SECTOR_SIZE, count * SECTOR_SIZE),
      st.size / SECTOR_SIZE,
    );
    assertEquals(gpt.problems, []);
    assertEquals(gpt.table, r.table);

    const dev = await FileBlockDevice.open(path, {
      offsetBytes: r.partition!.firstLba * SECTOR_SIZE,
      lengthBytes: (r.partition!.lastLba - r.partition!.firstLba + 1) * SECTOR_SIZE,
      readOnly: true,
    });
    try {
      const fs = await StateFs.open(dev);
      const s = fs.stats();
      assertEquals([s.layout, s.generation, s.activeRegion, s.liveKeys], ["nxs2", 1, "A", 0]);
      assertEquals(await fs.list("/state/", 10), []);
    } finally {
      dev.close();
    }
    for (const p of r.table!.partitions.filter((p) => p.name !== "nexus-state")) {
      const head = await readRange(path, p.firstLba * SECTOR_SIZE, 64 * 1024);
      assert(head.every((b) => b === 0), `${p.name} is left zeroed`);
    }
  });
});

Deno.test("mkfs is deterministic: the same recipe gives a byte-identical image", async () => {
  await withTempDir("nexus-mkfs-", async (dir) => {
    await mkfsImage(`${dir}/a.img`);
    await mkfsImage(`${dir}/b.img`);
    assertEquals(await fileDigest(`${dir}/a.img`), await fileDigest(`${dir}/b.img`));
    await mkfsImage(`${dir}/c.img`, { sizeBytes: 48 * MiB });
    assert(await fileDigest(`${dir}/c.img`) !== await fileDigest(`${dir}/a.img`));
  });
});

Deno.test("mkfs refuses an existing file without force and replaces it with force", async () => {
  await withTempDir("nexus-mkfs-", async (dir) => {
    const path = `${dir}/blk.img`;
    await Deno.writeTextFile(path, "precious");
    const err = await assertRejects(() => mkfsImage(path), ImageError);
    assertEquals(err.code, "EXISTS");
    assertMatch(err.message, /already exists \(use --force to overwrite\)/);
    assertEquals(await Deno.readTextFile(path), "precious");

    await mkfsImage(path, { sizeBytes: 40 * MiB, force: true });
    const junk = new Uint8Array(SECTOR_SIZE).fill(0xaa);
    const f = await Deno.open(path, { write: true });
    await f.seek(40 * MiB - 64 * SECTOR_SIZE, Deno.SeekMode.Start);
    await f.write(junk);
    f.close();
    await mkfsImage(path, { force: true });
    const ref = `${dir}/ref.img`;
    await mkfsImage(ref);
    assertEquals(
      await fileDigest(path),
      await fileDigest(ref),
      "forced rebuild leaves no old bytes",
    );
  });
});

Deno.test("mkfs checks everything before touching the disk", async () => {
  await withTempDir("nexus-mkfs-", async (dir) => {
    await Deno.mkdir(`${dir}/d.img`);
    const e1 = await assertRejects(() => mkfsImage(`${dir}/d.img`, { force: true }), ImageError);
    assertEquals(e1.code, "NOT_A_FILE");

    const e2 = await assertRejects(
      () => mkfsImage(`${dir}/small.img`, { sizeBytes: 8 * MiB }),
      RecipeError,
    );
    assertEquals(e2.code, "TOO_SMALL");
    await assertRejects(() => Deno.stat(`${dir}/small.img`), Deno.errors.NotFound);

    await Deno.writeTextFile(`${dir}/keep.img`, "keep");
    await assertRejects(
      () => mkfsImage(`${dir}/keep.img`, { sizeBytes: 8 * MiB, force: true }),
      RecipeError,
    );
    assertEquals(await Deno.readTextFile(`${dir}/keep.img`), "keep", "untouched on a bad size");
  });
});

Deno.test("mkfs creates missing parent directories and honours a custom recipe", async () => {
  await withTempDir("nexus-mkfs-", async (dir) => {
    const recipe = parseRecipe(
      'size = "2M"\nalign = "4K"\n[[partition]]\nname = "nexus-state"\nsize = "rest"\n',
      "small",
    );
    const path = `${dir}/build/deep/x.img`;
    const r = await mkfsImage(path, { recipe });
    assertEquals((await Deno.stat(path)).size, 2 * MiB);
    assertEquals(r.table!.partitions.length, 1);
    assertEquals(r.partition!.firstLba, 40);
    assertEquals(r.stats.generation, 1);
  });
});
