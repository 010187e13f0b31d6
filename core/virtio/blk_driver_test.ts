/**
 * The virtio-blk driver inside a simulated task on the real kernel, against the device model:
 * probe markers and refusals, round trips checked against the backing file, several requests in
 * flight, FLUSH ordering, typed errors, polling, deadlines.
 */

import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import type { DeviceEvent, MmioDevice, MmioEvent, MmioHost, TraceEvent } from "../kernel/types.ts";
import { BlockDeviceError } from "../statefs/block_device.ts";
import type { VirtioBlkMmio } from "./blk_device.ts";
import { VirtioBlkDriver } from "./blk_driver.ts";
import { VirtioError } from "./errors.ts";
import { FaultyStore } from "./fault.ts";
import { Prng } from "../simulation/prng.ts";
import {
  REG_DEVICE_FEATURES,
  REG_DEVICE_FEATURES_SEL,
  REG_DEVICE_ID,
  REG_MAGIC,
  REG_QUEUE_DESC_LOW,
  REG_QUEUE_DEVICE_LOW,
  REG_QUEUE_NOTIFY,
  REG_QUEUE_READY,
  REG_STATUS,
  STATUS_FAILED,
  STATUS_FEATURES_OK,
  VIRTQ_DESC_F_NEXT,
} from "./regs.ts";
import { type BlockStore, FileRegionStore, MemoryStore } from "./store.ts";
import { consoleText, type RigOptions, runInTask, virtioRig } from "./test_util.ts";

/** Delegates to the real device, letting a test bend single registers or the rings. */
class Tamper implements MmioDevice {
  host!: MmioHost;
  #sel = 0;
  constructor(
    readonly inner: VirtioBlkMmio,
    readonly hooks: {
      read?: (off: number, v: number, featureSel: number) => number;
      /** Returns true when it swallowed the write. */
      write?: (off: number, v: number) => boolean;
      beforeNotify?: (host: MmioHost, dev: VirtioBlkMmio) => void;
      afterNotify?: (host: MmioHost, dev: VirtioBlkMmio) => void;
    },
  ) {}
  attach(host: MmioHost): void {
    this.host = host;
    this.inner.attach(host);
  }
  read32(off: number): number {
    const v = this.inner.read32(off);
    return this.hooks.read ? this.hooks.read(off, v, this.#sel) >>> 0 : v;
  }
  write32(off: number, v: number): void {
    if (off === REG_DEVICE_FEATURES_SEL) this.#sel = v;
    if (this.hooks.write?.(off, v)) return;
    if (off === REG_QUEUE_NOTIFY) this.hooks.beforeNotify?.(this.host, this.inner);
    this.inner.write32(off, v);
    if (off === REG_QUEUE_NOTIFY) this.hooks.afterNotify?.(this.host, this.inner);
  }
}

function tampered(hooks: Tamper["hooks"]): RigOptions {
  return { wrap: (dev) => new Tamper(dev, hooks) };
}

async function probeFails(
  store: BlockStore,
  opts: RigOptions,
  code: string,
): Promise<{ lines: string[]; status: number }> {
  const rig = virtioRig(store, opts);
  const err = await assertRejects(
    () => runInTask(rig, (sys, slot) => VirtioBlkDriver.probe(sys, slot)),
    VirtioError,
  );
  assertEquals(err.virtioCode, code, err.message);
  assertEquals(err.code, "IO_ERROR", "a VirtioError is a block-device I/O error");
  return { lines: consoleText(rig), status: rig.device.status };
}

// ---- probe ----

Deno.test("driver: probe negotiates, prints the markers and reports the capacity", async () => {
  const rig = virtioRig(new MemoryStore(131072));
  const info = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    return { count: d.blockCount, size: d.blockSize, q: d.queueSize, id: await d.getId() };
  });
  assertEquals(info, { count: 131072, size: 512, q: 64, id: "nexus-virtio-blk" });
  assertEquals(consoleText(rig), [
    "virtio-blk: mmio modern",
    "blk: virtio-blk up (ss=512 nsec=131072)",
  ]);
  assertEquals(rig.device.status, 0x0f, "ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK");
});

Deno.test("driver: a legacy device is refused with its marker and no 'modern' line", async () => {
  const { lines } = await probeFails(
    new MemoryStore(64),
    { device: { legacy: true } },
    "LEGACY_UNSUPPORTED",
  );
  assertEquals(lines, ["virtio-blk: mmio legacy unsupported"]);
});

