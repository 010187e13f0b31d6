/**
 * Register-level conformance of the virtio-blk device model, driven directly through its
 * registers and hand-built rings in guest memory (no kernel, no driver).
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import type { DeviceReport, MmioHost, PhysMemory } from "../kernel/types.ts";
import { VirtioBlkMmio, type VirtioBlkOptions } from "./blk_device.ts";
import { FaultyStore } from "./fault.ts";
import { GuestMemory } from "./guest_memory.ts";
import {
  BLK_S_IOERR,
  BLK_S_OK,
  BLK_S_UNSUPP,
  BLK_T_FLUSH,
  BLK_T_GET_ID,
  BLK_T_IN,
  BLK_T_OUT,
  INT_CONFIG_CHANGE,
  INT_USED_BUFFER,
  NEXUS_VENDOR_ID,
  REG_CONFIG,
  REG_CONFIG_GENERATION,
  REG_DEVICE_FEATURES,
  REG_DEVICE_FEATURES_SEL,
  REG_DEVICE_ID,
  REG_DRIVER_FEATURES,
  REG_DRIVER_FEATURES_SEL,
  REG_INTERRUPT_ACK,
  REG_INTERRUPT_STATUS,
  REG_MAGIC,
  REG_QUEUE_DESC_HIGH,
  REG_QUEUE_DESC_LOW,
  REG_QUEUE_DEVICE_HIGH,
  REG_QUEUE_DEVICE_LOW,
  REG_QUEUE_DRIVER_HIGH,
  REG_QUEUE_DRIVER_LOW,
  REG_QUEUE_NOTIFY,
  REG_QUEUE_NUM,
  REG_QUEUE_NUM_MAX,
  REG_QUEUE_READY,
  REG_QUEUE_SEL,
  REG_STATUS,
  REG_VENDOR_ID,
  REG_VERSION,
  STATUS_ACKNOWLEDGE,
  STATUS_DEVICE_NEEDS_RESET,
  STATUS_DRIVER,
  STATUS_DRIVER_OK,
  STATUS_FEATURES_OK,
  VIRTIO_MAGIC,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from "./regs.ts";
import { type BlockStore, MemoryStore } from "./store.ts";

const V1 = 1; // VERSION_1 in the high feature word
const FLUSH = 1 << 9;
const BLKSZ = 1 << 6;

/** Records the order of guest memory writes (to check used element before used.idx). */
class RecordingMemory implements PhysMemory {
  readonly writes: { addr: number; len: number }[] = [];
  constructor(readonly inner: GuestMemory) {}
  get size(): number {
    return this.inner.size;
  }
  read(addr: number, len: number): Uint8Array {
    return this.inner.read(addr, len);
  }
  write(addr: number, data: Uint8Array): void {
    this.writes.push({ addr, len: data.length });
    this.inner.write(addr, data);
  }
  alloc(size: number, align: number): number {
    return this.inner.alloc(size, align);
  }
}

/**
 * The same, lending views as GuestMemory does: the device then reads and writes its rings in place,
 * unrecorded. For tests that need many requests and no write order.
 */
class ViewableMemory extends RecordingMemory {
  view(addr: number, len: number): Uint8Array {
    return this.inner.view(addr, len);
  }
}

/** A driver written by hand: registers and rings, no policy. */
class Bench {
  readonly mem: RecordingMemory;
  readonly dev: VirtioBlkMmio;
  irqs = 0;
  readonly reports: DeviceReport[] = [];
  /** Completion delay the host asks for, and the work the device deferred (with its delay). */
  delay = 0;
  readonly deferred: Array<{ ns: number; run: () => void }> = [];
  desc = 0;
  avail = 0;
  used = 0;
  availIdx = 0;
  readonly num: number;

  constructor(store: BlockStore, opts: VirtioBlkOptions = {}, num = 16, viewable = false) {
    const mem = new GuestMemory(1 << 20);
    this.mem = viewable ? new ViewableMemory(mem) : new RecordingMemory(mem);
    this.dev = new VirtioBlkMmio(store, opts);
    const host: MmioHost = {
      raiseIrq: () => this.irqs++,
      memory: this.mem,
      now: () => 0,
      completionDelay: () => this.delay,
      after: (ns, run) => {
        if (this.delay === 0) throw new Error("a device without delay defers nothing");
        this.deferred.push({ ns, run });
      },
      trace: (r) => this.reports.push(r),
    };
    this.dev.attach(host);
    this.num = num;
  }

