/**
 * End-to-end tests of `nexus image ...`, spawned as a user would run them, in temp dirs.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { type CliResult, nexusIn as nexus } from "./cli_helpers.ts";
import { fileDigest, GOLDEN_PUT_RECORD, patchFile, readRange, withTempDir } from "./helpers.ts";
import { Prng } from "../core/simulation/prng.ts";

/** Deterministic "garbage" so bad-input tests never depend on luck. */
const noiseBytes = (n: number) => new Prng(0x12345678).fill(new Uint8Array(n));
import { colorEnabled } from "../harness/style.ts";

const MiB = 1024 * 1024;
async function fingerprint(path: string): Promise<string> {
  try {
    const st = await Deno.stat(path);
    if (!st.isFile) return `dir`;
    return await fileDigest(path);
  } catch {
    return "absent";
  }
}

/** Asserts the run failed with `code` and exactly one `nexus: ...` line matching `re`. */
function assertOneLineError(r: CliResult, code: number, re: RegExp, what: string): void {
  assertEquals(r.code, code, `${what}: exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assertMatch(lines[0], /^nexus: /, what);
  assertMatch(lines[0], re, what);
  assert(!r.stderr.includes("    at "), `${what}: no stack trace`);
}

async function mkfs(path: string, ...extra: string[]): Promise<void> {
  const r = await nexus(["image", "mkfs", path, ...extra]);
  assertEquals(r.code, 0, r.stderr);
}

function hasTool(name: string): boolean {
  try {
    new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

const HAVE_SFDISK = hasTool("sfdisk");
const HAVE_FDISK = hasTool("fdisk");

Deno.test("nexus image --help lists every subcommand; each has its own help", async () => {
  const r = await nexus(["image", "--help"]);
  assertEquals(r.code, 0);
  const subs = ["mkfs", "inspect", "fsck", "ls", "get", "put", "rm"];
  for (const sub of subs) assertMatch(r.stdout, new RegExp(`\\b${sub}\\b`));
  const helps = await Promise.all(subs.map((sub) => nexus(["image", sub, "--help"])));
  for (const [i, h] of helps.entries()) {
    assertEquals(h.code, 0, subs[i]);
    assertMatch(h.stdout, new RegExp(`^USAGE\n  nexus image ${subs[i]} <image>`));
    assertMatch(h.stdout, /Exit codes:/);
  }
  assertMatch(helps[0].stdout, /--force/);
  assertMatch(helps[2].stdout, /1 repaired or repairable/);
  assertMatch(helps[2].stdout, /\[--no-backup\]/);
  assert(!helps[2].stdout.includes("--no-no-backup"), "fsck --help: --no-backup has no negation");
  assertMatch(helps[3].stdout, /\[prefix\]/);
  const typo = await nexus(["image", "inspct", "x.img"]);
  assertEquals(typo.code, 2);
  assertMatch(typo.stderr, /Did you mean inspect\?/);
  const missing = await nexus(["image", "get", "x.img"]);
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, /missing required argument 'key'/);
});

Deno.test("mkfs + inspect: the default image, as text and JSON", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/build/blk.img`;
    const m = await nexus(["image", "mkfs", img]);
    assertEquals(m.code, 0, m.stderr);
    assertMatch(m.stdout, /created .*blk\.img: 64 MiB \(131072 sectors\), GPT with 3 partitions/);
    assertEquals((await Deno.stat(img)).size, 64 * MiB);

    const t = await nexus(["image", "inspect", img]);
    assertEquals(t.code, 0, t.stderr);
    assert(!t.stdout.includes("\x1b["), "no colour when stdout is not a terminal");
    assertMatch(t.stdout, /131072 sectors/);
    assertMatch(
      t.stdout,
      /1\s+nexus-state\s+2048\s+63487\s+61440\s+30 MiB\s+nexus StateFS/,
    );
    assertMatch(t.stdout, /2\s+system-a\s+63488\s+96255/);
    assertMatch(t.stdout, /3\s+system-b\s+96256\s+129023/);
    assertMatch(t.stdout, /generation\s+1\b/);
    assertMatch(t.stdout, /live keys\s+0\b/);

    const j = await nexus(["image", "inspect", img, "--json"]);
    assertEquals(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assertEquals(doc.sectors, 131072);
    assertEquals(doc.table, "gpt");
    assertEquals(doc.partitions.map((p: { name: string }) => p.name), [
      "nexus-state",
      "system-a",
      "system-b",
    ]);
    assertEquals(doc.statefs.partition, "nexus-state");
    assertEquals(doc.statefs.offsetBytes, MiB);
    assertEquals(doc.statefs.generation, 1);
    assertEquals(doc.statefs.activeRegion, "A");
    assertEquals(doc.statefs.layout, "nxs2");
    assertEquals(doc.statefs.liveKeys, 0);
  });
});

