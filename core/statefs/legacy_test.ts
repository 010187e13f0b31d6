/**
 * Legacy-layout journals (records from byte 0, as the original engine writes on a blank disk):
 * nexus migrates them to NXS2 at its first write, so one grown by nexus never becomes too long
 * to migrate.
 */

import { assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { encodeRecord, OP_PUT } from "./journal.ts";

const enc = new TextEncoder();

Deno.test("legacy: a journal started on a blank device keeps taking writes past half the device", async () => {
  const dev = new MemoryBlockDevice(2048);
  const first = await StateFs.open(dev);
  await first.put("/state/a", enc.encode("a"));
  await first.sync();
  const fs = await StateFs.open(dev);
  // Four times the device of overwrites: only compaction (hence migration) makes room.
  for (let i = 0; i < 4096; i++) await fs.put(`/state/k${i % 4}`, new Uint8Array(1000).fill(i));
  await fs.sync();
  const again = await StateFs.open(dev);
  assertEquals(again.stats().layout, "nxs2");
  assertEquals(again.list("/state/", 9), [
    "/state/a",
    "/state/k0",
    "/state/k1",
    "/state/k2",
    "/state/k3",
  ]);
  assertEquals((await again.get("/state/k3"))![0], 4095 & 0xff);
});

Deno.test("legacy: a journal the original wrote migrates at nexus's first write, every key kept", async () => {
  const img = new Uint8Array(256 * 512);
  let p = 0;
  for (let i = 0; i < 20; i++) {
    const r = encodeRecord(OP_PUT, `/state/o${i % 5}`, enc.encode(`v${i}`));
    img.set(r, p);
    p += r.length;
  }
  const dev = MemoryBlockDevice.fromBytes(img);
  const fs = await StateFs.open(dev);
  assertEquals(fs.stats().layout, "legacy");
  await fs.put("/state/new", enc.encode("n"));
  await fs.sync();
  const again = await StateFs.open(dev);
  assertEquals(again.stats().layout, "nxs2");
  assertEquals(again.stats().liveKeys, 6);
  assertEquals(new TextDecoder().decode((await again.get("/state/o4"))!), "v19");
});