Deno.test("driver: probe refusals are typed and leave the device FAILED", async () => {
  const store = new MemoryStore(64);
  const early = await probeFails(
    store,
    tampered({ read: (off, v) => (off === REG_MAGIC ? 0x12345678 : v) }),
    "BAD_MAGIC",
  );
  assertEquals(early.lines, []);
  const notBlk = await probeFails(
    store,
    tampered({ read: (off, v) => (off === REG_DEVICE_ID ? 1 : v) }),
    "NOT_BLOCK",
  );
  assertEquals(notBlk.lines, ["virtio-blk: mmio modern"]);

  for (
    const [bit, sel, name] of [[9, 0, "VIRTIO_BLK_F_FLUSH"], [0, 1, "VIRTIO_F_VERSION_1"]] as const
  ) {
    const rig = virtioRig(
      store,
      tampered({
        read: (off, v, s) => (off === REG_DEVICE_FEATURES && s === sel ? v & ~(1 << bit) : v),
      }),
    );
    const err = await assertRejects(
      () => runInTask(rig, (sys, slot) => VirtioBlkDriver.probe(sys, slot)),
      VirtioError,
    );
    assertEquals(err.virtioCode, "MISSING_FEATURE");
    assert(err.message.includes(name), err.message);
    assert(rig.device.status & STATUS_FAILED, "FAILED set");
  }

  const rejected = await probeFails(
    store,
    tampered({ read: (off, v) => (off === REG_STATUS ? v & ~STATUS_FEATURES_OK : v) }),
    "FEATURES_REJECTED",
  );
  assert(rejected.status & STATUS_FAILED);

  const noQueue = await probeFails(
    store,
    tampered({ read: (off, v) => (off === REG_QUEUE_READY ? 0 : v) }),
    "QUEUE_SETUP",
  );
  assert(noQueue.status & STATUS_FAILED);
  const tiny = await probeFails(store, { device: { queueNumMax: 2 } }, "QUEUE_SETUP");
  assert(tiny.status & STATUS_FAILED);
});

// ---- data path ----

Deno.test("driver: random sector patterns round trip and match the backing file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".img" });
  try {
    const regionOffset = 4096;
    const sectors = 2048;
    await Deno.writeFile(path, new Uint8Array(regionOffset + sectors * 512).fill(0x5a));
    const file = await Deno.open(path, { read: true, write: true });
    const store = new FileRegionStore(file, regionOffset, sectors * 512);
    const model = new Uint8Array(sectors * 512).fill(0x5a);
    const rig = virtioRig(store);
    const rng = new Prng(2024);
    const mismatches = await runInTask(rig, async (sys, slot) => {
      const d = await VirtioBlkDriver.probe(sys, slot, { maxSectorsPerRequest: 64 });
      let bad = 0;
      for (let i = 0; i < 60; i++) {
        const n = 1 + rng.below(i % 5 === 0 ? 700 : 8);
        const at = rng.below(sectors - n + 1);
        if (rng.below(3) > 0) {
          const data = rng.fill(new Uint8Array(n * 512));
          await d.write(at, data);
          model.set(data, at * 512);
        } else {
          let got: Uint8Array;
          if (rng.below(2) === 0) got = await d.read(at, n);
          else await d.readInto(at, got = new Uint8Array(n * 512).fill(0xa5));
          if (!got.every((b, k) => b === model[at * 512 + k])) bad++;
        }
      }
      await d.sync();
      const whole = await d.read(0, sectors);
      if (!whole.every((b, k) => b === model[k])) bad++;
      return bad;
    });
    assertEquals(mismatches, 0, "every read matched the model");
    store.close();
    file.close();
    const bytes = await Deno.readFile(path);
    assertEquals(bytes.subarray(0, regionOffset), new Uint8Array(regionOffset).fill(0x5a));
    assertEquals(bytes.subarray(regionOffset), model, "the file holds exactly the model");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("driver: a large transfer is split into several requests in flight per notify", async () => {
  const store = new MemoryStore(4096);
  const rig = virtioRig(store);
  const data = new Prng(3).fill(new Uint8Array(600 * 512));
  const stats = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot, { maxSectorsPerRequest: 128, maxInFlight: 8 });
    await d.write(100, data);
    const afterWrite = { ...rig.device.stats };
    const back = await d.read(100, 600);
    assert(back.every((b, i) => b === data[i]), "read back");
    const big = await d.read(0, 128 * 20); // 20 requests: three batches of at most 8
    assertEquals(big.length, 128 * 20 * 512);
    return { afterWrite, end: rig.device.stats, driver: d.stats };
  });
  assertEquals(store.bytes.subarray(100 * 512, 700 * 512), data);
  assertEquals(stats.afterWrite.writes, 5, "600 sectors = 5 requests of <= 128");
  assertEquals(stats.afterWrite.notifies, 1, "all five in flight under one notify");
  assertEquals(stats.end.reads, 5 + 20);
  assertEquals(stats.end.notifies, 1 + 1 + 3);
  assertEquals(stats.driver.requests, 5 + 5 + 20 + 0);
});

