/**
 * The high-water marks and the synced end the superblock carries (docs/formats.md, "What nexus
 * adds to the superblock block"): no full-region zero-scan on format, open, reopen or compaction,
 * and a synced journal cut short is detected.
 */

import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import type { BlockDevice } from "./block_device.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { StateFsError } from "./errors.ts";
import { fsck } from "./fsck.ts";

const enc = new TextEncoder();

/** A device of any size holding only the blocks written to it; counts the blocks read. */
class SparseDevice implements BlockDevice {
  readonly blockSize = 512;
  blocksRead = 0;
  readonly #blocks = new Map<number, Uint8Array>();
  constructor(readonly blockCount: number) {}
  read(block: number, count: number): Promise<Uint8Array> {
    this.blocksRead += count;
    const out = new Uint8Array(count * 512);
    for (let i = 0; i < count; i++) {
      const b = this.#blocks.get(block + i);
      if (b) out.set(b, i * 512);
    }
    return Promise.resolve(out);
  }
  write(block: number, data: Uint8Array): Promise<void> {
    for (let i = 0; i < data.length / 512; i++) {
      this.#blocks.set(block + i, data.slice(i * 512, (i + 1) * 512));
    }
    return Promise.resolve();
  }
  sync(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("a 20 GiB StateFS formats, opens, writes, reopens and compacts without reading its regions", async () => {
  const dev = new SparseDevice(20 * 2 ** 30 / 512);
  await StateFs.format(dev, { zeroed: true });
  assertEquals(dev.blocksRead, 0, "format of a device known to be zeros reads nothing");
  const fs = await StateFs.open(dev);
  for (let i = 0; i < 50; i++) await fs.put(`/state/k${i % 7}`, new Uint8Array(3000).fill(i));
  await fs.sync();
  await fs.reopen();
  await fs.put("/state/after-reopen", enc.encode("x"));
  await fs.compact();
  await fs.put("/state/after-compact", enc.encode("y"));
  await fs.compact(); // back into region A, which the first journal used
  await fs.sync();
  const again = await StateFs.open(dev);
  assertEquals(again.stats().liveKeys, 9);
  // Journal replays and the zeroing up to the high-water marks: a few MiB, not 10 GiB regions.
  assert(dev.blocksRead < 5 * 2048 * 6, `read ${dev.blocksRead} blocks`);
});

Deno.test("a device without the marks (as the original leaves it) is zeroed once, then marked", async () => {
  const dev = new MemoryBlockDevice(8192);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  await fs.put("/state/a", enc.encode("1"));
  await fs.sync();
  const img = dev.snapshot();
  img.fill(0, 64, 512); // the original rewrites the superblock block with zeros after byte 20
  img.fill(0x41, 600 * 512, 601 * 512); // and leaves stale bytes in its regions
  const plain = MemoryBlockDevice.fromBytes(img);
  const first = await StateFs.open(plain);
  await first.put("/state/b", enc.encode("2"));
  await first.sync();
  assert(
    plain.snapshot().subarray(600 * 512, 601 * 512).every((b) => b === 0),
    "stale bytes zeroed",
  );
  assertEquals((await fsck(plain)).status, "clean");
  assertEquals((await StateFs.open(plain)).list("/state/", 9), ["/state/a", "/state/b"]);
});

Deno.test("a synced journal cut short is CORRUPT and fsck says lost-synced-tail; an unsynced one is not", async () => {
  const dev = new MemoryBlockDevice(256);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  await fs.put("/state/a", enc.encode("1"));
  await fs.sync();
  const synced = fs.stats().bytesUsed;
  await fs.put("/state/b", enc.encode("2"));
  await fs.sync();
  const end = fs.stats().bytesUsed;
  // Zeros over the last record, from its exact start: a clean-looking end.
  const img = dev.snapshot();
  img.fill(0, 512 + synced, 512 + end);
  const cut = MemoryBlockDevice.fromBytes(img);
  const err = await assertRejects(() => StateFs.open(cut), StateFsError);
  assertEquals(err.code, "CORRUPT");
  assert(err.message.includes("synced records are lost"), err.message);
  const report = await fsck(cut, { repair: true });
  assertEquals(report.status, "unrecoverable");
  assertEquals(report.problems.map((p) => p.code), ["lost-synced-tail"]);
  assertEquals(cut.snapshot(), img, "nothing written");
  // Records never synced may be lost: the same cut of an unsynced tail opens cleanly.
  await fs.put("/state/c", enc.encode("3"));
  await fs.reopen(); // written, not synced
  const img2 = dev.snapshot();
  img2.fill(0, 512 + end, 512 + fs.stats().bytesUsed);
  assertEquals((await StateFs.open(MemoryBlockDevice.fromBytes(img2))).list("/state/", 9), [
    "/state/a",
    "/state/b",
  ]);
});

Deno.test("a reopen by the writer itself replays but does not re-read the zeros after its tail", async () => {
  const dev = new SparseDevice(20 * 2 ** 30 / 512);
  await StateFs.format(dev, { zeroed: true });
  const fs = await StateFs.open(dev);
  await fs.put("/state/a", new Uint8Array(3000).fill(1)); // the first write proves the zeros
  await fs.sync();
  const journalBlocks = Math.ceil(fs.stats().bytesUsed / 512);
  for (let round = 0; round < 3; round++) {
    const before = dev.blocksRead;
    await fs.reopen();
    await fs.put(`/state/r${round}`, new Uint8Array(3000).fill(round));
    await fs.sync();
    const read = dev.blocksRead - before;
    // The replay (the superblock, the journal and a few blocks past its synced end), no zero-scan.
    assert(read <= 1 + journalBlocks + (round + 1) * 8 + 16, `round ${round}: read ${read} blocks`);
  }
  // A fresh open knows nothing of what happened after the tail: it proves the zeros again.
  const before = dev.blocksRead;
  const other = await StateFs.open(dev);
  await other.put("/state/fresh", enc.encode("z"));
  assert(dev.blocksRead - before > 1024, `a fresh open scanned ${dev.blocksRead - before} blocks`);
  assertEquals(other.list("/state/", 9), [
    "/state/a",
    "/state/fresh",
    "/state/r0",
    "/state/r1",
    "/state/r2",
  ]);
});

Deno.test("a reopen that finds another journal than its own zeroes after the tail as a fresh open does", async () => {
  const dev = new MemoryBlockDevice(8192);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  await fs.put("/state/a", new Uint8Array(3000).fill(1));
  await fs.sync();
  const keep = dev.snapshot();
  const keptTail = fs.stats().bytesUsed;
  await fs.put("/state/b", new Uint8Array(3000).fill(2));
  await fs.sync();
  // Behind the writer's back (as a torn write before a crash would): the device holds the older
  // superblock and journal, and the later blocks of b's record after that journal's end.
  const firstAfter = 1 + Math.floor(keptTail / 512) + 1;
  await dev.write(0, keep.subarray(0, firstAfter * 512));
  const stale = dev.snapshot().subarray(firstAfter * 512, (firstAfter + 4) * 512);
  assert(!stale.every((b) => b === 0), "b's later blocks are on the device");
  await fs.reopen();
  assertEquals(fs.list("/state/", 9), ["/state/a"]);
  await fs.put("/state/c", enc.encode("3"));
  await fs.sync();
  const after = dev.snapshot();
  const cEnd = 1 + Math.ceil(fs.stats().bytesUsed / 512);
  assert(
    after.subarray(cEnd * 512, (firstAfter + 4) * 512).every((b) => b === 0),
    "the stale blocks after the tail were zeroed",
  );
  assertEquals((await fsck(dev)).status, "clean");
});