  r(off: number): number {
    return this.dev.read32(off);
  }
  w(off: number, v: number): void {
    this.dev.write32(off, v);
  }

  negotiate(lo = FLUSH | BLKSZ, hi = V1): boolean {
    this.w(REG_STATUS, 0);
    this.w(REG_STATUS, STATUS_ACKNOWLEDGE);
    this.w(REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    this.w(REG_DRIVER_FEATURES_SEL, 0);
    this.w(REG_DRIVER_FEATURES, lo);
    this.w(REG_DRIVER_FEATURES_SEL, 1);
    this.w(REG_DRIVER_FEATURES, hi);
    this.w(REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    return (this.r(REG_STATUS) & STATUS_FEATURES_OK) !== 0;
  }

  allocRings(): void {
    this.desc = this.mem.alloc(16 * this.num, 16);
    this.avail = this.mem.alloc(6 + 2 * this.num, 2);
    this.used = this.mem.alloc(6 + 8 * this.num, 4);
  }

  writeQueue(num = this.num, desc = this.desc, avail = this.avail, used = this.used): void {
    this.w(REG_QUEUE_SEL, 0);
    this.w(REG_QUEUE_NUM, num);
    this.w(REG_QUEUE_DESC_LOW, desc >>> 0);
    this.w(REG_QUEUE_DESC_HIGH, Math.floor(desc / 2 ** 32));
    this.w(REG_QUEUE_DRIVER_LOW, avail >>> 0);
    this.w(REG_QUEUE_DRIVER_HIGH, Math.floor(avail / 2 ** 32));
    this.w(REG_QUEUE_DEVICE_LOW, used >>> 0);
    this.w(REG_QUEUE_DEVICE_HIGH, Math.floor(used / 2 ** 32));
    this.w(REG_QUEUE_READY, 1);
  }

  start(): void {
    assert(this.negotiate(), "negotiation");
    if (this.desc === 0) this.allocRings();
    this.mem.inner.write(this.avail, new Uint8Array(6 + 2 * this.num));
    this.mem.inner.write(this.used, new Uint8Array(6 + 8 * this.num));
    this.availIdx = 0;
    this.writeQueue();
    assertEquals(this.r(REG_QUEUE_READY), 1, `queue ready (${this.dev.lastError})`);
    this.w(REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    assert(this.r(REG_STATUS) & STATUS_DRIVER_OK, "DRIVER_OK");
  }

  setDesc(i: number, addr: number, len: number, flags: number, next = 0, addrHigh = 0): void {
    const d = new Uint8Array(16);
    const v = new DataView(d.buffer);
    v.setUint32(0, addr >>> 0, true);
    v.setUint32(4, addrHigh, true);
    v.setUint32(8, len, true);
    v.setUint16(12, flags, true);
    v.setUint16(14, next, true);
    this.mem.inner.write(this.desc + 16 * i, d);
  }

  /** Publishes heads in the avail ring (entries first, then idx) and notifies. */
  submit(...heads: number[]): void {
    for (const h of heads) {
      const at = this.avail + 4 + 2 * (this.availIdx % this.num);
      this.mem.inner.write(at, new Uint8Array([h & 0xff, h >> 8]));
      this.availIdx = (this.availIdx + 1) & 0xffff;
    }
    this.setAvailIdx(this.availIdx);
    this.w(REG_QUEUE_NOTIFY, 0);
  }

  setAvailIdx(idx: number): void {
    this.mem.inner.write(this.avail + 2, new Uint8Array([idx & 0xff, idx >> 8]));
  }

  usedIdx(): number {
    const b = this.mem.inner.read(this.used + 2, 2);
    return b[0] | (b[1] << 8);
  }

  usedElem(k: number): { id: number; len: number } {
    const b = this.mem.inner.read(this.used + 4 + 8 * (k % this.num), 8);
    const v = new DataView(b.buffer);
    return { id: v.getUint32(0, true), len: v.getUint32(4, true) };
  }

  /**
   * Builds a blk request at descriptors base..base+2 (header, optional data, status); returns
   * the head index and the status and data addresses.
   */
  request(
    base: number,
    type: number,
    sector: number,
    data?: { out?: Uint8Array; inLen?: number },
  ): { head: number; status: number; data: number } {
    const hdr = this.mem.alloc(16, 16);
    const h = new Uint8Array(16);
    const hv = new DataView(h.buffer);
    hv.setUint32(0, type, true);
    hv.setUint32(8, sector >>> 0, true);
    hv.setUint32(12, Math.floor(sector / 2 ** 32), true);
    this.mem.inner.write(hdr, h);
    const st = this.mem.alloc(1, 1);
    this.mem.inner.write(st, new Uint8Array([0xff]));
    const len = data?.out?.length ?? data?.inLen ?? 0;
    let buf = 0;
    if (len > 0) {
      buf = this.mem.alloc(len, 16);
      if (data?.out) this.mem.inner.write(buf, data.out);
      this.setDesc(base, hdr, 16, VIRTQ_DESC_F_NEXT, base + 1);
      this.setDesc(
        base + 1,
        buf,
        len,
        VIRTQ_DESC_F_NEXT | (data?.out ? 0 : VIRTQ_DESC_F_WRITE),
        base + 2,
      );
    } else {
      this.setDesc(base, hdr, 16, VIRTQ_DESC_F_NEXT, base + 2);
    }
    this.setDesc(base + 2, st, 1, VIRTQ_DESC_F_WRITE);
    return { head: base, status: st, data: buf };
  }

  statusOf(req: { status: number }): number {
    return this.mem.inner.read(req.status, 1)[0];
  }
}

function pattern(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(512 * n);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

// ---- identity, features, config ----

Deno.test("device: identity registers of a modern virtio-blk device", () => {
  const b = new Bench(new MemoryStore(64));
  assertEquals(b.r(REG_MAGIC), VIRTIO_MAGIC);
  assertEquals(b.r(REG_VERSION), 2);
  assertEquals(b.r(REG_DEVICE_ID), 2);
  assertEquals(b.r(REG_VENDOR_ID), NEXUS_VENDOR_ID);
  assertEquals(b.r(0x0f0), 0, "unknown offsets read 0");
});

Deno.test("device: feature words through DeviceFeaturesSel", () => {
  const b = new Bench(new MemoryStore(64));
  b.w(REG_DEVICE_FEATURES_SEL, 0);
  assertEquals(b.r(REG_DEVICE_FEATURES), FLUSH | BLKSZ, "BLK_SIZE (6) and FLUSH (9)");
  b.w(REG_DEVICE_FEATURES_SEL, 1);
  assertEquals(b.r(REG_DEVICE_FEATURES), V1, "VERSION_1 is bit 32");
  b.w(REG_DEVICE_FEATURES_SEL, 2);
  assertEquals(b.r(REG_DEVICE_FEATURES), 0);
});

Deno.test("device: legacy option presents Version 1 and can never reach FEATURES_OK", () => {
  const b = new Bench(new MemoryStore(64), { legacy: true });
  assertEquals(b.r(REG_VERSION), 1);
  b.w(REG_DEVICE_FEATURES_SEL, 1);
  assertEquals(b.r(REG_DEVICE_FEATURES), 0, "no VERSION_1 offered");
  assert(!b.negotiate(FLUSH, V1), "accepting an unoffered VERSION_1 is refused");
  assert(!b.negotiate(FLUSH, 0), "and without VERSION_1 too");
});

Deno.test("device: feature negotiation failure paths", () => {
  const b = new Bench(new MemoryStore(64));
  assert(!b.negotiate(FLUSH, 0), "FEATURES_OK refused without VERSION_1");
  assert(b.dev.lastError?.includes("VERSION_1"), b.dev.lastError);
  assert(!b.negotiate(FLUSH | (1 << 28), V1), "FEATURES_OK refused for an unoffered bit");
  assert(!b.negotiate(FLUSH, V1 | 2), "or an unoffered high bit");
  assert(b.negotiate(FLUSH, V1), "a subset with VERSION_1 is fine");

  // Features are frozen once FEATURES_OK is set.
  b.w(REG_DRIVER_FEATURES_SEL, 0);
  b.w(REG_DRIVER_FEATURES, 0);
  assertEquals(b.r(REG_DRIVER_FEATURES), FLUSH);

  // And cannot be written before DRIVER.
  b.w(REG_STATUS, 0);
  b.w(REG_STATUS, STATUS_ACKNOWLEDGE);
  b.w(REG_DRIVER_FEATURES_SEL, 1);
  b.w(REG_DRIVER_FEATURES, V1);
  assertEquals(b.r(REG_DRIVER_FEATURES), 0);

  // DRIVER_OK before FEATURES_OK is refused.
  b.w(REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
  assertEquals(b.r(REG_STATUS) & STATUS_DRIVER_OK, 0);
});

Deno.test("device: blk config space has capacity (u64) and blk_size", () => {
  const huge: BlockStore = {
    sectors: 2 ** 33 + 5,
    read: () => new Uint8Array(0),
    write: () => {},
    flush: () => {},
  };
  const b = new Bench(huge, { blkSize: 4096 });
  assertEquals(b.r(REG_CONFIG + 0x00), 5);
  assertEquals(b.r(REG_CONFIG + 0x04), 2);
  assertEquals(b.r(REG_CONFIG + 0x14), 4096);
  assertEquals(b.r(REG_CONFIG_GENERATION), 0);
  const small = new Bench(new MemoryStore(131072));
  assertEquals(small.r(REG_CONFIG), 131072);
  assertEquals(small.r(REG_CONFIG + 0x14), 512);
  assertEquals(small.r(REG_CONFIG + 0x200), 0, "beyond the config structure reads 0");
});

// ---- queue setup and reset ----

Deno.test("device: queue setup rules", () => {
  const b = new Bench(new MemoryStore(64), { queueNumMax: 16 });
  b.allocRings();
  assertEquals(b.r(REG_QUEUE_NUM_MAX), 16);
  b.w(REG_QUEUE_SEL, 1);
  assertEquals(b.r(REG_QUEUE_NUM_MAX), 0, "only queue 0 exists");
  b.w(REG_QUEUE_READY, 1);
  assertEquals(b.r(REG_QUEUE_READY), 0);

  b.writeQueue();
  assertEquals(b.r(REG_QUEUE_READY), 0, "refused before FEATURES_OK");
  assert(b.negotiate());
  const refused = (what: string, fn: () => void) => {
    b.w(REG_QUEUE_READY, 0);
    fn();
    assertEquals(b.r(REG_QUEUE_READY), 0, `${what} must be refused`);
    assert(b.dev.lastError?.startsWith("QueueReady refused"), `${what}: ${b.dev.lastError}`);
  };
  refused("size 0", () => b.writeQueue(0));
  refused("size not a power of two", () => b.writeQueue(6));
  refused("size above QueueNumMax", () => b.writeQueue(32));
  refused("misaligned descriptor table", () => b.writeQueue(8, b.desc + 8));
  refused("misaligned used ring", () => b.writeQueue(8, b.desc, b.avail, b.used + 2));
  refused("descriptor table outside memory", () => b.writeQueue(8, (1 << 20) - 64));
  refused("avail ring outside memory", () => b.writeQueue(8, b.desc, 2 ** 33));

  b.w(REG_QUEUE_READY, 0);
  b.writeQueue(8);
  assertEquals(b.r(REG_QUEUE_READY), 1);
  assertEquals(b.r(REG_QUEUE_NUM), 8);
  b.w(REG_QUEUE_NUM, 4);
  b.w(REG_QUEUE_DESC_LOW, 0x40);
  assertEquals(b.r(REG_QUEUE_NUM), 8, "geometry is frozen while ready");
  assertEquals(b.r(REG_QUEUE_DESC_LOW), b.desc);
});

Deno.test("device: reset (status 0) clears status, features, queue and interrupts", () => {
  const b = new Bench(new MemoryStore(64));
  b.start();
  const req = b.request(0, BLK_T_FLUSH, 0);
  b.submit(req.head);
  assertEquals(b.r(REG_INTERRUPT_STATUS), INT_USED_BUFFER);
  assertEquals(b.dev.queueIndices, { lastAvail: 1, usedIdx: 1 });

  b.w(REG_STATUS, 0);
  assertEquals(b.r(REG_STATUS), 0);
  assertEquals(b.r(REG_INTERRUPT_STATUS), 0);
  assertEquals(b.r(REG_QUEUE_READY), 0);
  assertEquals(b.r(REG_QUEUE_NUM), 0);
  assertEquals(b.r(REG_QUEUE_DESC_LOW), 0);
  assertEquals(b.r(REG_QUEUE_DRIVER_LOW), 0);
  assertEquals(b.r(REG_QUEUE_DEVICE_LOW), 0);
  b.w(REG_DRIVER_FEATURES_SEL, 1);
  assertEquals(b.r(REG_DRIVER_FEATURES), 0);
  assertEquals(b.dev.queueIndices, undefined);

  // A notify on a reset device does nothing.
  const irqs = b.irqs;
  b.w(REG_QUEUE_NOTIFY, 0);
  assertEquals(b.irqs, irqs);

  // After a fresh setup the indices start from 0 again.
  b.start();
  const again = b.request(0, BLK_T_FLUSH, 0);
  b.submit(again.head);
  assertEquals(b.usedIdx(), 1);
  assertEquals(b.statusOf(again), BLK_S_OK);
});

// ---- requests ----

Deno.test("device: OUT then IN round trip, multi-sector, with used lengths", () => {
  const store = new MemoryStore(64);
  const b = new Bench(store);
  b.start();
  const data = pattern(1, 4);
  const wr = b.request(0, BLK_T_OUT, 10, { out: data });
  b.submit(wr.head);
  assertEquals(b.statusOf(wr), BLK_S_OK);
  assertEquals(store.bytes.subarray(10 * 512, 14 * 512), data);
  assertEquals(b.usedElem(0), { id: 0, len: 1 }, "OUT writes only the status byte");

  const rd = b.request(3, BLK_T_IN, 11, { inLen: 1024 });
  b.submit(rd.head);
  assertEquals(b.statusOf(rd), BLK_S_OK);
  assertEquals(b.mem.inner.read(rd.data, 1024), data.subarray(512, 1536));
  assertEquals(b.usedElem(1), { id: 3, len: 1025 });
  assertEquals(b.dev.stats.reads, 1);
  assertEquals(b.dev.stats.writes, 1);
});

Deno.test("device: several chains per notify complete in order with one interrupt", () => {
  const store = new MemoryStore(64);
  const b = new Bench(store);
  b.start();
  const a = b.request(0, BLK_T_OUT, 0, { out: pattern(2, 1) });
  const c = b.request(3, BLK_T_OUT, 1, { out: pattern(3, 2) });
  const f = b.request(6, BLK_T_FLUSH, 0);
  b.submit(a.head, c.head, f.head);
  assertEquals(b.usedIdx(), 3);
  assertEquals([0, 1, 2].map((k) => b.usedElem(k).id), [0, 3, 6]);
  assertEquals(b.irqs, 1);
  assertEquals(store.flushes, 1);
  assertEquals(b.r(REG_INTERRUPT_STATUS), INT_USED_BUFFER);
  b.w(REG_INTERRUPT_ACK, INT_USED_BUFFER);
  assertEquals(b.r(REG_INTERRUPT_STATUS), 0, "ACK clears the bit");
});

Deno.test("device: with a completion delay, requests complete later, in order; a reset drops them", () => {
  const store = new MemoryStore(64);
  const b = new Bench(store);
  b.start();
  b.delay = 5000;
  const a = b.request(0, BLK_T_OUT, 0, { out: pattern(2, 1) });
  const c = b.request(3, BLK_T_OUT, 1, { out: pattern(3, 2) });
  b.submit(a.head, c.head);
  // Taken (and reported) at the notify, but nothing is served or returned yet.
  assertEquals([b.usedIdx(), b.irqs, b.dev.stats.writes], [0, 0, 0]);
  assertEquals(b.reports.map((r) => `${r.phase} ${r.req}`), ["submit 1", "submit 2"]);
  assertEquals(b.deferred.map((d) => d.ns), [5000]);
  b.deferred.shift()!.run();
  assertEquals(b.usedIdx(), 2);
  assertEquals([0, 1].map((k) => b.usedElem(k).id), [0, 3]);
  assertEquals(b.irqs, 1, "one interrupt for the batch");
  assertEquals(store.bytes.subarray(512, 1536), pattern(3, 2));
  assertEquals(b.reports.slice(2).map((r) => `${r.phase} ${r.req} ${r.status}`), [
    "complete 1 ok",
    "complete 2 ok",
  ]);
  // In flight across a reset: the queue is gone, so is the request.
  const d = b.request(6, BLK_T_OUT, 5, { out: pattern(4, 1) });
  b.submit(d.head);
  b.w(REG_STATUS, 0);
  b.deferred.shift()!.run();
  assertEquals(b.dev.stats.writes, 2);
  assertEquals(store.bytes[5 * 512], 0, "the dropped write never reached the medium");
});

Deno.test("device: used element is written before used.idx", () => {
  const b = new Bench(new MemoryStore(64));
  b.start();
  const r1 = b.request(0, BLK_T_FLUSH, 0);
  const r2 = b.request(3, BLK_T_GET_ID, 0, { inLen: 20 });
  b.mem.writes.length = 0;
  b.submit(r1.head, r2.head);
  // Label each write to the used ring; consecutive writes to one element collapse into one.
  const labels: string[] = [];
  for (const w of b.mem.writes) {
    if (w.addr < b.used || w.addr >= b.used + 6 + 8 * b.num) continue;
    const label = w.addr === b.used + 2 ? "idx" : `elem${Math.floor((w.addr - b.used - 4) / 8)}`;
    if (labels[labels.length - 1] !== label) labels.push(label);
  }
  assertEquals(labels, ["elem0", "idx", "elem1", "idx"]);
});

Deno.test("device: FLUSH, GET_ID, IOERR past capacity, UNSUPP for unknown types", () => {
  const store = new MemoryStore(16);
  const b = new Bench(store, { id: "disk-0" });
  b.start();
  const fl = b.request(0, BLK_T_FLUSH, 0);
  b.submit(fl.head);
  assertEquals(b.statusOf(fl), BLK_S_OK);
  assertEquals(store.flushes, 1);

  const id = b.request(0, BLK_T_GET_ID, 0, { inLen: 20 });
  b.submit(id.head);
  assertEquals(b.statusOf(id), BLK_S_OK);
  const idBytes = new Uint8Array(20);
  idBytes.set(new TextEncoder().encode("disk-0"));
  assertEquals(b.mem.inner.read(id.data, 20), idBytes);
  assertEquals(b.usedElem(1).len, 21);

  const cases: [string, () => { status: number }, number][] = [
    ["IN at capacity", () => b.request(0, BLK_T_IN, 16, { inLen: 512 }), BLK_S_IOERR],
    ["IN straddling the end", () => b.request(0, BLK_T_IN, 15, { inLen: 1024 }), BLK_S_IOERR],
    ["OUT past capacity", () => b.request(0, BLK_T_OUT, 16, { out: pattern(1, 1) }), BLK_S_IOERR],
    [
      "OUT at sector 2^40",
      () => b.request(0, BLK_T_OUT, 2 ** 40, { out: pattern(1, 1) }),
      BLK_S_IOERR,
    ],
    [
      "OUT of 100 bytes",
      () => b.request(0, BLK_T_OUT, 0, { out: new Uint8Array(100) }),
      BLK_S_IOERR,
    ],
    ["IN of 700 bytes", () => b.request(0, BLK_T_IN, 0, { inLen: 700 }), BLK_S_IOERR],
    ["type 99", () => b.request(0, 99, 0), BLK_S_UNSUPP],
    ["DISCARD (11), not offered", () => b.request(0, 11, 0), BLK_S_UNSUPP],
  ];
  for (const [what, make, want] of cases) {
    const req = make();
    const before = b.usedIdx();
    b.submit(0);
    assertEquals(b.usedIdx(), (before + 1) & 0xffff, `${what}: completed`);
    assertEquals(b.statusOf(req), want, what);
  }
  assertEquals(store.bytes.every((x) => x === 0), true, "no failed OUT touched the medium");
  assertEquals(
    b.r(REG_STATUS) & STATUS_DEVICE_NEEDS_RESET,
    0,
    "request errors are not device errors",
  );
  assertEquals(b.dev.stats.ioErrors, 6);
  assertEquals(b.dev.stats.unsupported, 2);
});

Deno.test("device: a failing medium completes the request with IOERR", () => {
  const store = new FaultyStore(new MemoryStore(16), { readErrors: [3], writeErrors: [7] });
  const b = new Bench(store);
  b.start();
  const rd = b.request(0, BLK_T_IN, 2, { inLen: 1024 });
  b.submit(rd.head);
  assertEquals(b.statusOf(rd), BLK_S_IOERR);
  const wr = b.request(3, BLK_T_OUT, 7, { out: pattern(4, 1) });
  b.submit(wr.head);
  assertEquals(b.statusOf(wr), BLK_S_IOERR);
  assert(b.dev.lastError?.includes("injected write error"), b.dev.lastError);
  const ok = b.request(0, BLK_T_IN, 4, { inLen: 512 });
  b.submit(ok.head);
  assertEquals(b.statusOf(ok), BLK_S_OK, "the device keeps working");
});

Deno.test("device: NO_INTERRUPT in avail.flags suppresses the used-buffer interrupt", () => {
  const b = new Bench(new MemoryStore(16));
  b.start();
  b.mem.inner.write(b.avail, new Uint8Array([VIRTQ_AVAIL_F_NO_INTERRUPT, 0]));
  const r = b.request(0, BLK_T_FLUSH, 0);
  b.submit(r.head);
  assertEquals(b.usedIdx(), 1, "the request still completes");
  assertEquals(b.irqs, 0);
  assertEquals(b.r(REG_INTERRUPT_STATUS), 0);
});

Deno.test("device: ring indices wrap past 65535", () => {
  const store = new MemoryStore(64);
  // Ring fields in place (as with GuestMemory): 65,536 requests through copies took seconds.
  const b = new Bench(store, { queueNumMax: 256 }, 256, true);
  b.start();
  // Every descriptor triple holds the same flush request; heads cycle through the table.
  for (let i = 0; i + 2 < b.num; i += 3) b.request(i, BLK_T_FLUSH, 0);
  const heads = Array.from({ length: Math.floor(b.num / 3) }, (_, i) => 3 * i);
  const total = 65536 + 2 * heads.length + 7;
  let done = 0;
  while (done < total) {
    const n = Math.min(heads.length, total - done);
    b.submit(...heads.slice(0, n));
    done += n;
    assertEquals(b.usedIdx(), done & 0xffff, `used.idx after ${done} requests`);
  }
  assertEquals(store.flushes, total);
  assertEquals(b.dev.queueIndices, { lastAvail: total & 0xffff, usedIdx: total & 0xffff });
  // Data requests still work across the wrap.
  const data = pattern(9, 3);
  const wr = b.request(0, BLK_T_OUT, 5, { out: data });
  const rd = b.request(3, BLK_T_IN, 5, { inLen: 1536 });
  b.submit(wr.head, rd.head);
  assertEquals(b.statusOf(wr), BLK_S_OK);
  assertEquals(b.mem.inner.read(rd.data, 1536), data);
  assertEquals(b.r(REG_STATUS) & STATUS_DEVICE_NEEDS_RESET, 0);
});

Deno.test("device: avail.idx more than a queue ahead across the wrap => DEVICE_NEEDS_RESET", () => {
  const b = new Bench(new MemoryStore(64), { queueNumMax: 256 }, 256, true);
  b.start();
  for (let i = 0; i + 2 < b.num; i += 3) b.request(i, BLK_T_FLUSH, 0);
  const heads = Array.from({ length: Math.floor(b.num / 3) }, (_, i) => 3 * i);
  // Up to 10 requests short of the wrap, then an index past it by more than the queue holds.
  const upTo = 65536 - 10;
  for (let done = 0; done < upTo;) {
    const n = Math.min(heads.length, upTo - done);
    b.submit(...heads.slice(0, n));
    done += n;
  }
  assertEquals(b.dev.queueIndices, { lastAvail: upTo, usedIdx: upTo });
  b.setAvailIdx((upTo + b.num + 1) & 0xffff);
  b.w(REG_QUEUE_NOTIFY, 0);
  assert(b.r(REG_STATUS) & STATUS_DEVICE_NEEDS_RESET, `NEEDS_RESET (${b.dev.lastError})`);
  assertEquals(b.usedIdx(), upTo, "nothing past the bad index was processed");
});

// ---- malicious chains ----

interface Attack {
  name: string;
  /** Sets up the bad chain; returns the head to submit (or null when it submits itself). */
  build(b: Bench): number | null;
  opts?: VirtioBlkOptions;
}

const attacks: Attack[] = [
  {
    name: "self loop",
    build: (b) => {
      const hdr = b.mem.alloc(16, 16);
      b.setDesc(0, hdr, 16, VIRTQ_DESC_F_NEXT, 0);
      return 0;
    },
  },
  {
    name: "two-descriptor loop",
    build: (b) => {
      const hdr = b.mem.alloc(16, 16);
      b.setDesc(0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
      b.setDesc(1, hdr, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
      return 0;
    },
  },
  {
    name: "next index out of range",
    build: (b) => {
      const hdr = b.mem.alloc(16, 16);
      b.setDesc(0, hdr, 16, VIRTQ_DESC_F_NEXT, 500);
      return 0;
    },
  },
  { name: "head index out of range", build: () => 9999 },
  {
    name: "buffer beyond guest memory",
    build: (b) => {
      const r = b.request(0, BLK_T_IN, 0, { inLen: 512 });
      b.setDesc(1, (1 << 20) - 100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
      return r.head;
    },
  },
  {
    name: "64-bit buffer address",
    build: (b) => {
      const r = b.request(0, BLK_T_IN, 0, { inLen: 512 });
      b.setDesc(1, 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2, 1);
      return r.head;
    },
  },
  {
    name: "huge length",
    build: (b) => {
      const r = b.request(0, BLK_T_OUT, 0, { out: pattern(1, 1) });
      b.setDesc(1, 0x1000, 0xffffffff, VIRTQ_DESC_F_NEXT, 2);
      return r.head;
    },
  },
  {
    name: "missing status descriptor",
    build: (b) => {
      const hdr = b.mem.alloc(16, 16);
      b.setDesc(0, hdr, 16, 0);
      return 0;
    },
  },
  {
    name: "short header",
    build: (b) => {
      const r = b.request(0, BLK_T_FLUSH, 0);
      const hdr = b.mem.alloc(8, 8);
      b.setDesc(0, hdr, 8, VIRTQ_DESC_F_NEXT, 2);
      return r.head;
    },
  },
  {
    name: "readable after writable",
    build: (b) => {
      const r = b.request(0, BLK_T_IN, 0, { inLen: 512 });
      const st = b.mem.alloc(1, 1);
      b.setDesc(2, st, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
      b.setDesc(3, st, 1, 0);
      return r.head;
    },
  },
  {
    name: "indirect descriptor without the feature",
    build: (b) => {
      const table = b.mem.alloc(48, 16);
      b.setDesc(0, table, 48, VIRTQ_DESC_F_INDIRECT);
      return 0;
    },
  },
  {
    name: "chain longer than maxChainLength",
    opts: { maxChainLength: 4 },
    build: (b) => {
      const hdr = b.request(0, BLK_T_FLUSH, 0);
      const buf = b.mem.alloc(16, 16);
      b.setDesc(0, buf, 16, VIRTQ_DESC_F_NEXT, 1);
      for (let i = 1; i < 5; i++) b.setDesc(i, buf, 0, VIRTQ_DESC_F_NEXT, i + 1);
      b.setDesc(5, buf, 1, VIRTQ_DESC_F_WRITE);
      return hdr.head;
    },
  },
  {
    name: "avail.idx more than a queue ahead",
    build: (b) => {
      b.request(0, BLK_T_FLUSH, 0);
      b.setAvailIdx(b.num + 1);
      b.w(REG_QUEUE_NOTIFY, 0);
      return null;
    },
  },
];

for (const attack of attacks) {
  Deno.test(`device: malicious chain (${attack.name}) => DEVICE_NEEDS_RESET, no crash`, () => {
    const store = new MemoryStore(16);
    const b = new Bench(store, attack.opts, 16);
    b.start();
    // A good request first: it completes even though a bad chain follows in the same batch.
    const good = b.request(12, BLK_T_OUT, 1, { out: pattern(5, 1) });
    const head = attack.build(b);
    if (head !== null) b.submit(good.head, head);
    const status = b.r(REG_STATUS);
    assert(status & STATUS_DEVICE_NEEDS_RESET, `${attack.name}: NEEDS_RESET (${b.dev.lastError})`);
    assert(b.r(REG_INTERRUPT_STATUS) & INT_CONFIG_CHANGE, "config-change interrupt");
    assert(b.irqs >= 1, "interrupt raised");
    assert(b.dev.lastError, "the reason is recorded");
    if (head !== null) {
      assertEquals(b.usedIdx(), 1, "the good request before the bad chain completed");
      assertEquals(b.statusOf(good), BLK_S_OK);
    }

    // The queue is stopped: later notifies are ignored.
    const used = b.usedIdx();
    const later = b.request(9, BLK_T_FLUSH, 0);
    b.submit(later.head);
    assertEquals(b.usedIdx(), used, "no processing after NEEDS_RESET");

    // A reset brings the device back.
    b.w(REG_STATUS, 0);
    assertEquals(b.r(REG_STATUS), 0);
    assertEquals(b.dev.lastError, undefined);
    b.start();
    const rd = b.request(0, BLK_T_IN, 1, { inLen: 512 });
    b.submit(rd.head);
    assertEquals(b.statusOf(rd), BLK_S_OK);
    if (head !== null) assertEquals(b.mem.inner.read(rd.data, 512), pattern(5, 1));
  });
}