Deno.test("driver: a read leaves guest memory in one copy per batch, straight into place", async () => {
  const store = new MemoryStore(4096);
  const disk = new Prng(11).fill(new Uint8Array(4096 * 512));
  store.write(0, disk);
  const copies: number[] = []; // sizes of the data copies out of guest memory
  const rig = virtioRig(store, {
    tracer: (ev) => {
      if (ev.kind === "syscall" && ev.op === "memRead" && (ev.size ?? 0) >= 512) {
        copies.push(ev.size! / 512);
      }
    },
  });
  const seen = await runInTask(rig, async (sys, slot) => {
    // One batch: 4 requests of at most 128 sectors = 512 sectors.
    const d = await VirtioBlkDriver.probe(sys, slot, { maxSectorsPerRequest: 128, maxInFlight: 4 });
    const out: { what: string; copies: number[]; ok: boolean }[] = [];
    const check = async (what: string, at: number, n: number, into: boolean) => {
      copies.length = 0;
      let got: Uint8Array;
      if (into) {
        got = new Uint8Array(n * 512).fill(0xee);
        await d.readInto(at, got);
      } else got = await d.read(at, n);
      const want = disk.subarray(at * 512, (at + n) * 512);
      out.push({
        what,
        copies: [...copies],
        ok: got.length === want.length && got.every((b, i) => b === want[i]),
      });
    };
    await check("one batch", 5, 512, false);
    await check("one batch and a sector", 5, 513, false);
    await check("three batches", 7, 1500, false);
    await check("into: one request", 3, 9, true);
    await check("into: three batches", 9, 1100, true);
    return out;
  });
  assertEquals(seen, [
    { what: "one batch", copies: [512], ok: true },
    { what: "one batch and a sector", copies: [512, 1], ok: true },
    { what: "three batches", copies: [512, 512, 476], ok: true },
    { what: "into: one request", copies: [9], ok: true },
    { what: "into: three batches", copies: [512, 512, 76], ok: true },
  ]);
});

Deno.test("driver: readInto refuses what read refuses, before reaching the device", async () => {
  const rig = virtioRig(new MemoryStore(64));
  const codes = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    const codeOf = async (p: () => Promise<unknown>) =>
      (await assertRejects(p, BlockDeviceError)).code;
    const before = rig.device.stats.requests;
    const out = [
      await codeOf(() => d.readInto(63, new Uint8Array(1024))),
      await codeOf(() => d.readInto(-1, new Uint8Array(512))),
      await codeOf(() => d.readInto(0, new Uint8Array(100))),
    ];
    assertEquals(rig.device.stats.requests, before);
    await d.readInto(10, new Uint8Array(0));
    await d.close();
    out.push(await codeOf(() => d.readInto(0, new Uint8Array(512))));
    return out;
  });
  assertEquals(codes, ["OUT_OF_RANGE", "OUT_OF_RANGE", "BAD_LENGTH", "CLOSED"]);
});

