import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { BlockDeviceError, MemoryBlockDevice } from "../../core/statefs/mod.ts";
import { ReadCounter } from "./read_counter.ts";

Deno.test("read counter: read and readInto count the blocks they read, failures count nothing", async () => {
  const dev = new ReadCounter(new MemoryBlockDevice(16));
  await dev.read(0, 3);
  await dev.readInto(4, new Uint8Array(5 * 512));
  assertEquals(dev.sectorsRead, 8);
  await assertRejects(() => dev.read(15, 2), BlockDeviceError);
  await assertRejects(() => dev.readInto(12, new Uint8Array(8 * 512)), BlockDeviceError);
  await assertRejects(() => dev.readInto(0, new Uint8Array(100)), BlockDeviceError);
  assertEquals(dev.sectorsRead, 8);
});