Deno.test("mkfs refuses to overwrite without --force; --force rebuilds byte-identically", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/blk.img`;
    const ref = `${dir}/ref.img`;
    await Deno.writeTextFile(img, "my precious data");
    const r = await nexus(["image", "mkfs", img]);
    assertOneLineError(r, 2, /already exists \(use --force to overwrite\)/, "mkfs existing");
    assertEquals(await Deno.readTextFile(img), "my precious data");
    await mkfs(img, "--force");
    await mkfs(ref);
    assertEquals(await fingerprint(img), await fingerprint(ref), "same recipe, same bytes");
    await Deno.mkdir(`${dir}/d.img`);
    assertOneLineError(
      await nexus(["image", "mkfs", `${dir}/d.img`, "--force"]),
      2,
      /not a regular file/,
      "mkfs onto a directory",
    );
  });
});

Deno.test("mkfs: bad sizes and recipes exit 2 with one line and create nothing", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/x.img`;
    await Deno.writeTextFile(`${dir}/bad.toml`, "size = \n");
    await Deno.writeTextFile(
      `${dir}/nostate.toml`,
      '[[partition]]\nname = "system-a"\nsize = "1M"\n',
    );
    const cases: [string[], RegExp][] = [
      [["--size", "12X"], /bad size "12X"/],
      [["--size", "64MB"], /bad size "64MB"/],
      [["--size", "1000"], /1000 bytes is not a multiple of 512/],
      [["--size", "0"], /must be a positive number/],
      [["--size", "1M"], /too small for recipe default: needs at least \d+ bytes \(35 MiB fits\)/],
      [["--recipe", `${dir}/none.toml`], /recipe .*none\.toml: no such file/],
      [["--recipe", dir], /is a directory/],
      [["--recipe", `${dir}/bad.toml`], /invalid TOML/],
      [["--recipe", `${dir}/nostate.toml`], /needs a partition named "nexus-state"/],
    ];
    const results = await Promise.all(
      cases.map(([args]) => nexus(["image", "mkfs", img, ...args])),
    );
    for (const [i, r] of results.entries()) {
      assertOneLineError(r, 2, cases[i][1], cases[i][0].join(" "));
    }
    assertEquals(await fingerprint(img), "absent");
  });
});

