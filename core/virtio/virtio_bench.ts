/**
 * The cost of the virtio disk path: 4 KiB random reads and sequential 64 KiB writes through the
 * driver (inside a simulated task) + virtio-blk device + file store, and 1 MiB sequential reads
 * (a replay's chunks) through the stack a boot uses (with the fault layer's write cache), against
 * direct reads and writes of the same file in the same run. Each group's baseline is direct file
 * I/O, so `deno bench` prints the overhead ratio. Neither side syncs: both measure the page-cache
 * path.
 *
 * Run: `deno bench -A core/virtio/virtio_bench.ts`
 */

import { VirtioBlkDriver } from "./blk_driver.ts";
import { Prng } from "../simulation/prng.ts";
import { FaultyStore } from "./fault.ts";
import { type BlockStore, FileRegionStore } from "./store.ts";
import { runInTask, virtioRig } from "./test_util.ts";

const FILE_SECTORS = 32 * 2048; // 32 MiB
const READS = 256;
const READ_SECTORS = 8; // 4 KiB
const WRITES = 64;
const WRITE_SECTORS = 128; // 64 KiB

const path = Deno.makeTempFileSync({ prefix: "nexus-virtio-bench-", suffix: ".img" });
{
  // Real data, so reads are not served from a sparse hole.
  const chunk = new Prng(1).fill(new Uint8Array(1 << 20));
  const f = Deno.openSync(path, { write: true });
  for (let i = 0; i < (FILE_SECTORS * 512) >> 20; i++) f.writeSync(chunk);
  f.close();
}
const file = Deno.openSync(path, { read: true, write: true });
addEventListener("unload", () => {
  file.close();
  Deno.removeSync(path);
});

const rng = new Prng(99);
const readAt = Array.from({ length: READS }, () => rng.below(FILE_SECTORS / READ_SECTORS) * 8);
const payload = new Prng(5).fill(new Uint8Array(WRITE_SECTORS * 512));

function directRead(at: number, buf: Uint8Array): void {
  file.seekSync(at * 512, Deno.SeekMode.Start);
  let done = 0;
  while (done < buf.length) {
    const n = file.readSync(buf.subarray(done));
    if (!n) throw new Error("short read");
    done += n;
  }
}

function directWrite(at: number, data: Uint8Array): void {
  file.seekSync(at * 512, Deno.SeekMode.Start);
  let done = 0;
  while (done < data.length) done += file.writeSync(data.subarray(done));
}

/** Runs `work` on a fresh kernel + device + probed driver; only `work` is timed. */
async function throughVirtio(
  b: Deno.BenchContext,
  work: (d: VirtioBlkDriver) => Promise<void>,
  wrap: (store: BlockStore) => BlockStore = (s) => s,
): Promise<void> {
  const rig = virtioRig(wrap(new FileRegionStore(file, 0, FILE_SECTORS * 512)), {
    memorySize: 2 * 1024 * 1024,
  });
  await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    b.start();
    await work(d);
    b.end();
  });
}

Deno.bench({
  name: "direct file: 256 x 4 KiB random reads",
  group: "rand-read-4k",
  baseline: true,
  fn: (b) => {
    const buf = new Uint8Array(READ_SECTORS * 512);
    b.start();
    for (const at of readAt) directRead(at, buf);
    b.end();
  },
});

Deno.bench({
  name: "virtio driver+device+file: 256 x 4 KiB random reads",
  group: "rand-read-4k",
  fn: async (b) => {
    await throughVirtio(b, async (d) => {
      for (const at of readAt) await d.read(at, READ_SECTORS);
    });
  },
});

Deno.bench({
  name: "direct file: 64 x 64 KiB sequential writes",
  group: "seq-write-64k",
  baseline: true,
  fn: (b) => {
    b.start();
    for (let i = 0; i < WRITES; i++) directWrite(i * WRITE_SECTORS, payload);
    b.end();
  },
});

Deno.bench({
  name: "virtio driver+device+file: 64 x 64 KiB sequential writes",
  group: "seq-write-64k",
  fn: async (b) => {
    await throughVirtio(b, async (d) => {
      for (let i = 0; i < WRITES; i++) await d.write(i * WRITE_SECTORS, payload);
    });
  },
});

const CHUNK_SECTORS = 2048; // 1 MiB, a replay chunk
const CHUNKS = 16;

Deno.bench({
  name: "direct file: 16 x 1 MiB sequential reads into one buffer",
  group: "seq-read-1m",
  baseline: true,
  fn: (b) => {
    const buf = new Uint8Array(CHUNK_SECTORS * 512);
    b.start();
    for (let i = 0; i < CHUNKS; i++) directRead(i * CHUNK_SECTORS, buf);
    b.end();
  },
});

Deno.bench({
  name: "virtio driver+device+cache+file: 16 x 1 MiB reads, a fresh buffer each",
  group: "seq-read-1m",
  fn: async (b) => {
    await throughVirtio(b, async (d) => {
      for (let i = 0; i < CHUNKS; i++) await d.read(i * CHUNK_SECTORS, CHUNK_SECTORS);
    }, (s) => new FaultyStore(s));
  },
});

Deno.bench({
  name: "virtio driver+device+cache+file: 16 x 1 MiB readInto one buffer",
  group: "seq-read-1m",
  fn: async (b) => {
    const buf = new Uint8Array(CHUNK_SECTORS * 512);
    await throughVirtio(b, async (d) => {
      for (let i = 0; i < CHUNKS; i++) await d.readInto(i * CHUNK_SECTORS, buf);
    }, (s) => new FaultyStore(s));
  },
});
