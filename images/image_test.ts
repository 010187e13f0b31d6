import { assert, assertEquals, assertMatch, assertRejects } from "../tests/assert.ts";
import { fileDigest, GOLDEN_PUT_RECORD, patchFile, withTempDir } from "../tests/helpers.ts";
import { Prng } from "../core/simulation/prng.ts";

/** Deterministic "garbage" so damage tests never depend on luck. */
const noiseBytes = (n: number, seed = 0x9e3779b9) => new Prng(seed).fill(new Uint8Array(n));
import { BlockDeviceError, FileBlockDevice, StateFs } from "../core/statefs/mod.ts";
import { encodeGpt, SECTOR_SIZE } from "../core/statefs/gpt.ts";
import { ImageError, openImage, probeImage } from "./image.ts";
import { mkfsImage } from "./mkfs.ts";
import { defaultRecipe, parseRecipe, planImage } from "./recipe.ts";

const MiB = 1024 * 1024;
/** A 2 MiB one-partition recipe: the damage tests copy and hash images, so keep them small. */
const SMALL = parseRecipe(
  'size = "2M"\nalign = "4K"\n[[partition]]\nname = "nexus-state"\nsize = "rest"\n',
  "small",
);

async function expectImageError(path: string, code: string, re: RegExp): Promise<void> {
  const before = await fileDigest(path).catch(() => "absent");
  const err = await assertRejects(() => probeImage(path), ImageError);
  assertEquals(err.code, code, err.message);
  assertMatch(err.message, re);
  assert(!err.message.includes("\n"), "one line");
  assertEquals(await fileDigest(path).catch(() => "absent"), before, "probing changes nothing");
}

Deno.test("probe finds the nexus-state partition of a fresh image", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const path = `${dir}/a.img`;
    await mkfsImage(path);
    const info = await probeImage(path);
    assertEquals(info.sizeBytes, 64 * MiB);
    assertEquals(info.totalSectors, 131072);
    assertEquals(info.table, await planImage(await defaultRecipe()));
    assertEquals(info.wholeDevice, undefined);
    assertEquals(info.statefs.partition?.name, "nexus-state");
    assertEquals(info.statefs.offsetBytes, 2048 * SECTOR_SIZE);
    assertEquals(info.statefs.lengthBytes, 61440 * SECTOR_SIZE);
    const other = await probeImage(path, { partition: "system-b" });
    assertEquals(other.statefs.offsetBytes, 96256 * SECTOR_SIZE);
    const err = await assertRejects(() => probeImage(path, { partition: "nope" }), ImageError);
    assertEquals(err.code, "NO_PARTITION");
    assertMatch(err.message, /partitions: nexus-state, system-a, system-b/);
  });
});

Deno.test("openImage gives a read-only device over the partition unless asked to write", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const path = `${dir}/a.img`;
    await mkfsImage(path, { recipe: SMALL });
    const before = await fileDigest(path);
    const ro = await openImage(path);
    try {
      // 4096 sectors: the partition starts at 40 (4 KiB aligned) and "rest" ends, aligned down,
      // before the last usable sector 4062.
      assertEquals(ro.device.blockCount, 4016);
      const fs = await StateFs.open(ro.device);
      assertEquals(fs.stats().generation, 1);
      await assertRejects(() => ro.device.write(0, new Uint8Array(512)), BlockDeviceError);
    } finally {
      ro.close();
    }
    assertEquals(await fileDigest(path), before);
    const rw = await openImage(path, { write: true });
    try {
      const fs = await StateFs.open(rw.device);
      await fs.put("/state/k", new TextEncoder().encode("v"));
      await fs.sync();
    } finally {
      rw.close();
    }
    const again = await openImage(path);
    try {
      const fs = await StateFs.open(again.device);
      assertEquals(new TextDecoder().decode(await fs.get("/state/k")), "v");
    } finally {
      again.close();
    }
  });
});