Deno.test("mkfs --size and --recipe shape the image", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/r.toml`,
      'size = "4M"\nalign = "4K"\n[[partition]]\nname = "nexus-state"\nsize = "rest"\n',
    );
    await mkfs(`${dir}/r.img`, "--recipe", `${dir}/r.toml`);
    assertEquals((await Deno.stat(`${dir}/r.img`)).size, 4 * MiB);
    await mkfs(`${dir}/big.img`, "--size", "128MiB");
    const j = JSON.parse((await nexus(["image", "inspect", `${dir}/big.img`, "--json"])).stdout);
    assertEquals(j.sectors, 262144);
    assertEquals(j.partitions[0].sizeBytes, 94 * MiB);
  });
});

Deno.test("put/get/ls/rm round trip, from a file and from stdin, binary-safe", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/blk.img`;
    await mkfs(img);
    const binary = new Uint8Array(256).map((_, i) => i);
    await Deno.writeFile(`${dir}/v.bin`, binary);
    assertEquals((await nexus(["image", "put", img, "/state/app/bin", `${dir}/v.bin`])).code, 0);
    const p2 = await nexus(["image", "put", img, "/state/app/text", "-"], { stdin: "hello\n" });
    assertEquals(p2.code, 0, p2.stderr);
    assertEquals((await nexus(["image", "put", img, "/state/other", "-"], { stdin: "" })).code, 0);

    const g = await nexus(["image", "get", img, "/state/app/bin"]);
    assertEquals(g.code, 0, g.stderr);
    assertEquals(g.stdoutBytes, binary);
    assertEquals((await nexus(["image", "get", img, "/state/app/text"])).stdout, "hello\n");
    assertEquals((await nexus(["image", "get", img, "/state/other"])).stdoutBytes.length, 0);

    assertEquals(
      (await nexus(["image", "ls", img])).stdout,
      "/state/app/bin\n/state/app/text\n/state/other\n",
    );
    assertEquals(
      (await nexus(["image", "ls", img, "/state/app/"])).stdout,
      "/state/app/bin\n/state/app/text\n",
    );
    assertEquals((await nexus(["image", "ls", img, "/state/zzz"])).stdout, "");

    assertEquals((await nexus(["image", "rm", img, "/state/app/bin"])).code, 0);
    assertOneLineError(
      await nexus(["image", "get", img, "/state/app/bin"]),
      1,
      /no such key: \/state\/app\/bin/,
      "get after rm",
    );
    assertOneLineError(
      await nexus(["image", "rm", img, "/state/app/bin"]),
      1,
      /no such key: \/state\/app\/bin/,
      "rm twice",
    );
    const j = JSON.parse((await nexus(["image", "inspect", img, "--json"])).stdout);
    assertEquals(j.statefs.liveKeys, 2);
    assertEquals((await nexus(["image", "fsck", img])).code, 0);
  });
});