Deno.test("driver: ring indices wrap past 65535 without losing a completion", async () => {
  const store = new MemoryStore(1024);
  const data = new Prng(8).fill(new Uint8Array(1024 * 512));
  store.write(0, data);
  const rig = virtioRig(store);
  const out = await runInTask(rig, async (sys, slot) => {
    // One sector per request: every whole-disk read is 1024 requests in batches of 16.
    const d = await VirtioBlkDriver.probe(sys, slot, { maxSectorsPerRequest: 1, maxInFlight: 16 });
    let bad = 0;
    for (let round = 0; round < 66; round++) {
      const got = await d.read(0, 1024);
      if (!got.every((b, i) => b === data[i])) bad++;
    }
    return { bad, requests: d.stats.requests, indices: rig.device.queueIndices };
  });
  assertEquals(out.bad, 0);
  assertEquals(out.requests, 66 * 1024);
  assert(out.requests > 65536, "the 16-bit indices wrapped");
  assertEquals(out.indices, { lastAvail: (66 * 1024) & 0xffff, usedIdx: (66 * 1024) & 0xffff });
});

Deno.test("driver: concurrent calls from one task are serialized and all correct", async () => {
  const store = new MemoryStore(256);
  const rig = virtioRig(store);
  const ok = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    const buf = new Uint8Array(512 * 3);
    const writes = Array.from({ length: 10 }, (_, i) => d.write(i * 10, buf.fill(i + 1)));
    buf.fill(0xff); // the caller reuses its buffer: no write may see bytes from after its call
    const flush = d.sync();
    const reads = Array.from({ length: 10 }, (_, i) => d.read(i * 10, 3));
    await Promise.all([...writes, flush]);
    const got = await Promise.all(reads);
    return got.every((g, i) => g.every((b) => b === i + 1));
  });
  assert(ok, "each read saw the write queued before it");
});

Deno.test("driver: FLUSH reaches the store after the writes issued before it", async () => {
  const log: string[] = [];
  const mem = new MemoryStore(64);
  const store: BlockStore = {
    sectors: mem.sectors,
    read: (s, n) => mem.read(s, n),
    write: (s, d) => {
      log.push(`w${s}+${d.length / 512}`);
      mem.write(s, d);
    },
    flush: () => {
      log.push("flush");
    },
  };
  const rig = virtioRig(store);
  await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot, { maxSectorsPerRequest: 2 });
    await d.write(0, new Uint8Array(512 * 3));
    await d.sync();
    await d.write(10, new Uint8Array(512));
    await d.sync();
  });
  assertEquals(log, ["w0+2", "w2+1", "flush", "w10+1", "flush"]);
});

Deno.test("driver: a synced write survives a power cut under every seed, later ones may not", async () => {
  let lostLater = 0;
  for (let seed = 0; seed < 24; seed++) {
    for (const mode of ["reorder", "torn"] as const) {
      const inner = new MemoryStore(64);
      const cut = `cut:3:${mode}:${seed}`;
      const store = new FaultyStore(inner, { cut });
      const rig = virtioRig(store);
      const err = await assertRejects(() =>
        runInTask(rig, async (sys, slot) => {
          const d = await VirtioBlkDriver.probe(sys, slot);
          await d.write(0, new Uint8Array(512 * 4).fill(1)); // write 1
          await d.sync();
          await d.write(8, new Uint8Array(512 * 4).fill(2)); // write 2
          await d.write(16, new Uint8Array(512).fill(3)); // write 3: power cut after it
          await d.sync(); // fails: the disk is gone
        }), BlockDeviceError);
      assertEquals(err.code, "IO_ERROR", cut);
      assert(inner.bytes.subarray(0, 2048).every((b) => b === 1), `${cut}: synced data kept`);
      if (inner.bytes[16 * 512] === 0 || inner.bytes[8 * 512] === 0) lostLater++;
    }
  }
  assert(lostLater > 0, "unsynced writes are really at risk in some cut");
});

// ---- errors ----

Deno.test("driver: IOERR becomes a typed IO_ERROR and the driver keeps working", async () => {
  const store = new FaultyStore(new MemoryStore(64), { readErrors: [5], writeErrors: [9] });
  const rig = virtioRig(store);
  const out = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    const r = await assertRejects(() => d.read(4, 2), BlockDeviceError);
    const w = await assertRejects(() => d.write(8, new Uint8Array(1024)), BlockDeviceError);
    await d.write(20, new Uint8Array(512).fill(7));
    const back = await d.read(20, 1);
    return { r: [r.code, r.message], w: w.code, back: back[0] };
  });
  assertEquals(out.r, ["IO_ERROR", "virtio-blk: I/O error on IN at sector 4"]);
  assertEquals(out.w, "IO_ERROR");
  assertEquals(out.back, 7);
});

