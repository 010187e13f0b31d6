import { assert, assertEquals, assertMatch, assertRejects } from "../tests/assert.ts";
import { fileDigest, patchFile, withTempDir } from "../tests/helpers.ts";
import { encodeGpt, readGpt, SECTOR_SIZE } from "../core/statefs/gpt.ts";
import { ImageError, probeImage } from "./image.ts";
import { mkfsImage } from "./mkfs.ts";
import { parseRecipe, planImage } from "./recipe.ts";
import { planImageGptRepair, repairImageGpt } from "./gpt_repair.ts";

const MiB = 1024 * 1024;
const SMALL = parseRecipe(
  'size = "2M"\nalign = "4K"\n[[partition]]\nname = "nexus-state"\nsize = "rest"\n',
  "small",
);

async function saved(path: string) {
  const got: Array<{ lba: number; old: Uint8Array }> = [];
  const r = await repairImageGpt(path, (lba, old) => void got.push({ lba, old: old.slice() }));
  return { r, got };
}

async function tableOf(path: string) {
  const f = await Deno.readFile(path);
  return readGpt(
    (lba, n) => Promise.resolve(f.slice(lba * SECTOR_SIZE, (lba + n) * SECTOR_SIZE)),
    f.length / SECTOR_SIZE,
  );
}

Deno.test("a damaged copy is rewritten from the other: the image comes back byte for byte", async () => {
  await withTempDir("nexus-gptfix-", async (dir) => {
    const good = `${dir}/good.img`;
    await mkfsImage(good, { recipe: SMALL });
    const want = await fileDigest(good);
    const cases: Array<[string, number, number[]]> = [
      ["zeroed MBR and primary", 0, Array(2 * SECTOR_SIZE).fill(0)],
      ["primary array", 2 * SECTOR_SIZE + 60, [0x41]],
      ["backup header", 2 * MiB - SECTOR_SIZE + 40, [0x07]],
      ["backup array", 2 * MiB - 33 * SECTOR_SIZE + 8, [0x07]],
      ["zeroed MBR", 0, Array(SECTOR_SIZE).fill(0)],
    ];
    for (const [what, at, bytes] of cases) {
      const img = `${dir}/x.img`;
      await Deno.copyFile(good, img);
      const original = await Deno.readFile(img);
      await patchFile(img, at, bytes);
      const damaged = await Deno.readFile(img);
      assert((await probeImage(img)).warnings.length > 0, what);
      const { r, got } = await saved(img);
      assert(r.writes.length > 0, what);
      assertEquals(await fileDigest(img), want, `${what}: repaired byte for byte`);
      assertEquals((await probeImage(img)).warnings, [], `${what}: no warning left`);
      // Every rewritten sector was handed over with its old bytes first.
      for (const w of r.writes) {
        const g = got.find((s) => s.lba === w.lba)!;
        assertEquals(g.old, damaged.subarray(w.lba * 512, w.lba * 512 + 512), `${what} ${w.lba}`);
        assert(!original.subarray(w.lba * 512, w.lba * 512 + 512).every((b, i) => b === g.old[i]));
      }
      const again = await saved(img);
      assertEquals(again.r.writes, [], `${what}: a healthy table needs nothing`);
    }
    // An MBR that is a real partition table (no 0xEE entry) is someone's: left as is.
    const img = `${dir}/mbr.img`;
    await Deno.copyFile(good, img);
    await patchFile(img, 446 + 4, [0x83]);
    const before = await fileDigest(img);
    const { r } = await saved(img);
    assertEquals(r.writes, []);
    assertMatch(r.plan.left.join(), /MBR partition table without a protective entry; left as is/);
    assertEquals(await fileDigest(img), before);
  });
});

Deno.test("a grown image: the backup moves to the last LBA, the old header is zeroed, data stays", async () => {
  await withTempDir("nexus-gptfix-", async (dir) => {
    const img = `${dir}/grown.img`;
    await mkfsImage(img, { recipe: SMALL });
    const before = await tableOf(img);
    const part = before.table.partitions[0];
    const area = (await Deno.readFile(img)).slice(
      part.firstLba * SECTOR_SIZE,
      (part.lastLba + 1) * SECTOR_SIZE,
    );
    await Deno.truncate(img, 3 * MiB);
    assertMatch((await probeImage(img)).warnings.join(), /disk ends at 6143/);
    const { r } = await saved(img);
    assertEquals(r.writes.map((w) => w.why).filter((w, i, a) => a.indexOf(w) === i).sort(), [
      "backup GPT moved to the last LBA",
      "primary GPT (grown disk)",
      "protective MBR size",
      "stale backup GPT header",
    ]);
    const after = await tableOf(img);
    assertEquals(after.problems, []);
    assertEquals(after.table.partitions, before.table.partitions);
    assertEquals(after.table.diskGuid, before.table.diskGuid);
    assertEquals(after.table.lastUsableLba, 6144 - 34);
    const bytes = await Deno.readFile(img);
    assertEquals(bytes.subarray(4095 * SECTOR_SIZE, 4096 * SECTOR_SIZE), new Uint8Array(512));
    assertEquals(
      bytes.subarray(part.firstLba * SECTOR_SIZE, (part.lastLba + 1) * SECTOR_SIZE),
      area,
      "the partition is untouched",
    );
  });
});

Deno.test("an unrepairable table is refused with nothing written; a failing sink stops the repair", async () => {
  await withTempDir("nexus-gptfix-", async (dir) => {
    const img = `${dir}/x.img`;
    await mkfsImage(img, { recipe: SMALL });
    const other = await planImage(SMALL);
    other.partitions[0].name = "renamed";
    const enc = encodeGpt(other);
    await patchFile(img, enc.tailLba * SECTOR_SIZE, [...enc.tail]);
    const before = await fileDigest(img);
    const err = await assertRejects(() => planImageGptRepair(img), ImageError);
    assertEquals(err.code, "BAD_GPT");
    assertMatch(err.message, /cannot repair the GPT: primary and backup GPT disagree/);
    await assertRejects(() => repairImageGpt(img, () => {}), ImageError);
    assertEquals(await fileDigest(img), before);

    const zeroed = `${dir}/z.img`;
    await mkfsImage(zeroed, { recipe: SMALL });
    await patchFile(zeroed, 0, Array(2 * SECTOR_SIZE).fill(0));
    const z = await fileDigest(zeroed);
    await assertRejects(
      () =>
        repairImageGpt(zeroed, () => {
          throw new Error("disk full");
        }),
      Error,
      "disk full",
    );
    assertEquals(await fileDigest(zeroed), z, "no sector rewritten without its backup");
  });
});
