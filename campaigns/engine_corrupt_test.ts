/**
 * Corruptions at the engine level, a few hundred per run and in memory (no boot): a populated
 * StateFS gets one damaged sector — a bit flip, zeros, garbage or a copy of another sector, in the
 * superblock, the journal or anywhere in the area — and then what a user runs: open, fsck,
 * `fsck --repair`, a put. No exception escapes but the documented ones, fsck never calls an image
 * clean whose keys read back differently, a repair leaves a clean store, and a put keeps every
 * key the damaged store still read.
 */

import { assert, assertEquals } from "../tests/assert.ts";
import { MemoryBlockDevice } from "../core/statefs/devices.ts";
import { StateFs } from "../core/statefs/engine.ts";
import { StateFsError } from "../core/statefs/errors.ts";
import { BlockDeviceError } from "../core/statefs/block_device.ts";
import { fsck } from "../core/statefs/fsck.ts";
import { Prng } from "../core/simulation/prng.ts";
import { readState, stateKey, type StoreState } from "./medium.ts";

const BLOCKS = 384;
const CASES = 300;
const KINDS = ["bitflip", "zero", "garbage", "duplicate"] as const;

/** A store with history: puts of every size, deletes, a batch, a compaction, more after it. */
async function populated(): Promise<{ image: Uint8Array; state: StoreState; used: number[] }> {
  const dev = new MemoryBlockDevice(BLOCKS);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  const rng = new Prng(99);
  for (let i = 0; i < 40; i++) {
    const len = [0, 3, 40, 300, 900][i % 5];
    await fs.put(`/state/k${i % 14}`, new Uint8Array(len).map(() => rng.below(256)));
    if (i % 6 === 5) await fs.delete(`/state/k${(i * 7) % 14}`).catch(() => {});
    if (i % 4 === 3) await fs.sync();
    if (i === 20) await fs.compact();
  }
  await fs.batch([
    { op: "put", key: "/state/batch/a", value: new Uint8Array([1]) },
    { op: "put", key: "/state/batch/b", value: new Uint8Array([2, 2]) },
  ]);
  await fs.sync();
  const image = dev.snapshot();
  const used: number[] = [];
  for (let s = 0; s < BLOCKS; s++) {
    if (image.subarray(s * 512, s * 512 + 512).some((b) => b !== 0)) used.push(s);
  }
  return { image, state: await readState(MemoryBlockDevice.fromBytes(image)), used };
}

function documented(err: unknown): boolean {
  return err instanceof StateFsError || err instanceof BlockDeviceError;
}

/** Damages one sector of a copy of `image` as `seed` draws it; returns the copy and its name. */
function damage(image: Uint8Array, used: number[], seed: number): [Uint8Array, string] {
  const rng = Prng.stream(seed, "engine-corrupt");
  const img = image.slice();
  const kind = KINDS[rng.below(KINDS.length)];
  // Mostly sectors holding data (where damage matters), sometimes the superblock or any sector.
  const where = rng.below(8);
  const s = where === 0 ? 0 : where === 1 ? rng.below(BLOCKS) : used[rng.below(used.length)];
  const at = s * 512;
  if (kind === "bitflip") img[at + rng.below(512)] ^= 1 << rng.below(8);
  else if (kind === "zero") img.fill(0, at, at + 512);
  else if (kind === "garbage") { for (let i = 0; i < 512; i++) img[at + i] = rng.below(256); }
  else {img.copyWithin(
      at,
      used[rng.below(used.length)] * 512,
      used[rng.below(used.length)] * 512 + 512,
    );}
  return [img, `${kind}@${s}`];
}

Deno.test(`engine corruptions: ${CASES} damaged stores open, check, repair and take a put within their contract`, async () => {
  const { image, state, used } = await populated();
  assert(state.size >= 10 && used.length > 20, `${state.size} keys in ${used.length} sectors`);
  const problems: string[] = [];
  const statuses = new Map<string, number>();
  for (let seed = 1; seed <= CASES; seed++) {
    const [img, what] = damage(image, used, seed);
    const fail = (p: string) => problems.push(`seed ${seed} (${what}): ${p}`);
    const guard = async <T>(step: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (err) {
        if (!documented(err)) fail(`${step}: ${(err as Error).name}: ${(err as Error).message}`);
        return undefined;
      }
    };
    const before = await guard("open", () => readState(MemoryBlockDevice.fromBytes(img)));
    const report = await guard("fsck", () => fsck(MemoryBlockDevice.fromBytes(img)));
    statuses.set(report?.status ?? "threw", (statuses.get(report?.status ?? "threw") ?? 0) + 1);
    if (report?.status === "clean" && (!before || stateKey(before) !== stateKey(state))) {
      fail("fsck calls the store clean though its keys read back differently");
    }
    if (report?.status === "repairable") {
      const dev = MemoryBlockDevice.fromBytes(img);
      await guard("fsck --repair", () => fsck(dev, { repair: true }));
      const after = await guard("fsck after repair", () => fsck(dev));
      if (after && after.status !== "clean") fail(`after the repair fsck says ${after.status}`);
    }
    if (before) {
      const dev = MemoryBlockDevice.fromBytes(img);
      const put = await guard("put", async () => {
        const fs = await StateFs.open(dev);
        await fs.put("/state/after", new Uint8Array([7]));
        await fs.sync();
        return true;
      });
      if (put) {
        const now = await guard("open after put", () => readState(dev));
        now?.delete("/state/after");
        if (!now || stateKey(now) !== stateKey(before)) fail("a put changed what the store read");
      }
    }
    if (problems.length >= 5) break;
  }
  assertEquals(problems, []);
  // The damage reaches every verdict, so each branch above ran.
  for (const s of ["clean", "repairable", "unrecoverable"]) {
    assert((statuses.get(s) ?? 0) > 0, `no ${s} case: ${JSON.stringify([...statuses])}`);
  }
});