Deno.test("whole-device StateFS files open without a partition table", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const nxs2 = `${dir}/nxs2.img`;
    await Deno.writeFile(nxs2, new Uint8Array(MiB));
    const dev = await FileBlockDevice.open(nxs2);
    try {
      await StateFs.format(dev);
    } finally {
      dev.close();
    }
    const a = await probeImage(nxs2);
    assertEquals([a.wholeDevice, a.table, a.statefs.offsetBytes, a.statefs.lengthBytes], [
      "nxs2",
      undefined,
      0,
      MiB,
    ]);

    const legacy = `${dir}/legacy.img`;
    const bytes = new Uint8Array(8 * SECTOR_SIZE);
    bytes.set(GOLDEN_PUT_RECORD, 0);
    await Deno.writeFile(legacy, bytes);
    assertEquals((await probeImage(legacy)).wholeDevice, "legacy");
    const img = await openImage(legacy);
    try {
      const fs = await StateFs.open(img.device);
      assertEquals(new TextDecoder().decode(await fs.get("/state/a")), "x");
    } finally {
      img.close();
    }

    const blank = `${dir}/blank.img`;
    await Deno.writeFile(blank, new Uint8Array(4 * SECTOR_SIZE));
    assertEquals((await probeImage(blank)).wholeDevice, "blank");
  });
});

Deno.test("unusable files are refused with a stable code and one line, untouched", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    await expectImageError(`${dir}/missing.img`, "NOT_FOUND", /no such file/);
    await Deno.mkdir(`${dir}/d.img`);
    await expectImageError(`${dir}/d.img`, "NOT_A_FILE", /is a directory/);
    await Deno.writeFile(`${dir}/empty.img`, new Uint8Array(0));
    await expectImageError(`${dir}/empty.img`, "TOO_SMALL", /too small \(0 bytes/);
    await Deno.writeFile(`${dir}/small.img`, new Uint8Array(100));
    await expectImageError(`${dir}/small.img`, "TOO_SMALL", /too small/);
    await Deno.writeFile(`${dir}/odd.img`, new Uint8Array(1000));
    await expectImageError(`${dir}/odd.img`, "UNALIGNED", /1000 bytes is not a multiple of 512/);
    await Deno.writeFile(`${dir}/noise.img`, noiseBytes(64 * 1024));
    await expectImageError(`${dir}/noise.img`, "NOT_AN_IMAGE", /not a nexus image/);
    const mbr = new Uint8Array(64 * 1024);
    mbr.set([0x00, 0x20, 0x21, 0x00, 0x83], 446);
    mbr.set([0x55, 0xaa], 510);
    await Deno.writeFile(`${dir}/mbr.img`, mbr);
    await expectImageError(`${dir}/mbr.img`, "NOT_AN_IMAGE", /MBR partition table without GPT/);
  });
});

async function expectWarned(path: string, source: string, re: RegExp): Promise<void> {
  const before = await fileDigest(path);
  const info = await probeImage(path);
  assertEquals(info.gpt?.source, source, path);
  assert(info.warnings.some((w) => re.test(w)), `${path}: ${info.warnings.join("; ")}`);
  assertEquals(info.statefs.partition?.name, "nexus-state");
  assertEquals(info.gptIntact, false, "a damaged copy is not intact");
  const ro = await openImage(path);
  try {
    assertEquals((await StateFs.open(ro.device)).stats().generation, 1);
  } finally {
    ro.close();
  }
  const err = await assertRejects(() => openImage(path, { write: true }), ImageError);
  assertEquals(err.code, "CORRUPT");
  assertMatch(err.message, /corrupt partition table .*nothing written .*fsck --repair/);
  assertEquals(await fileDigest(path), before, "probing and refusing change nothing");
}

Deno.test("a damaged GPT copy is read from the other with a warning; writes refuse", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const good = `${dir}/good.img`;
    await mkfsImage(good, { recipe: SMALL });
    const copy = async (name: string) => {
      const p = `${dir}/${name}`;
      await Deno.copyFile(good, p);
      return p;
    };
    const hdrCrc = await copy("hdrcrc.img");
    await patchFile(hdrCrc, SECTOR_SIZE + 16, [0xde, 0xad, 0xbe, 0xef]);
    await expectWarned(hdrCrc, "backup", /primary GPT header CRC mismatch/);

    const arrCrc = await copy("arrcrc.img");
    await patchFile(arrCrc, 2 * SECTOR_SIZE + 56, [0x41]);
    await expectWarned(arrCrc, "backup", /primary GPT entry array CRC mismatch/);

    const backup = await copy("backup.img");
    await patchFile(backup, 2 * MiB - SECTOR_SIZE + 40, [0x07]);
    await expectWarned(backup, "primary", /backup GPT header CRC mismatch/);

    const noPmbr = await copy("nopmbr.img");
    await patchFile(noPmbr, 446 + 4, [0x00]);
    await expectWarned(noPmbr, "primary", /no protective MBR/);

    // The shape of a damaged disk that once looked blank: MBR and primary header zeroed.
    const zeroed = await copy("zeroed.img");
    await patchFile(zeroed, 0, Array(2 * SECTOR_SIZE).fill(0));
    await expectWarned(zeroed, "backup", /primary GPT header at LBA 1: no "EFI PART"/);
  });
});

