import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { type BlockDevice, BlockDeviceError, readBlocksInto } from "./block_device.ts";
import { FileBlockDevice, MemoryBlockDevice, SubBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";

function pattern(blocks: number, seed: number): Uint8Array {
  const b = new Uint8Array(blocks * 512);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return (await assertRejects(() => p, BlockDeviceError)).code;
}

Deno.test("memory device: read/write/snapshot, range and length checks", async () => {
  const dev = new MemoryBlockDevice(8);
  assertEquals(dev.blockSize, 512);
  await dev.write(2, pattern(2, 1));
  assertEquals(await dev.read(2, 2), pattern(2, 1));
  assertEquals((await dev.read(0, 1)).every((b) => b === 0), true);
  const snap = dev.snapshot();
  assertEquals(snap.length, 8 * 512);
  snap[0] = 9; // a copy
  assertEquals((await dev.read(0, 1))[0], 0);
  assertEquals(await codeOf(dev.read(7, 2)), "OUT_OF_RANGE");
  assertEquals(await codeOf(dev.read(-1, 1)), "OUT_OF_RANGE");
  assertEquals(await codeOf(dev.write(0, new Uint8Array(100))), "BAD_LENGTH");
  assertEquals(await codeOf(dev.write(8, new Uint8Array(512))), "OUT_OF_RANGE");
  await dev.sync();
  assertEquals(dev.syncCount, 1);
  assertEquals(MemoryBlockDevice.fromBytes(dev.snapshot()).snapshot(), dev.snapshot());
});

Deno.test("sub device: a window onto another device, bounds enforced", async () => {
  const base = new MemoryBlockDevice(16);
  const sub = new SubBlockDevice(base, 4, 6);
  assertEquals(sub.blockCount, 6);
  await sub.write(1, pattern(1, 5));
  assertEquals(await base.read(5, 1), pattern(1, 5));
  assertEquals(await sub.read(1, 1), pattern(1, 5));
  assertEquals(await codeOf(sub.read(5, 2)), "OUT_OF_RANGE");
  assertEquals(await codeOf(sub.write(6, new Uint8Array(512))), "OUT_OF_RANGE");
  let err: unknown;
  try {
    new SubBlockDevice(base, 12, 5);
  } catch (e) {
    err = e;
  }
  assert(err instanceof BlockDeviceError && err.code === "OUT_OF_RANGE");
});

Deno.test("file device: a partition of a file, persisted across opens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/disk.img`;
    await Deno.writeFile(path, new Uint8Array(64 * 512));
    const dev = await FileBlockDevice.open(path, { offsetBytes: 8 * 512, lengthBytes: 32 * 512 });
    assertEquals(dev.blockCount, 32);
    await dev.write(3, pattern(3, 2));
    await dev.sync();
    assertEquals(await dev.read(3, 3), pattern(3, 2));
    assertEquals(await codeOf(dev.read(31, 2)), "OUT_OF_RANGE");
    dev.close();
    dev.close();
    assertEquals(await codeOf(dev.read(0, 1)), "CLOSED");
    const raw = await Deno.readFile(path);
    assertEquals(raw.subarray((8 + 3) * 512, (8 + 6) * 512), pattern(3, 2));
    assert(raw.subarray(0, 8 * 512).every((b) => b === 0), "nothing written outside the range");

    const ro = await FileBlockDevice.open(path, { readOnly: true });
    assertEquals(ro.blockCount, 64);
    assertEquals(await codeOf(ro.write(0, new Uint8Array(512))), "READ_ONLY");
    ro.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file device: bad inputs are typed errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const codeOpen = async (path: string, opts = {}) =>
      (await assertRejects(() => FileBlockDevice.open(path, opts), BlockDeviceError)).code;
    assertEquals(await codeOpen(`${dir}/missing.img`), "NOT_FOUND");
    assertEquals(await codeOpen(dir), "IO_ERROR");
    await Deno.writeFile(`${dir}/odd.img`, new Uint8Array(1000));
    assertEquals(await codeOpen(`${dir}/odd.img`), "BAD_LENGTH");
    await Deno.writeFile(`${dir}/empty.img`, new Uint8Array(0));
    assertEquals(await codeOpen(`${dir}/empty.img`), "BAD_LENGTH");
    await Deno.writeFile(`${dir}/small.img`, new Uint8Array(4096));
    assertEquals(
      await codeOpen(`${dir}/small.img`, { offsetBytes: 2048, lengthBytes: 4096 }),
      "OUT_OF_RANGE",
    );
    assertEquals(await codeOpen(`${dir}/small.img`, { offsetBytes: 100 }), "BAD_LENGTH");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StateFS on a file partition: format, write, close, reopen from disk", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/disk.img`;
    await Deno.writeFile(path, new Uint8Array(300 * 512));
    const open = () =>
      FileBlockDevice.open(path, { offsetBytes: 34 * 512, lengthBytes: 200 * 512 });
    const dev = await open();
    await StateFs.format(dev);
    const fs = await StateFs.open(dev);
    await fs.put("/state/file", new TextEncoder().encode("on disk"));
    await fs.sync();
    dev.close();
    const dev2 = await open();
    const fs2 = await StateFs.open(dev2);
    assertEquals(new TextDecoder().decode(await fs2.get("/state/file")), "on disk");
    dev2.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A device with only the required methods: readBlocksInto must fall back to read. */
class ReadOnlyCalls implements BlockDevice {
  readonly blockSize = 512;
  readonly blockCount: number;
  reads = 0;
  constructor(readonly inner: MemoryBlockDevice) {
    this.blockCount = inner.blockCount;
  }
  read(block: number, count: number): Promise<Uint8Array> {
    this.reads++;
    return this.inner.read(block, count);
  }
  write(block: number, data: Uint8Array): Promise<void> {
    return this.inner.write(block, data);
  }
  sync(): Promise<void> {
    return this.inner.sync();
  }
}

Deno.test("readInto: every device fills the caller's buffer as read returns, and checks alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/disk.img`;
    await Deno.writeFile(path, pattern(40, 9));
    const file = await FileBlockDevice.open(path, { offsetBytes: 4 * 512, lengthBytes: 32 * 512 });
    const mem = MemoryBlockDevice.fromBytes(pattern(32, 4));
    const devices: [string, BlockDevice][] = [
      ["memory", mem],
      ["file", file],
      ["sub", new SubBlockDevice(mem, 8, 16)],
      ["sub of a device without readInto", new SubBlockDevice(new ReadOnlyCalls(mem), 8, 16)],
      ["fallback", new ReadOnlyCalls(mem)],
    ];
    for (const [name, dev] of devices) {
      const out = new Uint8Array(5 * 512).fill(0xee);
      await readBlocksInto(dev, 3, out);
      assertEquals(out, await dev.read(3, 5), name);
      assertEquals(
        await codeOf(readBlocksInto(dev, dev.blockCount - 1, new Uint8Array(1024))),
        "OUT_OF_RANGE",
        name,
      );
      assertEquals(
        await codeOf(readBlocksInto(dev, 0, new Uint8Array(100))),
        "BAD_LENGTH",
        name,
      );
    }
    file.close();
    assertEquals(await codeOf(file.readInto(0, new Uint8Array(512))), "CLOSED");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