Deno.test("driver: a status other than OK, or a short completion, is a typed error", async () => {
  const cases: [string, number | undefined, number | undefined, string][] = [
    ["UNSUPP", 2, undefined, "UNSUPPORTED"],
    ["status never written", 0xff, undefined, "BAD_COMPLETION"],
    ["unknown status 7", 7, undefined, "BAD_COMPLETION"],
    ["used.len short of the data", undefined, 5, "BAD_COMPLETION"],
  ];
  for (const [what, status, usedLen, code] of cases) {
    let armed = false;
    const rig = virtioRig(
      new MemoryStore(64),
      tampered({
        afterNotify: (host, dev) => {
          if (!armed) return;
          const desc = dev.read32(REG_QUEUE_DESC_LOW);
          const used = dev.read32(REG_QUEUE_DEVICE_LOW);
          if (status !== undefined) {
            // Descriptor 2 is the status buffer of the first request slot.
            const d2 = host.memory.read(desc + 32, 4);
            const addr = d2[0] | (d2[1] << 8) | (d2[2] << 16) | (d2[3] << 24);
            host.memory.write(addr, new Uint8Array([status]));
          }
          if (usedLen !== undefined) {
            const idx = host.memory.read(used + 2, 2);
            const last = ((idx[0] | (idx[1] << 8)) - 1) % 64;
            host.memory.write(used + 4 + 8 * last + 4, new Uint8Array([usedLen, 0, 0, 0]));
          }
        },
      }),
    );
    const got = await runInTask(rig, async (sys, slot) => {
      const d = await VirtioBlkDriver.probe(sys, slot);
      armed = true;
      const e = await assertRejects(() => d.getId(), VirtioError);
      return e.virtioCode;
    });
    assertEquals(got, code, what);
  }
});

Deno.test("driver: range, length and closed errors never reach the device", async () => {
  const rig = virtioRig(new MemoryStore(64));
  const codes = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    const codeOf = async (p: () => Promise<unknown>) =>
      (await assertRejects(p, BlockDeviceError)).code;
    const out = [
      await codeOf(() => d.read(63, 2)),
      await codeOf(() => d.read(-1, 1)),
      await codeOf(() => d.write(64, new Uint8Array(512))),
      await codeOf(() => d.write(0, new Uint8Array(100))),
      await codeOf(() => d.read(0, 1.5)),
    ];
    assertEquals((await d.read(10, 0)).length, 0);
    const before = rig.device.stats.requests;
    await d.close();
    out.push(await codeOf(() => d.read(0, 1)), await codeOf(() => d.sync()));
    await d.close();
    assertEquals(rig.device.stats.requests, before);
    return out;
  });
  assertEquals(codes, [
    "OUT_OF_RANGE",
    "OUT_OF_RANGE",
    "OUT_OF_RANGE",
    "BAD_LENGTH",
    "BAD_LENGTH",
    "CLOSED",
    "CLOSED",
  ]);
  assertEquals(rig.device.status, 0, "close resets the device");
});

Deno.test("driver: polling mode completes without interrupts", async () => {
  const store = new MemoryStore(64);
  const rig = virtioRig(store);
  const stats = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot, { poll: true });
    await d.write(3, new Uint8Array(1024).fill(9));
    await d.sync();
    return { back: (await d.read(3, 2))[1023], driver: d.stats, device: rig.device.stats };
  });
  assertEquals(stats.back, 9);
  assertEquals(stats.device.interrupts, 0, "NO_INTERRUPT honoured");
  assertEquals(stats.driver.interrupts, 0);
});

for (const poll of [false, true]) {
  Deno.test(`driver: a device that never completes times out in virtual time (poll=${poll})`, async () => {
    let swallow = false;
    const rig = virtioRig(
      new MemoryStore(64),
      tampered({ write: (off) => swallow && off === REG_QUEUE_NOTIFY }),
    );
    const out = await runInTask(rig, async (sys, slot) => {
      const d = await VirtioBlkDriver.probe(sys, slot, { poll, deadlineNs: 5_000_000 });
      swallow = true;
      const t0 = sys.now();
      const e1 = await assertRejects(() => d.read(0, 1), VirtioError);
      const waited = sys.now() - t0;
      swallow = false;
      const e2 = await assertRejects(() => d.read(0, 1), VirtioError);
      return { c1: e1.virtioCode, c2: e2.virtioCode, waited };
    });
    assertEquals([out.c1, out.c2], ["TIMEOUT", "TIMEOUT"], "a timed-out driver stays failed");
    assert(out.waited >= 5_000_000 && out.waited < 6_000_000, `waited ${out.waited} ns`);
  });
}