Deno.test("a grown image (backup not at the last LBA) is read and written with a warning", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const path = `${dir}/grown.img`;
    await mkfsImage(path, { recipe: SMALL });
    await Deno.truncate(path, 3 * MiB);
    const info = await probeImage(path);
    assertEquals(info.gptIntact, true);
    assertMatch(info.warnings.join("\n"), /backup at LBA 4095, but the disk ends at 6143/);
    const rw = await openImage(path, { write: true });
    rw.close();
  });
});

Deno.test("an unusable GPT: both copies gone, copies that disagree, truncation, too small", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const good = `${dir}/good.img`;
    await mkfsImage(good, { recipe: SMALL });
    const copy = async (name: string) => {
      const p = `${dir}/${name}`;
      await Deno.copyFile(good, p);
      return p;
    };
    const both = await copy("both.img");
    await patchFile(both, SECTOR_SIZE + 16, [0xde, 0xad, 0xbe, 0xef]);
    await patchFile(both, 2 * MiB - SECTOR_SIZE + 40, [0x07]);
    await expectImageError(both, "BAD_GPT", /primary GPT header CRC mismatch/);

    const disagree = await copy("disagree.img");
    const other = await planImage(SMALL);
    other.partitions[0].name = "renamed";
    const enc = encodeGpt(other);
    await patchFile(disagree, enc.tailLba * SECTOR_SIZE, [...enc.tail]);
    await expectImageError(disagree, "BAD_GPT", /primary and backup GPT disagree/);

    const truncated = await copy("trunc.img");
    await Deno.truncate(truncated, MiB);
    await expectImageError(truncated, "TOO_SMALL", /GPT describes 2097152 \(truncated\?\)/);

    const tiny = `${dir}/tiny.img`;
    const head = encodeGpt(await planImage(await defaultRecipe())).head.slice(0, 2 * SECTOR_SIZE);
    await Deno.writeFile(tiny, head);
    await expectImageError(tiny, "TOO_SMALL", /too small to hold the GPT/);
  });
});

Deno.test("a whole device whose sector 0 is zero but that holds data is not blank", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const path = `${dir}/z.img`;
    const bytes = new Uint8Array(MiB);
    bytes[700 * SECTOR_SIZE + 3] = 1;
    await Deno.writeFile(path, bytes);
    await expectImageError(path, "CORRUPT", /sector 0 is zero but sector 700 holds data/);
    // A format cut short before its superblock (Checkpoint{1, 0} at block 1) is garbage.
    const cut = `${dir}/cut.img`;
    await mkfsImage(cut, { layout: "whole-device", sizeBytes: MiB });
    await patchFile(cut, 0, Array(SECTOR_SIZE).fill(0));
    assertEquals((await probeImage(cut)).wholeDevice, "blank");
  });
});

Deno.test("a GPT without a nexus-state partition is refused", async () => {
  await withTempDir("nexus-image-", async (dir) => {
    const path = `${dir}/other.img`;
    const recipe = parseRecipe(
      '[[partition]]\nname = "nexus-state"\nsize = "1M"\n[[partition]]\nname = "data"\nsize = "1M"\n',
      "t",
    );
    const table = await planImage(recipe, 4 * MiB);
    table.partitions = table.partitions.filter((p) => p.name === "data");
    const gpt = encodeGpt(table);
    const bytes = new Uint8Array(4 * MiB);
    bytes.set(gpt.head, 0);
    bytes.set(gpt.tail, gpt.tailLba * SECTOR_SIZE);
    await Deno.writeFile(path, bytes);
    await expectImageError(
      path,
      "NO_PARTITION",
      /no partition of type .* or named "nexus-state" or "state" \(partitions: data\)/,
    );
  });
});
