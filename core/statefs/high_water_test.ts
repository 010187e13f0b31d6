/**
 * The superblock's high-water mark (docs/formats.md): every block of a region past the mark is
 * zero. The engine raises the mark in steps, durably and before journal bytes pass it, so a sync
 * that stays below the mark writes only journal blocks, never the superblock again. The mark it
 * keeps in memory must never drop below the one on the device: a lower mark would make the next
 * flush rewrite and sync the superblock for every new block, and would tell a compaction that
 * the old region holds zeros where the device may not.
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { fsck } from "./fsck.ts";
import { decodeSuperblock, decodeSuperblockExt, type SuperblockExt } from "./journal.ts";

const enc = new TextEncoder();

/** The superblock extension on the device as it is now. */
async function extOf(dev: MemoryBlockDevice): Promise<SuperblockExt> {
  const block = await dev.read(0, 1);
  const sb = decodeSuperblock(block);
  assert(sb.ok, "superblock decodes");
  const ext = decodeSuperblockExt(block, sb.sb);
  assert(ext !== undefined, "superblock carries its extension");
  return ext;
}

/** Logs the writes (superblock or journal blocks) and the syncs, in order. */
function record(dev: MemoryBlockDevice): string[] {
  const log: string[] = [];
  const write = dev.write.bind(dev);
  dev.write = (block, data) => {
    log.push(block === 0 ? "superblock" : `journal@${block}+${data.length / 512}`);
    return write(block, data);
  };
  const sync = dev.sync.bind(dev);
  dev.sync = () => {
    log.push("sync");
    return sync();
  };
  return log;
}

/**
 * The superblock writes that raise the mark: each is flushed before anything else is written.
 * (A sync also rewrites the superblock after its flush to confirm where the synced journal ends;
 * that write rides on the next flush.)
 */
function raises(log: string[]): number {
  return log.filter((e, i) => e === "superblock" && log[i + 1] === "sync").length;
}

Deno.test("syncs that stay below the high-water mark raise it once, durably, when the journal first passes the old mark", async () => {
  const dev = new MemoryBlockDevice(4096);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  const log = record(dev);
  const before = (await extOf(dev)).highWater[0];
  let raised = -1;
  for (let i = 0; i < 40; i++) {
    // 300-byte values: every sync ends in a new block, most of them crossing a block edge.
    await fs.put(`/state/k${i}`, enc.encode(String(i).padEnd(300, "x")));
    await fs.sync();
    const tailBlocks = Math.ceil(fs.stats().bytesUsed / 512);
    const mark = (await extOf(dev)).highWater[0];
    // Safety: the mark on the device always covers the journal.
    assert(mark >= tailBlocks, `mark ${mark} below the journal's ${tailBlocks} blocks at ${i}`);
    if (raised < 0 && mark !== before) raised = mark;
    if (raised >= 0) assertEquals(mark, raised, `the mark moved again at sync ${i}`);
  }
  assert(raised > Math.ceil(fs.stats().bytesUsed / 512), "one raise covers the whole run");
  assertEquals(raises(log), 1, log.join(" "));
  // The raise is durable before the journal block past the old mark is written.
  const at = log.findIndex((e, i) => e === "superblock" && log[i + 1] === "sync");
  assert(log[at + 2].startsWith("journal@"), log.slice(at, at + 3).join(" "));
});

Deno.test("a reopened store keeps the mark it finds and raises it only past that mark", async () => {
  const dev = new MemoryBlockDevice(4096);
  await StateFs.format(dev);
  const first = await StateFs.open(dev);
  await first.put("/state/a", enc.encode("x".repeat(700)));
  await first.sync();
  const mark = (await extOf(dev)).highWater[0];
  const again = await StateFs.open(dev);
  const log = record(dev);
  for (let i = 0; i < 20; i++) {
    await again.put(`/state/b${i}`, enc.encode("y".repeat(450)));
    await again.sync();
  }
  assert(Math.ceil(again.stats().bytesUsed / 512) < mark, "the run stays below the mark");
  assertEquals(raises(log), 0, log.join(" "));
  assertEquals((await extOf(dev)).highWater[0], mark);
});

Deno.test("a compaction records the old region's mark from the device's point of view: never below its journal", async () => {
  const dev = new MemoryBlockDevice(4096);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  for (let i = 0; i < 30; i++) {
    await fs.put(`/state/k${i % 5}`, enc.encode(String(i).padEnd(400, "z")));
    await fs.sync();
  }
  const used = Math.ceil(fs.stats().bytesUsed / 512);
  const markA = (await extOf(dev)).highWater[0];
  await fs.compact();
  assertEquals(fs.stats().activeRegion, "B");
  const ext = await extOf(dev);
  // Region A still holds its old journal: its mark must cover it. The writer zeroed A past its
  // tail when it prepared and wrote nothing there since: the mark comes down to the journal.
  assert(ext.highWater[0] >= used, `A's mark ${ext.highWater[0]} below its ${used} blocks`);
  assert(markA > used, `the mark was above the journal (${markA} > ${used})`);
  assertEquals(ext.highWater[0], used);
  // So a compaction back into A zeroes only what the old journal used, and A is all zeros past
  // the new journal, as the mark says.
  await fs.put("/state/k0", enc.encode("again"));
  await fs.compact();
  assertEquals(fs.stats().activeRegion, "A");
  const newEnd = Math.ceil(fs.stats().bytesUsed / 512);
  assert(
    dev.snapshot().subarray((1 + newEnd) * 512, (1 + markA) * 512).every((b) => b === 0),
    "A past the new journal is zeros",
  );
  assertEquals((await fsck(dev)).status, "clean");
});

Deno.test("a compaction as the first write after an open keeps the old region's mark", async () => {
  const dev = new MemoryBlockDevice(4096);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  for (let i = 0; i < 30; i++) await fs.put(`/state/k${i % 5}`, enc.encode(String(i).padEnd(400)));
  await fs.sync();
  const markA = (await extOf(dev)).highWater[0];
  // A crash could have left anything past the tail up to the mark: this instance never looked.
  const other = await StateFs.open(dev);
  await other.compact();
  assertEquals((await extOf(dev)).highWater[0], markA);
});