Deno.test("put refuses bad keys, oversized values and missing files, changing nothing", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/blk.img`;
    await mkfs(img);
    await Deno.writeFile(`${dir}/big.bin`, new Uint8Array(64 * 1024 + 1));
    await Deno.writeFile(`${dir}/ok.bin`, new Uint8Array([1]));
    const before = await fingerprint(img);
    // The engine words the reasons; the CLI owes the image name, the subject and the limit.
    const cases: [string[], RegExp][] = [
      [["put", img, "/state/a", `${dir}/big.bin`], /blk\.img: value .*65536/],
      [["put", img, `/state/${"k".repeat(300)}`, `${dir}/ok.bin`], /blk\.img: key .*255/],
      [["put", img, "relative/key", `${dir}/ok.bin`], /blk\.img: key .*\/state\//],
      [["put", img, "/state/../etc", `${dir}/ok.bin`], /blk\.img: key .*"\.\."/],
      [["put", img, "/state/a", `${dir}/nope.bin`], /nope\.bin: no such file/],
      [["put", img, "/state/a", dir], /is a directory/],
      [["get", img, "not-a-key"], /blk\.img: key .*\/state\//],
      [["rm", img, "/state/./x"], /blk\.img: key .*"\."/],
    ];
    for (const [args, re] of cases) {
      assertOneLineError(await nexus(["image", ...args]), 2, re, args.join(" "));
    }
    assertEquals(await fingerprint(img), before, "nothing modified");
  });
});

Deno.test("bad image inputs: one clear line, exit 2, nothing modified, for every command", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const good = `${dir}/good.img`;
    await mkfs(good);
    await Deno.mkdir(`${dir}/dir.img`);
    await Deno.writeFile(`${dir}/small.img`, new Uint8Array(100));
    await Deno.writeFile(`${dir}/empty.img`, new Uint8Array(0));
    await Deno.writeFile(`${dir}/odd.img`, new Uint8Array(1000));
    await Deno.writeFile(`${dir}/garbage.img`, noiseBytes(256 * 1024));
    await Deno.copyFile(good, `${dir}/crc.img`);
    await patchFile(`${dir}/crc.img`, 512 + 16, [0, 0, 0, 0]);
    await patchFile(`${dir}/crc.img`, 64 * MiB - 512 + 16, [0, 0, 0, 0]);
    await Deno.copyFile(good, `${dir}/trunc.img`);
    await Deno.truncate(`${dir}/trunc.img`, 8 * MiB);
    await Deno.writeFile(`${dir}/v`, new Uint8Array([1]));
    const inputs: [string, RegExp][] = [
      ["missing.img", /missing\.img: no such file/],
      ["dir.img", /dir\.img: is a directory/],
      ["small.img", /file too small/],
      ["empty.img", /file too small \(0 bytes/],
      ["odd.img", /1000 bytes is not a multiple of 512/],
      ["garbage.img", /not a nexus image/],
      ["crc.img", /primary GPT header CRC mismatch/], // and the backup's
      ["trunc.img", /GPT describes 67108864 \(truncated\?\)/],
    ];
    const commands = (img: string): string[][] => [
      ["inspect", img],
      ["inspect", img, "--json"],
      ["fsck", img],
      ["fsck", img, "--repair"],
      ["ls", img],
      ["get", img, "/state/a"],
      ["put", img, "/state/a", `${dir}/v`],
      ["rm", img, "/state/a"],
    ];
    const before = await Promise.all(inputs.map(([name]) => fingerprint(`${dir}/${name}`)));
    // Every command meets every kind of bad input; run a few at a time to keep the test quick.
    const runs = inputs.flatMap(([name, re]) =>
      commands(`${dir}/${name}`).map((args) => ({ args, re }))
    );
    for (let i = 0; i < runs.length; i += 8) {
      const batch = runs.slice(i, i + 8);
      const results = await Promise.all(batch.map((c) => nexus(["image", ...c.args])));
      for (const [k, r] of results.entries()) {
        assertOneLineError(r, 2, batch[k].re, batch[k].args.join(" "));
      }
    }
    const after = await Promise.all(inputs.map(([name]) => fingerprint(`${dir}/${name}`)));
    assertEquals(after, before, "no bad input was modified");
  });
});

Deno.test("fsck: clean 0, torn tail 1 (repairable, then repaired), lost superblock 2", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/small.toml`,
      'size = "2M"\nalign = "4K"\n[[partition]]\nname = "nexus-state"\nsize = "rest"\n',
    );
    const img = `${dir}/blk.img`;
    await mkfs(img, "--recipe", `${dir}/small.toml`);
    const put = await nexus(["image", "put", img, "/state/a", "-"], { stdin: "hi\n" });
    assertEquals(put.code, 0, put.stderr);
    const clean = await nexus(["image", "fsck", img]);
    assertEquals(clean.code, 0, clean.stderr);
    assertMatch(clean.stdout, /status: clean/);
    assertMatch(clean.stdout, /records 2, live keys 1, generation 1/);

    // Journal: Checkpoint (23 bytes) then Put("/state/a", "hi\n") (26 bytes) from block 1 of the
    // partition, which starts at sector 40. A record cut short after it is a torn tail.
    const part = 40 * 512;
    const end = 512 + 23 + 26;
    await patchFile(img, part + end, [0x46, 0x53, 0x58, 0x4e, 0x01, 0x08, 0x00]);
    const torn = await fingerprint(img);
    const found = await nexus(["image", "fsck", img, "--json"]);
    assertEquals(found.code, 1, found.stderr);
    const doc = JSON.parse(found.stdout);
    assertEquals(doc.status, "repairable");
    assertEquals(doc.problems.length, 1);
    assertEquals(doc.problems[0].code, "torn-tail");
    assertEquals(doc.problems[0].offset, end);
    assertEquals(doc.problems[0].imageOffset, part + end);
    assertEquals(await fingerprint(img), torn, "fsck without --repair writes nothing");
    assertEquals((await nexus(["image", "get", img, "/state/a"])).stdout, "hi\n");

    const fixed = await nexus(["image", "fsck", img, "--repair"]);
    assertEquals(fixed.code, 1, fixed.stderr);
    assertMatch(fixed.stdout, /status: repaired/);
    assertMatch(fixed.stdout, /torn-tail at offset 561 \(image byte 21041\)/);
    const again = await nexus(["image", "fsck", img]);
    assertEquals(again.code, 0, again.stdout);
    assertEquals((await nexus(["image", "get", img, "/state/a"])).stdout, "hi\n");

    // A damaged superblock is rebuilt from the region's Checkpoint; without one it is lost.
    await patchFile(img, part + 16, [0xff]); // superblock CRC
    const rebuilt = await nexus(["image", "fsck", img, "--repair"]);
    assertEquals(rebuilt.code, 1, rebuilt.stdout);
    assertMatch(rebuilt.stdout, /superblock-crc at offset 0 .*region A holds generation 1/);
    assertEquals((await nexus(["image", "get", img, "/state/a"])).stdout, "hi\n");
    await patchFile(img, part + 16, [0xff]);
    await patchFile(img, part + 512, [0]); // and the Checkpoint's magic
    const broken = await fingerprint(img);
    const bad = await nexus(["image", "fsck", img, "--repair"]);
    assertEquals(bad.code, 2, bad.stdout);
    assertMatch(bad.stdout, /status: unrecoverable/);
    assertMatch(bad.stdout, /superblock-crc at offset 0/);
    assertEquals(await fingerprint(img), broken, "nothing repaired when unrecoverable");
    assertOneLineError(
      await nexus(["image", "ls", img]),
      2,
      /blk\.img: StateFS is corrupt: .*superblock.* \(run: nexus image fsck .*blk\.img\)$/,
      "ls on a corrupt StateFS",
    );
  });
});

