import fc from "fast-check";
import { assert, assertEquals } from "../../tests/assert.ts";
import type { BlockDevice } from "./block_device.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
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
