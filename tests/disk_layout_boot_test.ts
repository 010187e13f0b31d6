/**
 * Boots on every disk shape nexus supports, judged against the default ladder (phase mmio):
 * a plain zero file (the original harness's `truncate -s 64M blk.img`), images of a size other
 * than the default, a GPT with a damaged primary copy, and each device the original engine
 * wrote (tests/fixtures/interop/), after which every key the original wrote is still there.
 */

import { assert, assertEquals } from "./assert.ts";
import { readRange, withTempDir } from "./helpers.ts";
import { SMALL_GPT } from "./small_image.ts";
import { bootSystem } from "../init/boot.ts";
import {
  defaultLadderPath,
  Judge,
  type LineSource,
  loadLadder,
  runLive,
  selectRequirement,
  type Verdict,
} from "../harness/mod.ts";
import { mkfsImage, openImage, probeImage } from "../images/mod.ts";
import { StateFs } from "../core/statefs/mod.ts";

const LADDER = await loadLadder(defaultLadderPath(), "images/ladder.toml");
const FIXTURES = new URL("./fixtures/interop/", import.meta.url);
const MiB = 1024 * 1024;

async function judgeBoot(imagePath: string): Promise<{ verdict: Verdict; lines: string[] }> {
  const judge = new Judge(selectRequirement(LADDER, { phase: "mmio", untilMarker: true }));
  const lines: string[] = [];
  const source: LineSource = async (sink) => {
    const out = await bootSystem({
      imagePath,
      seed: 1,
      watchdogTicks: 800,
      onLine: (text, time) => {
        lines.push(text);
        sink.onLine(text, time);
      },
      shouldStop: () => sink.shouldStop(),
    });
    return { reason: out.reason, virtualNs: out.virtualNs };
  };
  const verdict = await runLive(source, judge, { timeoutMs: 60_000 });
  return { verdict, lines };
}

function assertPass(run: { verdict: Verdict; lines: string[] }, what: string): void {
  assertEquals(run.verdict.status, "PASS", `${what}:\n${run.lines.join("\n")}`);
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice())).toHex();
}

/** Every key of the image with its length and SHA-256, read through the image functions. */
async function keysOf(path: string): Promise<Record<string, { length: number; sha256: string }>> {
  const img = await openImage(path);
  try {
    const fs = await StateFs.open(img.device);
    const out: Record<string, { length: number; sha256: string }> = {};
    for (const key of fs.list("", Math.max(1, fs.stats().liveKeys))) {
      const v = (await fs.get(key))!;
      out[key] = { length: v.length, sha256: await sha256(v) };
    }
    return out;
  } finally {
    img.close();
  }
}

Deno.test("a plain 64 MiB zero file boots: statefsd formats the whole disk and the ladder passes", async () => {
  await withTempDir("nexus-disk-", async (dir) => {
    const path = `${dir}/blk.img`;
    await Deno.writeFile(path, new Uint8Array(0));
    await Deno.truncate(path, 64 * MiB);
    const first = await judgeBoot(path);
    assertPass(first, "first boot");
    assert(
      first.lines.includes(
        "statefsd: formatted and mounted whole disk (131072 blocks, gen 1, 0 keys)",
      ),
    );
    const info = await probeImage(path);
    assertEquals([info.table, info.wholeDevice], [undefined, "nxs2"]);
    const keys = await keysOf(path);
    assert("/state/boot/bootctl.v1" in keys, "the boot stored its state on the disk");
  });
});

Deno.test("images of a size other than the default pass the ladder (GPT and whole device)", async () => {
  await withTempDir("nexus-disk-", async (dir) => {
    const gpt = `${dir}/gpt.img`;
    // Not a whole number of MiB, so the last partition and the backup GPT move off the grid.
    await mkfsImage(gpt, { sizeBytes: 40000 * 1024 });
    const g = await judgeBoot(gpt);
    assertPass(g, "40000K GPT image");
    assert(g.lines.includes("blk: virtio-blk up (ss=512 nsec=80000)"));
    const whole = `${dir}/whole.img`;
    await mkfsImage(whole, { sizeBytes: 3 * MiB, layout: "whole-device" });
    const w = await judgeBoot(whole);
    assertPass(w, "3 MiB whole-device image");
    assert(w.lines.includes("blk: virtio-blk up (ss=512 nsec=6144)"));
    assert(w.lines.some((l) => l.startsWith("statefsd: mounted whole disk (6144 blocks, gen 1")));
  });
});

Deno.test("a GPT whose MBR and primary header are zeroed boots from the backup copy, with a warning", async () => {
  await withTempDir("nexus-disk-", async (dir) => {
    const path = `${dir}/blk.img`;
    await mkfsImage(path, { recipe: SMALL_GPT });
    const f = await Deno.open(path, { write: true });
    await f.write(new Uint8Array(1024));
    f.close();
    const run = await judgeBoot(path);
    assertPass(run, "backup GPT boot");
    assert(run.lines.includes("statefsd: warning: using the backup GPT"), run.lines.join("\n"));
    const head = await readRange(path, 0, 1024);
    assertEquals(head, new Uint8Array(1024), "the boot does not rewrite the table");
  });
});

for (const name of ["legacy-seed", "head-v2", "head-v2-compacted"]) {
  Deno.test(`the original's ${name} device boots and keeps every key the original wrote`, async () => {
    await withTempDir("nexus-disk-", async (dir) => {
      const path = `${dir}/${name}.img`;
      const gz = await Deno.open(new URL(`${name}.img.gz`, FIXTURES));
      const bytes = new Uint8Array(
        await new Response(gz.readable.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
      );
      await Deno.writeFile(path, bytes);
      const expected: Record<string, { length: number; sha256: string }> = JSON.parse(
        await Deno.readTextFile(new URL(`${name}.expected.json`, FIXTURES)),
      );
      assertEquals(await keysOf(path), expected, "nexus reads what the original reads");
      const run = await judgeBoot(path);
      assertPass(run, name);
      assert(run.lines.some((l) => l.startsWith("statefsd: mounted whole disk")));
      const after = await keysOf(path);
      for (const [key, want] of Object.entries(expected)) {
        assert(key in after, `${name}: ${key} survived the boot`);
        // The system's own keys are the boot's to update; every other key is untouched.
        if (!key.startsWith("/state/boot/") && !key.startsWith("/state/keystore/")) {
          assertEquals(after[key], want, `${name}: ${key} unchanged`);
        }
      }
    });
  });
}