Deno.test("whole-device StateFS files (legacy journal from byte 0) are read offline", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/legacy.img`;
    const bytes = new Uint8Array(64 * 512);
    bytes.set(GOLDEN_PUT_RECORD, 0);
    await Deno.writeFile(img, bytes);
    const g = await nexus(["image", "get", img, "/state/a"]);
    assertEquals(g.code, 0, g.stderr);
    assertEquals(g.stdout, "x");
    const t = await nexus(["image", "inspect", img]);
    assertEquals(t.code, 0, t.stderr);
    assertMatch(t.stdout, /table\s+none \(whole-device StateFS\)/);
    assertMatch(t.stdout, /whole device \(legacy\)/);
    assertEquals((await nexus(["image", "ls", img])).stdout, "/state/a\n");
    const j = JSON.parse((await nexus(["image", "fsck", img, "--json"])).stdout);
    assertEquals(j.status, "clean");
    assertEquals(j.partition, null);
  });
});

Deno.test("mkfs --layout whole-device: the original's disk shape, through every command", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/whole.img`;
    const made = await nexus(["image", "mkfs", img, "--layout", "whole-device", "--size", "2M"]);
    assertEquals(made.code, 0, made.stderr);
    assertMatch(made.stdout, /2 MiB \(4096 sectors\), whole device \(no partition table\)/);
    const head = await readRange(img, 0, 4);
    assertEquals(new TextDecoder().decode(head), "NXS2", "StateFS from byte 0");
    const put = await nexus(["image", "put", img, "/state/a", "-"], { stdin: "hi" });
    assertEquals(put.code, 0, put.stderr);
    assertEquals((await nexus(["image", "put", img, "/state/b", "-"], { stdin: "b" })).code, 0);
    assertEquals((await nexus(["image", "rm", img, "/state/b"])).code, 0);
    assertEquals((await nexus(["image", "ls", img])).stdout, "/state/a\n");
    assertEquals((await nexus(["image", "get", img, "/state/a"])).stdout, "hi");
    const t = await nexus(["image", "inspect", img]);
    assertEquals(t.code, 0, t.stderr);
    assertMatch(t.stdout, /table\s+none \(whole-device StateFS\)/);
    assertMatch(t.stdout, /whole device \(nxs2\), 2 MiB/);
    const j = JSON.parse((await nexus(["image", "inspect", img, "--json"])).stdout);
    assertEquals([j.layout, j.statefs.wholeDevice, j.statefs.liveKeys], [
      "whole-device",
      "nxs2",
      1,
    ]);
    const f = await nexus(["image", "fsck", img]);
    assertEquals(f.code, 0, f.stdout);
    assertMatch(f.stdout, /status: clean/);

    const bad = await nexus(["image", "mkfs", `${dir}/x.img`, "--layout", "flat"]);
    assertOneLineError(bad, 2, /--layout "flat": expected gpt or whole-device/, "bad layout");
    await Deno.writeTextFile(
      `${dir}/r.toml`,
      '[[partition]]\nname = "nexus-state"\nsize = "rest"\n',
    );
    const both = await nexus([
      "image",
      "mkfs",
      `${dir}/x.img`,
      "--layout",
      "whole-device",
      "--recipe",
      `${dir}/r.toml`,
    ]);
    assertOneLineError(both, 2, /a whole-device image has none/, "recipe with whole-device");
    const tiny = await nexus([
      "image",
      "mkfs",
      `${dir}/x.img`,
      "--layout",
      "whole-device",
      "--size",
      "1K",
    ]);
    assertOneLineError(tiny, 2, /too small for a whole-device StateFS/, "tiny whole device");
    assertEquals(await fingerprint(`${dir}/x.img`), "absent", "nothing created");
  });
});

