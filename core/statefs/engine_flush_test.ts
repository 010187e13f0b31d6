/**
 * The engine's pending-tail bookkeeping across many syncs: every sync writes the partial last
 * block again, so the bytes kept for it must be exactly the records already written there.
 * A reopen from a copy of the device (what a power cut after the last sync leaves) must give
 * every value back, the device must hold only zeros after the tail, and a sync with nothing
 * pending must write nothing.
 */

import { assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";

const enc = new TextEncoder();

/** A value whose length and bytes depend on `i`, so records straddle block edges at odd places. */
function valueOf(i: number): Uint8Array {
  return enc.encode(`v${i}:`.padEnd(17 + ((i * 37) % 211), String.fromCharCode(97 + (i % 26))));
}

Deno.test("every value synced one by one comes back from the device after a reopen", async () => {
  const dev = new MemoryBlockDevice(512);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  const n = 60;
  for (let i = 0; i < n; i++) {
    await fs.put(`/state/k${i}`, valueOf(i));
    await fs.sync();
    // Nothing but zeros after the journal's tail in region A (block 1 on), or a later replay
    // could read stale bytes as records.
    const { activeRegion, bytesUsed, regionBlocks } = fs.stats();
    assertEquals(activeRegion, "A");
    const after = dev.snapshot().subarray(512 + bytesUsed, 512 * (1 + regionBlocks));
    assertEquals(after.findIndex((b) => b !== 0), -1, `stale bytes after the tail at sync ${i}`);
  }
  const again = await StateFs.open(MemoryBlockDevice.fromBytes(dev.snapshot()));
  for (let i = 0; i < n; i++) {
    assertEquals(await again.get(`/state/k${i}`), valueOf(i), `key ${i}`);
  }
  assertEquals(again.stats().liveKeys, n);
});

Deno.test("a sync with nothing pending writes nothing to the device", async () => {
  const dev = new MemoryBlockDevice(256);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  await fs.put("/state/a", enc.encode("1"));
  await fs.sync();
  const before = dev.snapshot();
  let writes = 0;
  const write = dev.write.bind(dev);
  dev.write = (block, data) => {
    writes++;
    return write(block, data);
  };
  await fs.sync();
  await fs.sync();
  assertEquals(writes, 0);
  assertEquals(dev.snapshot(), before);
});
