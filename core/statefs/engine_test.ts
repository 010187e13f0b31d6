/**
 * The engine suite (testing/engine_suite.ts) on memory devices, plus what only a memory device can
 * express: a block size other than 512.
 */

import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { defineEngineSuite, type EngineRig } from "./testing/engine_suite.ts";
import { StateFsError } from "./errors.ts";

/** Each run gets a MemoryBlockDevice: zeroed, or a copy of the image. */
const memoryRig: EngineRig = {
  run(device, body) {
    const dev = typeof device === "number"
      ? new MemoryBlockDevice(device)
      : MemoryBlockDevice.fromBytes(device);
    return body(dev, () => dev.snapshot());
  },
};

defineEngineSuite("memory", memoryRig);

Deno.test("open needs 512-byte blocks", async () => {
  const dev = new MemoryBlockDevice(8, 4096);
  const err = await assertRejects(() => StateFs.open(dev), StateFsError);
  assertEquals(err.code, "CORRUPT");
  // The same device seen with 512-byte blocks is an ordinary all-zero (legacy) store.
  const same = MemoryBlockDevice.fromBytes(new Uint8Array(8 * 4096));
  assertEquals((await StateFs.open(same)).stats().layout, "legacy");
});