Deno.test("a plain zero file is a blank whole device; one with data past a zero sector 0 is corrupt", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const blank = `${dir}/blank.img`;
    await Deno.writeFile(blank, new Uint8Array(0));
    await Deno.truncate(blank, 64 * MiB);
    const t = await nexus(["image", "inspect", blank]);
    assertEquals(t.code, 0, t.stderr);
    assertMatch(t.stdout, /whole device \(blank\), 64 MiB/);
    const odd = `${dir}/odd.img`;
    await Deno.writeFile(odd, new Uint8Array(0));
    await Deno.truncate(odd, 4 * MiB);
    await patchFile(odd, 3 * MiB, [1]);
    const before = await fingerprint(odd);
    for (const args of [["ls", odd], ["put", odd, "/state/a", "-"], ["fsck", odd, "--repair"]]) {
      assertOneLineError(
        await nexus(["image", ...args], { stdin: "x" }),
        2,
        /sector 0 is zero but sector 6144 holds data: not a blank disk/,
        args.join(" "),
      );
    }
    assertEquals(await fingerprint(odd), before, "nothing written");
  });
});

Deno.test("zeroed MBR and primary GPT: reads use the backup with a warning, writes refuse", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/blk.img`;
    await mkfs(img);
    assertEquals((await nexus(["image", "put", img, "/state/a", "-"], { stdin: "v" })).code, 0);
    await patchFile(img, 0, Array(1024).fill(0));
    const before = await fingerprint(img);
    const ls = await nexus(["image", "ls", img]);
    assertEquals([ls.code, ls.stdout], [0, "/state/a\n"], ls.stderr);
    assertMatch(ls.stderr, /warning: .*primary GPT header at LBA 1: no "EFI PART" signature/);
    assertMatch(ls.stderr, /warning: .*using the backup GPT/);
    const t = await nexus(["image", "inspect", img]);
    assertEquals(t.code, 0, t.stderr);
    assertMatch(t.stdout, /from the backup copy/);
    assertMatch(t.stdout, /1\s+nexus-state\s+2048\s+63487\s+61440\s+30 MiB\s+nexus StateFS/);
    for (const args of [["put", img, "/state/b", "-"], ["rm", img, "/state/a"]]) {
      assertOneLineError(
        await nexus(["image", ...args], { stdin: "x" }),
        2,
        /corrupt partition table \(.*primary GPT header at LBA 1: no "EFI PART".*nothing written/,
        args.join(" "),
      );
    }
    assertEquals(await fingerprint(img), before, "nothing written");
  });
});

Deno.test("NO_COLOR and non-terminals keep output plain", () => {
  assertEquals(colorEnabled(true, undefined), true);
  assertEquals(colorEnabled(true, ""), true);
  assertEquals(colorEnabled(true, "1"), false);
  assertEquals(colorEnabled(false, undefined), false);
});

Deno.test({
  name: "sfdisk --dump lists the default image exactly",
  ignore: !HAVE_SFDISK,
  fn: async () => {
    await withTempDir("nexus-cli-", async (dir) => {
      const img = `${dir}/blk.img`;
      await mkfs(img);
      const out = await new Deno.Command("sfdisk", { args: ["--dump", img] }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertEquals(new TextDecoder().decode(out.stderr), "");
      assertMatch(text, /^label: gpt$/m);
      assertMatch(text, /^first-lba: 34$/m);
      assertMatch(text, /^last-lba: 131038$/m);
      const parts = text.split("\n").filter((l) => l.startsWith(img));
      assertEquals(parts.length, 3);
      const expected = [[2048, 61440, "nexus-state"], [63488, 32768, "system-a"], [
        96256,
        32768,
        "system-b",
      ]];
      for (const [i, [start, size, name]] of expected.entries()) {
        assertMatch(
          parts[i],
          new RegExp(
            `start=\\s*${start}, size=\\s*${size}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=[0-9A-F-]{36}, name="${name}"`,
          ),
        );
      }
      const verify = await new Deno.Command("sfdisk", { args: ["--verify", img] }).output();
      assertEquals(verify.code, 0);
      assertMatch(new TextDecoder().decode(verify.stdout), /No errors detected/);
    });
  },
});

Deno.test({
  name: "fdisk -l lists the default image without warnings",
  ignore: !HAVE_FDISK,
  fn: async () => {
    await withTempDir("nexus-cli-", async (dir) => {
      const img = `${dir}/blk.img`;
      await mkfs(img);
      const out = await new Deno.Command("fdisk", { args: ["-l", img] }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0);
      assertEquals(new TextDecoder().decode(out.stderr), "");
      assertMatch(text, /64 MiB, 67108864 bytes, 131072 sectors/);
      assertMatch(text, /Disklabel type: gpt/);
      assertMatch(text, /blk\.img1\s+2048\s+63487\s+61440\s+30M Linux filesystem/);
      assertMatch(text, /blk\.img3\s+96256\s+129023\s+32768\s+16M Linux filesystem/);
    });
  },
});

Deno.test({
  name: "a GPT written by sfdisk is read by nexus image inspect",
  ignore: !HAVE_SFDISK,
  fn: async () => {
    await withTempDir("nexus-cli-", async (dir) => {
      const img = `${dir}/foreign.img`;
      await Deno.writeFile(img, new Uint8Array(0));
      await Deno.truncate(img, 8 * MiB);
      const cmd = new Deno.Command("sfdisk", {
        args: ["--quiet", img],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const w = cmd.stdin.getWriter();
      await w.write(
        new TextEncoder().encode("label: gpt\nsize=2MiB, name=boot\nsize=4MiB, name=nexus-state\n"),
      );
      await w.close();
      const done = await cmd.output();
      assertEquals(done.code, 0, new TextDecoder().decode(done.stderr));
      const j = await nexus(["image", "inspect", img, "--json"]);
      assertEquals(j.code, 0, j.stderr);
      const doc = JSON.parse(j.stdout);
      assertEquals(doc.partitions.map((p: { name: string }) => p.name), ["boot", "nexus-state"]);
      assertEquals(doc.statefs.partition, "nexus-state");
      assertEquals(doc.statefs.sizeBytes, 4 * MiB);
    });
  },
});

Deno.test("fsck finds a damaged GPT copy; --repair rewrites it with a backup that restore undoes", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/blk.img`;
    await mkfs(img);
    assertEquals((await nexus(["image", "put", img, "/state/a", "-"], { stdin: "v" })).code, 0);
    const healthy = await fingerprint(img);
    await patchFile(img, 0, Array(1024).fill(0));
    const damaged = await fingerprint(img);
    const found = await nexus(["image", "fsck", img]);
    assertEquals(found.code, 1, found.stdout);
    assertMatch(found.stdout, /status: repairable/);
    assertMatch(
      found.stdout,
      /gpt: primary GPT header at LBA 1: no "EFI PART" signature \[repairable\]/,
    );
    assertEquals(await fingerprint(img), damaged, "fsck without --repair writes nothing");
    const fixed = await nexus(["image", "fsck", img, "--repair", "--json"]);
    assertEquals(fixed.code, 1, fixed.stdout + fixed.stderr);
    const doc = JSON.parse(fixed.stdout);
    assertEquals(doc.status, "repaired");
    assertEquals(doc.gpt.source, "backup");
    assertEquals(
      doc.gpt.repaired.map((w: { lba: number }) => w.lba).sort((a: number, b: number) => a - b),
      [0, 1],
    );
    assertEquals(doc.backup.path, `${img}.fsck-backup`);
    assertEquals(await fingerprint(img), healthy, "the table is back byte for byte");
    assertEquals((await nexus(["image", "fsck", img])).code, 0);
    assertEquals((await nexus(["image", "put", img, "/state/b", "-"], { stdin: "w" })).code, 0);
    assertEquals((await nexus(["image", "rm", img, "/state/b"])).code, 0);
    const undo = await nexus(["image", "restore", img, `${img}.fsck-backup`]);
    assertEquals(undo.code, 0, undo.stderr);
    const head = await readRange(img, 0, 1024);
    assertEquals(head, new Uint8Array(1024), "restore puts the damaged sectors back");
  });
});

Deno.test("fsck --repair moves the backup GPT of a grown image to the last LBA", async () => {
  await withTempDir("nexus-cli-", async (dir) => {
    const img = `${dir}/blk.img`;
    await mkfs(img);
    await Deno.truncate(img, 65 * MiB);
    const found = await nexus(["image", "fsck", img]);
    assertEquals(found.code, 1, found.stdout);
    assertMatch(
      found.stdout,
      /gpt: primary GPT header puts the backup at LBA 131071, but the disk ends at 133119/,
    );
    const fixed = await nexus(["image", "fsck", img, "--repair", "--backup", `${dir}/undo.bak`]);
    assertEquals(fixed.code, 1, fixed.stdout + fixed.stderr);
    assertMatch(fixed.stdout, /gpt repaired: .*backup GPT moved to the last LBA/);
    const clean = await nexus(["image", "fsck", img]);
    assertEquals(clean.code, 0, clean.stdout);
    const t = JSON.parse((await nexus(["image", "inspect", img, "--json"])).stdout);
    assertEquals(t.warnings, []);
    assert((await Deno.stat(`${dir}/undo.bak`)).size > 0);
  });
});
