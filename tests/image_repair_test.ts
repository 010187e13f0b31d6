/**
 * `nexus image` on a damaged StateFS (in-process): nothing that looks like a StateFS is taken
 * for blank, the write paths refuse it, `fsck --repair` rebuilds from what survives and keeps a
 * backup, and `nexus image restore` undoes the repair.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexusInProcess as cli } from "./cli_helpers.ts";
import { fileDigest, withTempDir } from "./helpers.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** First sector of the StateFS partition in the default image. */
const STATEFS_LBA = 2048;

async function zeroSector(path: string, lba: number): Promise<void> {
  const f = await Deno.open(path, { write: true });
  try {
    await f.seek(lba * 512, Deno.SeekMode.Start);
    await f.write(new Uint8Array(512));
  } finally {
    f.close();
  }
}

Deno.test("image: a zeroed superblock is corrupt to every command, repaired from the journal, undone by restore", async () => {
  await withTempDir("nexus-repair-", async (dir) => {
    const img = `${dir}/a.img`;
    const value = `${dir}/v`;
    await Deno.writeTextFile(value, "kept");
    assertEquals((await cli(["image", "mkfs", img])).code, 0);
    assertEquals((await cli(["image", "put", img, "/state/a", value])).code, 0);
    await zeroSector(img, STATEFS_LBA);
    const damaged = await fileDigest(img);

    for (const args of [["ls", img], ["inspect", img], ["get", img, "/state/a"]]) {
      assertEquals((await cli(["image", ...args])).code, 2, args[0]);
    }
    assertEquals((await cli(["image", "put", img, "/state/b", value])).code, 2);
    assertEquals((await cli(["image", "rm", img, "/state/a"])).code, 2);
    assertEquals(await fileDigest(img), damaged, "no write path touched it");

    const check = await cli(["image", "fsck", img]);
    assertEquals(check.code, 1);
    assertMatch(text(check.out), /superblock-missing .*\[repairable\]/);

    const repair = await cli(["image", "fsck", "--repair", img]);
    assertEquals(repair.code, 1, text(repair.out));
    assertMatch(text(repair.out), /status: repaired/);
    const backup = `${img}.fsck-backup`;
    assertMatch(text(repair.out), new RegExp(`backup of the 1 rewritten sectors: ${backup}`));
    assertEquals(text((await cli(["image", "get", img, "/state/a"])).out), "kept");
    assertEquals((await cli(["image", "fsck", img])).code, 0);

    const undo = await cli(["image", "restore", img, backup]);
    assertEquals(undo.code, 0);
    assertEquals(await fileDigest(img), damaged, "restore gives back the exact bytes");

    // A second repair never overwrites the first backup; --no-backup keeps none.
    assertEquals((await cli(["image", "fsck", "--repair", img])).code, 1);
    assert((await Deno.stat(`${backup}.1`)).isFile);
    await zeroSector(img, STATEFS_LBA);
    const before = await fileDigest(img);
    const both = ["--repair", "--backup", `${dir}/x.bak`, "--no-backup", img];
    assertEquals((await cli(["image", "fsck", ...both])).code, 2, "--backup with --no-backup");
    assertEquals(await fileDigest(img), before, "a refused repair changes nothing");
    assertEquals((await cli(["image", "fsck", "--repair", "--no-backup", img])).code, 1);
    await Deno.stat(`${backup}.2`).then(
      () => assert(false, "no backup expected"),
      (err) => assert(err instanceof Deno.errors.NotFound),
    );
    // A backup taken elsewhere does not restore onto an image with another layout.
    const other = `${dir}/b.img`;
    await Deno.writeFile(other, new Uint8Array(1 << 20)); // a blank whole-device StateFS
    assertEquals((await cli(["image", "restore", other, backup])).code, 2);
    assertEquals((await cli(["image", "restore", img, value])).code, 2);
  });
});
