/**
 * The interop corpus (tests/fixtures/interop/): whole devices written by the original StateFS
 * engine, with what that engine reads back. Each is read by the engine and by the `nexus image`
 * commands (run in-process): every key with its length and SHA-256, `fsck` clean, and a put
 * afterwards that keeps every earlier key.
 */

import { gunzipSync } from "node:zlib";
import { assert, assertEquals } from "./assert.ts";
import { withTempDir } from "./helpers.ts";
import { nexusInProcess as cli } from "./cli_helpers.ts";
import { fsck, MemoryBlockDevice, StateFs } from "../core/statefs/mod.ts";

const DIR = new URL("./fixtures/interop/", import.meta.url);
const NAMES = ["legacy-seed", "head-v2", "head-v2-compacted"];
const enc = new TextEncoder();

type Expected = Record<string, { length: number; sha256: string }>;

async function load(name: string): Promise<{ img: Uint8Array; expected: Expected }> {
  const gz = await Deno.readFile(new URL(`${name}.img.gz`, DIR));
  const img = new Uint8Array(gunzipSync(gz));
  const expected = JSON.parse(await Deno.readTextFile(new URL(`${name}.expected.json`, DIR)));
  return { img, expected };
}

async function sha256(b: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", b.slice())).toHex();
}

/** What the engine reads back, in the shape of `expected.json`. */
async function readAll(fs: StateFs): Promise<Expected> {
  const out: Expected = {};
  for (const key of fs.list("", fs.stats().liveKeys + 1)) {
    const v = (await fs.get(key))!;
    out[key] = { length: v.length, sha256: await sha256(v) };
  }
  return out;
}

for (const name of NAMES) {
  Deno.test(`interop ${name}: the engine reads what the original reads, fsck clean, a put keeps every key`, async () => {
    const { img, expected } = await load(name);
    const dev = MemoryBlockDevice.fromBytes(img);
    assertEquals((await fsck(dev)).status, "clean");
    const fs = await StateFs.open(dev);
    assertEquals(await readAll(fs), expected);
    await fs.put("/state/nexus/added", enc.encode("n"));
    await fs.sync();
    const again = await StateFs.open(dev);
    const after = await readAll(again);
    assertEquals(after["/state/nexus/added"].length, 1);
    delete after["/state/nexus/added"];
    assertEquals(after, expected);
    assertEquals((await fsck(dev)).status, "clean");
  });
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("interop corpus through nexus image: inspect, ls, get, fsck, put, every key kept", async () => {
  await withTempDir("nexus-interop-", async (dir) => {
    for (const name of NAMES) {
      const { img, expected } = await load(name);
      const path = `${dir}/${name}.img`;
      await Deno.writeFile(path, img);
      const inspect = await cli(["image", "inspect", path, "--json"]);
      assertEquals(inspect.code, 0, name);
      const facts = JSON.parse(text(inspect.out));
      assertEquals(facts.table, "none", name);
      assertEquals(facts.statefs.liveKeys, Object.keys(expected).length, name);
      const fsckRun = await cli(["image", "fsck", path]);
      assertEquals(fsckRun.code, 0, `${name}: ${text(fsckRun.out)}`);
      const ls = await cli(["image", "ls", path]);
      assertEquals(ls.code, 0, name);
      const keys = text(ls.out).trimEnd().split("\n");
      assertEquals(keys.toSorted(), Object.keys(expected).toSorted(), name);
      const check = async () => {
        for (const key of keys) {
          const got = await cli(["image", "get", path, key]);
          assertEquals(got.code, 0, `${name} ${key}`);
          assertEquals(
            { length: got.out.length, sha256: await sha256(got.out) },
            expected[key],
            `${name} ${key}`,
          );
        }
      };
      await check();
      const value = `${dir}/value`;
      await Deno.writeFile(value, enc.encode("added by nexus"));
      assertEquals((await cli(["image", "put", path, "/state/nexus/added", value])).code, 0);
      await check();
      const after = text((await cli(["image", "ls", path])).out).trimEnd().split("\n");
      assertEquals(after.toSorted(), [...keys, "/state/nexus/added"].toSorted(), name);
      assertEquals((await cli(["image", "fsck", path])).code, 0, name);
      assert(
        text((await cli(["image", "get", path, "/state/nexus/added"])).out) === "added by nexus",
      );
    }
  });
});
