import fc from "fast-check";
import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { type BlockDevice, BlockDeviceError } from "./block_device.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { StateFsError } from "./errors.ts";
import { regionBlocksFor } from "./journal.ts";
import { locatedValue, ReplayState, scanJournal, type StoredValue } from "./replay.ts";

/** Passes reads through and counts the blocks read. */
class Counting implements BlockDevice {
  readonly blockSize = 512;
  blocksRead = 0;
  constructor(readonly inner: MemoryBlockDevice) {}
  get blockCount(): number {
    return this.inner.blockCount;
  }
  read(block: number, count: number): Promise<Uint8Array> {
    this.blocksRead += count;
    return this.inner.read(block, count);
  }
  write(block: number, data: Uint8Array): Promise<void> {
    return this.inner.write(block, data);
  }
  sync(): Promise<void> {
    return this.inner.sync();
  }
}

/** Scans region A of `dev` with the hint `expectEnd`: what was found, as plain values. */
async function replay(dev: BlockDevice, expectEnd: number) {
  const chunks: Uint8Array[] = [];
  const state = new ReplayState(chunks);
  const scan = await scanJournal(
    dev,
    1,
    regionBlocksFor(dev.blockCount),
    100_000,
    (r, o, l) => state.apply(r, o, l),
    chunks,
    expectEnd,
  );
  const values: [string, number[]][] = [];
  state.map.forEach((v: StoredValue, k: string) => {
    values.push([k, [...(typeof v === "number" ? locatedValue(chunks, v) : v)]]);
  });
  values.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return { end: scan.end, records: scan.records, stop: scan.stop, tail: scan.tailBlock, values };
}

Deno.test("replay: the expected end shapes the reads, never what the scan finds", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ key: fc.nat(20), len: fc.nat(9000) }), { minLength: 1, maxLength: 60 }),
      fc.nat(600),
      fc.nat(3_000_000),
      async (puts, unsynced, wild) => {
        const dev = new MemoryBlockDevice(8192);
        await StateFs.format(dev);
        const fs = await StateFs.open(dev);
        for (const [i, p] of puts.entries()) {
          await fs.put(`/state/k${p.key}`, new Uint8Array(p.len).fill(i & 0xff));
        }
        await fs.sync();
        const synced = fs.stats().bytesUsed;
        // Written after the last sync: the journal goes on past the synced end.
        await fs.put("/state/late", new Uint8Array(unsynced).fill(7));
        await fs.reopen();
        const want = await replay(dev, 0);
        assertEquals(want.end, fs.stats().bytesUsed);
        for (const hint of [synced, want.end, wild, 1, 10 ** 9]) {
          assertEquals(await replay(dev, hint), want, `hint ${hint}`);
        }
        // With the exact end as the hint, little more than the journal is read: at most the
        // slack after it and the block re-read where each chunk starts.
        const counting = new Counting(dev);
        await replay(counting, want.end);
        const journal = Math.ceil(want.end / 512);
        assert(
          counting.blocksRead <= journal + 8 + Math.ceil(journal / 2048),
          `read ${counting.blocksRead} blocks for a journal of ${journal}`,
        );
      },
    ),
    { numRuns: 40 },
  );
});

/** Records the buffers replay reads into; fails reads on demand. */
class Watching implements BlockDevice {
  readonly blockSize = 512;
  buffers = new Set<ArrayBufferLike>();
  failReads = false;
  constructor(readonly inner: MemoryBlockDevice) {}
  get blockCount(): number {
    return this.inner.blockCount;
  }
  read(block: number, count: number): Promise<Uint8Array> {
    if (this.failReads && block > 0) {
      return Promise.reject(new BlockDeviceError("IO_ERROR", "planted read failure"));
    }
    return this.inner.read(block, count);
  }
  async readInto(block: number, out: Uint8Array): Promise<void> {
    this.buffers.add(out.buffer);
    if (this.failReads && block > 0) {
      out.fill(0xee); // what a failed read may leave behind
      throw new BlockDeviceError("IO_ERROR", "planted read failure");
    }
    await this.inner.readInto(block, out);
  }
  write(block: number, data: Uint8Array): Promise<void> {
    return this.inner.write(block, data);
  }
  sync(): Promise<void> {
    return this.inner.sync();
  }
}

Deno.test("replay: a reopen reads into the buffers of the replay before last, never into live ones", async () => {
  const dev = new Watching(new MemoryBlockDevice(16384));
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  const want = new Map<string, number>();
  const put = async (i: number) => {
    await fs.put(`/state/k${i % 800}`, new Uint8Array(3000 + i).fill(i & 0xff));
    want.set(`/state/k${i % 800}`, i);
  };
  const check = async (what: string) => {
    for (const [k, i] of want) {
      const v = await fs.get(k);
      assert(v?.length === 3000 + i && v.every((b) => b === (i & 0xff)), `${what}: ${k}`);
    }
  };
  for (let i = 0; i < 800; i++) await put(i); // a journal of 2.4 MiB: three replay chunks
  await fs.sync();
  const generations: Set<ArrayBufferLike>[] = [];
  for (let round = 0; round < 4; round++) {
    dev.buffers = new Set();
    await fs.reopen();
    generations.push(dev.buffers);
    await check(`round ${round}`);
  }
  for (let g = 2; g < generations.length; g++) {
    const before = generations[g - 2];
    assert([...generations[g]].every((b) => before.has(b)), `reopen ${g} reuses reopen ${g - 2}'s`);
    assert([...generations[g]].every((b) => !generations[g - 1].has(b)), `never the live ones`);
  }
  // A reopen that fails half way leaves the state it had, whatever it read into.
  dev.failReads = true;
  dev.buffers = new Set();
  await assertRejects(() => fs.reopen(), StateFsError);
  await assertRejects(() => fs.reopen(), StateFsError);
  dev.failReads = false;
  const live = generations[generations.length - 1];
  assert(
    [...dev.buffers].every((b) => !live.has(b)),
    "a failing reopen never reads into live ones",
  );
  await check("after failed reopens");
  for (let i = 800; i < 860; i++) await put(i);
  await fs.reopen();
  await check("after a reopen that worked");
  await fs.compact();
  await fs.reopen();
  await check("after a compaction and a reopen");
});