Deno.test("driver: a device that needs reset fails the request with DEVICE_NEEDS_RESET", async () => {
  for (const poll of [false, true]) {
    let corrupt = false;
    const rig = virtioRig(
      new MemoryStore(64),
      tampered({
        beforeNotify: (host, dev) => {
          if (!corrupt) return;
          // Descriptor 0 (the head of the next request) now chains to itself: a loop.
          const desc = dev.read32(REG_QUEUE_DESC_LOW);
          host.memory.write(desc + 12, new Uint8Array([VIRTQ_DESC_F_NEXT, 0, 0, 0]));
        },
      }),
    );
    const out = await runInTask(rig, async (sys, slot) => {
      const d = await VirtioBlkDriver.probe(sys, slot, { poll, deadlineNs: 5_000_000 });
      await d.write(0, new Uint8Array(512));
      corrupt = true;
      const t0 = sys.now();
      const e = await assertRejects(() => d.read(0, 1), VirtioError);
      return { code: e.virtioCode, waited: sys.now() - t0 };
    });
    assertEquals(out.code, "DEVICE_NEEDS_RESET", `poll=${poll}`);
    assert(out.waited < 1_000_000, `reported at once, not at the deadline (poll=${poll})`);
    assert(rig.device.lastError?.includes("loop"), rig.device.lastError);
  }
});

Deno.test("driver: an unknown used id is a BAD_COMPLETION, never a silent success", async () => {
  const rig = virtioRig(
    new MemoryStore(64),
    tampered({
      afterNotify: (host, dev) => {
        const used = dev.read32(REG_QUEUE_DEVICE_LOW);
        host.memory.write(used + 4, new Uint8Array([7, 0, 0, 0])); // id 7: not a request head
      },
    }),
  );
  const code = await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    return (await assertRejects(() => d.read(0, 1), VirtioError)).virtioCode;
  });
  assertEquals(code, "BAD_COMPLETION");
});

Deno.test("driver: the same workload gives the same console and virtual time", async () => {
  const once = async () => {
    const rig = virtioRig(new MemoryStore(512));
    const rng = new Prng(11);
    await runInTask(rig, async (sys, slot) => {
      const d = await VirtioBlkDriver.probe(sys, slot);
      for (let i = 0; i < 20; i++) {
        const n = 1 + rng.below(40);
        await d.write(rng.below(512 - n), rng.fill(new Uint8Array(n * 512)));
        if (i % 4 === 0) await d.sync();
      }
      sys.print(`t=${sys.now()}`);
    });
    return { lines: consoleText(rig), time: rig.kernel.now() };
  };
  assertEquals(await once(), await once());
});

Deno.test("driver: the trace names registers and reports each request's submit and completion", async () => {
  const events: TraceEvent[] = [];
  const store = new FaultyStore(new MemoryStore(64), { readErrors: [20] });
  const rig = virtioRig(store, { tracer: (e) => events.push(e) });
  await runInTask(rig, async (sys, slot) => {
    const d = await VirtioBlkDriver.probe(sys, slot);
    await d.write(8, new Uint8Array(1024).fill(3));
    await assertRejects(() => d.read(20, 1), BlockDeviceError);
  });
  const notify = events.filter((e): e is MmioEvent =>
    e.kind === "mmio" && e.register === "QueueNotify"
  );
  assert(notify.length >= 2);
  assertEquals([notify[0].access, notify[0].window, notify[0].task], ["write", 0, "statefsd"]);
  const reqs = events.filter((e): e is DeviceEvent => e.kind === "device" && e.op !== "get-id");
  const tail = reqs.slice(-4).map((e) =>
    `${e.device} ${e.phase} ${e.op} ${e.sector} ${e.count} ${e.status ?? "-"}`
  );
  assertEquals(tail, [
    "virtio-blk submit out 8 2 -",
    "virtio-blk complete out 8 2 ok",
    "virtio-blk submit in 20 1 -",
    "virtio-blk complete in 20 1 ioerr",
  ]);
  assertEquals(reqs.at(-1)!.req, reqs.at(-2)!.req);
});
