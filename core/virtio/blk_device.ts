/**
 * The virtio-blk device model behind a virtio-mmio window (modern transport, Version 2).
 *
 * Register file per FORMATS.md "virtio-mmio": feature words through the select registers
 * (offering VIRTIO_F_VERSION_1, VIRTIO_BLK_F_FLUSH and VIRTIO_BLK_F_BLK_SIZE), one request queue
 * (queue 0), interrupt status/ack, status with reset on 0, and the blk config space. Requests are
 * processed synchronously when the driver notifies: each available chain is parsed as
 * header + data + status, served from the {@link BlockStore}, and returned through the used ring,
 * and the interrupt is raised once for the batch.
 *
 * Every well-formed request completes, with IOERR (sector range, medium failure, lengths that
 * are not whole sectors) or UNSUPP (unknown type) when it cannot succeed. A malformed chain
 * (see {@link ChainError}) sets DEVICE_NEEDS_RESET, raises a config-change interrupt and stops
 * the queue until the driver resets the device.
 *
 * `{ legacy: true }` presents Version 1 for testing a driver's refusal: it does not offer
 * VIRTIO_F_VERSION_1, so FEATURES_OK is never reached and the device never goes live (the legacy
 * page-based queue registers are not modelled).
 *
 * @module
 */

import type { DeviceReport, MmioDevice, MmioHost } from "../kernel/types.ts";
import {
  availRingSize,
  BLK_CFG_BLK_SIZE,
  BLK_CFG_CAPACITY,
  BLK_CFG_SIZE,
  BLK_ID_BYTES,
  BLK_REQ_HEADER_SIZE,
  BLK_S_IOERR,
  BLK_S_OK,
  BLK_S_UNSUPP,
  BLK_SECTOR_SIZE,
  BLK_T_FLUSH,
  BLK_T_GET_ID,
  BLK_T_IN,
  BLK_T_OUT,
  descTableSize,
  F_BLK_BLK_SIZE,
  F_BLK_FLUSH,
  F_VERSION_1,
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
  STATUS_DEVICE_NEEDS_RESET,
  STATUS_DRIVER,
  STATUS_DRIVER_OK,
  STATUS_FAILED,
  STATUS_FEATURES_OK,
  usedRingSize,
  VIRTIO_ID_BLOCK,
  VIRTIO_MAGIC,
  VIRTIO_VERSION_LEGACY,
  VIRTIO_VERSION_MODERN,
  VIRTQ_MAX_SIZE,
} from "./regs.ts";
import type { BlockStore } from "./store.ts";
import { type Chain, ChainError, Dma, gather, joinAddr, scatter, SplitQueue } from "./virtqueue.ts";

/** Options for {@link VirtioBlkMmio}. */
export interface VirtioBlkOptions {
  /** Present the legacy transport (Version 1) so a driver's refusal can be tested. */
  legacy?: boolean;
  /** QueueNumMax of the request queue: a power of two up to 32768 (default 256). */
  queueNumMax?: number;
  /** Most descriptors one chain may have (default: the queue size). */
  maxChainLength?: number;
  /** Device id string answered to GET_ID (at most 20 bytes of UTF-8; default "nexus-virtio-blk"). */
  id?: string;
  /** `blk_size` reported in the config space: a power of two >= 512 (default 512). */
  blkSize?: number;
}

/** Counters of what the device did. */
export interface VirtioBlkStats {
  /** Queue notifications received while live. */
  notifies: number;
  /** Requests completed (any status). */
  requests: number;
  /** Completed IN requests. */
  reads: number;
  /** Completed OUT requests. */
  writes: number;
  /** Completed FLUSH requests. */
  flushes: number;
  /** Completed GET_ID requests. */
  getIds: number;
  /** Requests completed with IOERR. */
  ioErrors: number;
  /** Requests completed with UNSUPP. */
  unsupported: number;
  /** Interrupts raised. */
  interrupts: number;
}

/** The feature bits this device offers (modern transport). */
export const VIRTIO_BLK_FEATURES: readonly number[] = [F_VERSION_1, F_BLK_FLUSH, F_BLK_BLK_SIZE];

interface QueueRegs {
  num: number;
  ready: boolean;
  descLo: number;
  descHi: number;
  driverLo: number;
  driverHi: number;
  deviceLo: number;
  deviceHi: number;
}

function emptyQueue(): QueueRegs {
  return {
    num: 0,
    ready: false,
    descLo: 0,
    descHi: 0,
    driverLo: 0,
    driverHi: 0,
    deviceLo: 0,
    deviceHi: 0,
  };
}

function featureWords(bits: readonly number[]): [number, number] {
  const words: [number, number] = [0, 0];
  for (const b of bits) words[b >> 5] = (words[b >> 5] | (1 << (b & 31))) >>> 0;
  return words;
}

/** Register names by offset, for traces. */
const REGISTER_NAMES: ReadonlyMap<number, string> = new Map([
  [REG_MAGIC, "MagicValue"],
  [REG_VERSION, "Version"],
  [REG_DEVICE_ID, "DeviceID"],
  [REG_VENDOR_ID, "VendorID"],
  [REG_DEVICE_FEATURES, "DeviceFeatures"],
  [REG_DEVICE_FEATURES_SEL, "DeviceFeaturesSel"],
  [REG_DRIVER_FEATURES, "DriverFeatures"],
  [REG_DRIVER_FEATURES_SEL, "DriverFeaturesSel"],
  [REG_QUEUE_SEL, "QueueSel"],
  [REG_QUEUE_NUM_MAX, "QueueNumMax"],
  [REG_QUEUE_NUM, "QueueNum"],
  [REG_QUEUE_READY, "QueueReady"],
  [REG_QUEUE_NOTIFY, "QueueNotify"],
  [REG_INTERRUPT_STATUS, "InterruptStatus"],
  [REG_INTERRUPT_ACK, "InterruptACK"],
  [REG_STATUS, "Status"],
  [REG_QUEUE_DESC_LOW, "QueueDescLow"],
  [REG_QUEUE_DESC_HIGH, "QueueDescHigh"],
  [REG_QUEUE_DRIVER_LOW, "QueueDriverLow"],
  [REG_QUEUE_DRIVER_HIGH, "QueueDriverHigh"],
  [REG_QUEUE_DEVICE_LOW, "QueueDeviceLow"],
  [REG_QUEUE_DEVICE_HIGH, "QueueDeviceHigh"],
  [REG_CONFIG_GENERATION, "ConfigGeneration"],
]);

/** Request type names, for traces. */
const REQUEST_NAMES: ReadonlyMap<number, string> = new Map([
  [BLK_T_IN, "in"],
  [BLK_T_OUT, "out"],
  [BLK_T_FLUSH, "flush"],
  [BLK_T_GET_ID, "get-id"],
]);

const STATUS_NAMES = ["ok", "ioerr", "unsupp"];

/** A request taken from the ring, waiting to be served. */
interface Taken {
  chain: Chain;
  type: number;
  sector: number;
  /** Its submit report (the completion repeats it with the status). */
  traced: DeviceReport;
}

function whyFailed(err: unknown): string {
  return err instanceof ChainError
    ? err.message
    : `queue processing failed: ${err instanceof Error ? err.message : String(err)}`;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** A virtio-blk device on a virtio-mmio window, backed by a {@link BlockStore}. */
export class VirtioBlkMmio implements MmioDevice {
  /** Device model name in traces. */
  readonly model = "virtio-blk";
  readonly #store: BlockStore;
  readonly #legacy: boolean;
  readonly #queueNumMax: number;
  readonly #maxChain: number | undefined;
  readonly #id: Uint8Array;
  readonly #offered: [number, number];
  readonly #config: Uint8Array;
  #host: MmioHost | undefined;
  /** Requests taken so far (the trace's request ids). */
  #requestSeq = 0;
  /** Virtual time until which the device is busy with deferred requests. */
  #busyUntil = 0;

  #status = 0;
  #deviceFeaturesSel = 0;
  #driverFeaturesSel = 0;
  #driverFeatures: [number, number] = [0, 0];
  #queueSel = 0;
  #queue: QueueRegs = emptyQueue();
  #ring: SplitQueue | undefined;
  #dma: Dma | undefined;
  #isr = 0;
  #lastError: string | undefined;
  #stats: VirtioBlkStats = {
    notifies: 0,
    requests: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    getIds: 0,
    ioErrors: 0,
    unsupported: 0,
    interrupts: 0,
  };

  /** Creates a device serving `store`. */
  constructor(store: BlockStore, opts: VirtioBlkOptions = {}) {
    const qmax = opts.queueNumMax ?? 256;
    if (!isPow2(qmax) || qmax > VIRTQ_MAX_SIZE) {
      throw new RangeError(`queueNumMax must be a power of two up to ${VIRTQ_MAX_SIZE}`);
    }
    const blkSize = opts.blkSize ?? BLK_SECTOR_SIZE;
    if (!isPow2(blkSize) || blkSize < BLK_SECTOR_SIZE) {
      throw new RangeError(`blkSize must be a power of two >= 512, got ${blkSize}`);
    }
    if (opts.maxChainLength !== undefined && !(opts.maxChainLength >= 2)) {
      throw new RangeError(`maxChainLength must be at least 2 (header + status)`);
    }
    const id = new TextEncoder().encode(opts.id ?? "nexus-virtio-blk");
    if (id.length > BLK_ID_BYTES) {
      throw new RangeError(`device id longer than ${BLK_ID_BYTES} bytes`);
    }
    this.#store = store;
    this.#legacy = opts.legacy ?? false;
    this.#queueNumMax = qmax;
    this.#maxChain = opts.maxChainLength;
    this.#id = new Uint8Array(BLK_ID_BYTES);
    this.#id.set(id);
    this.#offered = featureWords(
      this.#legacy ? VIRTIO_BLK_FEATURES.filter((b) => b !== F_VERSION_1) : VIRTIO_BLK_FEATURES,
    );
    this.#config = new Uint8Array(BLK_CFG_SIZE);
    const cfg = new DataView(this.#config.buffer);
    cfg.setBigUint64(BLK_CFG_CAPACITY, BigInt(store.sectors), true);
    cfg.setUint32(BLK_CFG_BLK_SIZE, blkSize, true);
  }

  /** Connects the device to the kernel's MMIO bus (interrupt line, DMA memory, clock). */
  attach(host: MmioHost): void {
    this.#host = host;
  }

  /** Counters of completed work (a copy). */
  get stats(): VirtioBlkStats {
    return { ...this.#stats };
  }

  /** Device status register. */
  get status(): number {
    return this.#status;
  }

  /** Why the device last refused something or asked for a reset; cleared by reset. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The device's avail/used indices while the queue is live (diagnostics, tests). */
  get queueIndices(): { lastAvail: number; usedIdx: number } | undefined {
    return this.#ring
      ? { lastAvail: this.#ring.lastAvail, usedIdx: this.#ring.usedIdx }
      : undefined;
  }

  /** The virtio-mmio register name at `offset` (config space as `config+N`), for traces. */
  registerName(offset: number): string | undefined {
    if (offset >= REG_CONFIG) return `config+${offset - REG_CONFIG}`;
    return REGISTER_NAMES.get(offset);
  }

  /** Reads a 32-bit register; unknown or write-only offsets read as 0. */
  read32(offset: number): number {
    if (offset >= REG_CONFIG) return this.#readConfig(offset - REG_CONFIG);
    switch (offset) {
      case REG_MAGIC:
        return VIRTIO_MAGIC;
      case REG_VERSION:
        return this.#legacy ? VIRTIO_VERSION_LEGACY : VIRTIO_VERSION_MODERN;
      case REG_DEVICE_ID:
        return VIRTIO_ID_BLOCK;
      case REG_VENDOR_ID:
        return NEXUS_VENDOR_ID;
      case REG_DEVICE_FEATURES:
        return this.#deviceFeaturesSel < 2 ? this.#offered[this.#deviceFeaturesSel] : 0;
      case REG_DEVICE_FEATURES_SEL:
        return this.#deviceFeaturesSel;
      case REG_DRIVER_FEATURES:
        return this.#driverFeaturesSel < 2 ? this.#driverFeatures[this.#driverFeaturesSel] : 0;
      case REG_DRIVER_FEATURES_SEL:
        return this.#driverFeaturesSel;
      case REG_QUEUE_SEL:
        return this.#queueSel;
      case REG_QUEUE_NUM_MAX:
        return this.#queueSel === 0 ? this.#queueNumMax : 0;
      case REG_QUEUE_NUM:
        return this.#queueSel === 0 ? this.#queue.num : 0;
      case REG_QUEUE_READY:
        return this.#queueSel === 0 && this.#queue.ready ? 1 : 0;
      case REG_INTERRUPT_STATUS:
        return this.#isr;
      case REG_STATUS:
        return this.#status;
      case REG_QUEUE_DESC_LOW:
        return this.#queueSel === 0 ? this.#queue.descLo : 0;
      case REG_QUEUE_DESC_HIGH:
        return this.#queueSel === 0 ? this.#queue.descHi : 0;
      case REG_QUEUE_DRIVER_LOW:
        return this.#queueSel === 0 ? this.#queue.driverLo : 0;
      case REG_QUEUE_DRIVER_HIGH:
        return this.#queueSel === 0 ? this.#queue.driverHi : 0;
      case REG_QUEUE_DEVICE_LOW:
        return this.#queueSel === 0 ? this.#queue.deviceLo : 0;
      case REG_QUEUE_DEVICE_HIGH:
        return this.#queueSel === 0 ? this.#queue.deviceHi : 0;
      case REG_CONFIG_GENERATION:
        // The blk config never changes while the device exists, so the generation stays 0.
        return 0;
      default:
        return 0;
    }
  }

  #readConfig(off: number): number {
    let v = 0;
    for (let i = 3; i >= 0; i--) {
      const at = off + i;
      v = (v << 8) | (at < this.#config.length ? this.#config[at] : 0);
    }
    return v >>> 0;
  }

  /** Writes a 32-bit register; writes to read-only or unknown offsets are ignored. */
  write32(offset: number, value: number): void {
    const v = value >>> 0;
    switch (offset) {
      case REG_DEVICE_FEATURES_SEL:
        this.#deviceFeaturesSel = v;
        return;
      case REG_DRIVER_FEATURES_SEL:
        this.#driverFeaturesSel = v;
        return;
      case REG_DRIVER_FEATURES:
        this.#writeDriverFeatures(v);
        return;
      case REG_QUEUE_SEL:
        this.#queueSel = v;
        return;
      case REG_QUEUE_NUM:
      case REG_QUEUE_DESC_LOW:
      case REG_QUEUE_DESC_HIGH:
      case REG_QUEUE_DRIVER_LOW:
      case REG_QUEUE_DRIVER_HIGH:
      case REG_QUEUE_DEVICE_LOW:
      case REG_QUEUE_DEVICE_HIGH:
        this.#writeQueueReg(offset, v);
        return;
      case REG_QUEUE_READY:
        this.#writeQueueReady(v);
        return;
      case REG_QUEUE_NOTIFY:
        if (v === 0) this.#notify();
        return;
      case REG_INTERRUPT_ACK:
        this.#isr = (this.#isr & ~v) >>> 0;
        return;
      case REG_STATUS:
        this.#writeStatus(v);
        return;
      default:
        return;
    }
  }

  #refuse(why: string): void {
    this.#lastError = why;
  }

  #writeDriverFeatures(v: number): void {
    // Features may only change between DRIVER and FEATURES_OK; afterwards they are frozen.
    if (!(this.#status & STATUS_DRIVER) || this.#status & STATUS_FEATURES_OK) {
      return this.#refuse("driver features written outside negotiation");
    }
    if (this.#driverFeaturesSel < 2) this.#driverFeatures[this.#driverFeaturesSel] = v;
  }

  #writeStatus(v: number): void {
    if (v === 0) return this.#reset();
    let next = (this.#status | (v & 0xff)) >>> 0;
    if (next & STATUS_FEATURES_OK && !(this.#status & STATUS_FEATURES_OK)) {
      const [lo, hi] = this.#driverFeatures;
      const extra = (lo & ~this.#offered[0]) | (hi & ~this.#offered[1]);
      const version1 = (hi & (1 << (F_VERSION_1 - 32))) !== 0;
      if (extra !== 0 || !version1) {
        next &= ~STATUS_FEATURES_OK;
        this.#refuse(
          !version1
            ? "FEATURES_OK refused: VIRTIO_F_VERSION_1 not accepted"
            : `FEATURES_OK refused: feature bits not offered`,
        );
      }
    }
    if (next & STATUS_DRIVER_OK && !(next & STATUS_FEATURES_OK)) {
      next &= ~STATUS_DRIVER_OK;
      this.#refuse("DRIVER_OK refused before FEATURES_OK");
    }
    if (next & STATUS_FAILED) this.#ring = undefined;
    this.#status = next;
  }

  #reset(): void {
    this.#status = 0;
    this.#deviceFeaturesSel = 0;
    this.#driverFeaturesSel = 0;
    this.#driverFeatures = [0, 0];
    this.#queueSel = 0;
    this.#queue = emptyQueue();
    this.#ring = undefined;
    this.#dma = undefined;
    this.#isr = 0;
    this.#lastError = undefined;
  }

  #writeQueueReg(offset: number, v: number): void {
    if (this.#queueSel !== 0) return this.#refuse(`queue ${this.#queueSel} does not exist`);
    // A live queue's geometry is fixed until it is disabled or the device is reset.
    if (this.#queue.ready) return this.#refuse("queue register written while the queue is ready");
    const q = this.#queue;
    switch (offset) {
      case REG_QUEUE_NUM:
        q.num = v;
        return;
      case REG_QUEUE_DESC_LOW:
        q.descLo = v;
        return;
      case REG_QUEUE_DESC_HIGH:
        q.descHi = v;
        return;
      case REG_QUEUE_DRIVER_LOW:
        q.driverLo = v;
        return;
      case REG_QUEUE_DRIVER_HIGH:
        q.driverHi = v;
        return;
      case REG_QUEUE_DEVICE_LOW:
        q.deviceLo = v;
        return;
      case REG_QUEUE_DEVICE_HIGH:
        q.deviceHi = v;
        return;
    }
  }

  #writeQueueReady(v: number): void {
    if (this.#queueSel !== 0) return this.#refuse(`queue ${this.#queueSel} does not exist`);
    const q = this.#queue;
    if (v === 0) {
      q.ready = false;
      this.#ring = undefined;
      return;
    }
    if (q.ready) return;
    const why = this.#queueProblem();
    if (why) return this.#refuse(`QueueReady refused: ${why}`);
    q.ready = true;
    this.#dma = new Dma(this.#host!.memory);
    this.#ring = new SplitQueue(this.#dma, {
      num: q.num,
      desc: joinAddr(q.descLo, q.descHi),
      avail: joinAddr(q.driverLo, q.driverHi),
      used: joinAddr(q.deviceLo, q.deviceHi),
    }, this.#maxChain);
  }

  /** Why the current queue registers cannot be made ready, or undefined when they can. */
  #queueProblem(): string | undefined {
    if (!this.#host) return "device not attached";
    if (!(this.#status & STATUS_FEATURES_OK)) return "features not negotiated (FEATURES_OK)";
    if (this.#status & (STATUS_FAILED | STATUS_DEVICE_NEEDS_RESET)) return "device needs reset";
    const q = this.#queue;
    if (!isPow2(q.num) || q.num > this.#queueNumMax) {
      return `queue size ${q.num} is not a power of two in 1..${this.#queueNumMax}`;
    }
    const dma = new Dma(this.#host.memory);
    const areas: [string, number, number, number][] = [
      ["descriptor table", joinAddr(q.descLo, q.descHi), descTableSize(q.num), 16],
      ["avail ring", joinAddr(q.driverLo, q.driverHi), availRingSize(q.num), 2],
      ["used ring", joinAddr(q.deviceLo, q.deviceHi), usedRingSize(q.num), 4],
    ];
    for (const [name, addr, size, align] of areas) {
      if (!dma.contains(addr, size)) return `${name} outside guest memory`;
      if (addr % align !== 0) return `${name} at 0x${addr.toString(16)} not ${align}-byte aligned`;
    }
    return undefined;
  }

  #notify(): void {
    const ring = this.#ring;
    if (!ring || !(this.#status & STATUS_DRIVER_OK) || this.#status & STATUS_DEVICE_NEEDS_RESET) {
      return;
    }
    this.#stats.notifies++;
    const delay = this.#host!.completionDelay();
    const taken: Taken[] = [];
    let failure: string | undefined;
    try {
      for (let chain = ring.pop(); chain; chain = ring.pop()) taken.push(this.#take(chain));
    } catch (err) {
      failure = whyFailed(err);
    }
    if (delay <= 0 || failure !== undefined) {
      // At once: what a malformed chain interrupts is completed first, as a device would.
      this.#complete(ring, taken, failure);
      return;
    }
    // In a seeded simulation the device takes time; requests still complete in order.
    const now = this.#host!.now();
    const at = Math.max(now + delay, this.#busyUntil);
    this.#busyUntil = at;
    this.#host!.after(at - now, () => {
      // A reset (or failure) in the meantime dropped the queue and what was in flight.
      if (this.#ring === ring) this.#complete(ring, taken, undefined);
    });
  }

  /** Serves `taken` in order, returns each through the used ring, and interrupts once. */
  #complete(ring: SplitQueue, taken: Taken[], failure: string | undefined): void {
    let completed = 0;
    try {
      for (const t of taken) {
        ring.push(t.chain.head, this.#serve(t));
        completed++;
      }
    } catch (err) {
      failure = whyFailed(err);
    }
    if (failure !== undefined) {
      // Whatever the driver put in the rings, the device stops and asks for a reset, never throws.
      this.#needsReset(failure, completed);
      return;
    }
    if (completed > 0 && !ring.interruptsSuppressed()) this.#interrupt(INT_USED_BUFFER);
  }

  #needsReset(why: string, completed: number): void {
    this.#lastError = why;
    this.#status |= STATUS_DEVICE_NEEDS_RESET;
    this.#ring = undefined;
    this.#interrupt(completed > 0 ? INT_CONFIG_CHANGE | INT_USED_BUFFER : INT_CONFIG_CHANGE);
  }

  #interrupt(bits: number): void {
    this.#isr |= bits;
    this.#stats.interrupts++;
    this.#host!.raiseIrq();
  }

  /** Takes a request: checks the chain's shape, reads its header, reports the submission. */
  #take(chain: Chain): Taken {
    if (chain.readLen < BLK_REQ_HEADER_SIZE) {
      throw new ChainError(`chain ${chain.head}: request header missing or short`);
    }
    if (chain.writeLen < 1) throw new ChainError(`chain ${chain.head}: status byte missing`);
    const hdr = gather(this.#dma!, chain.readable, 0, BLK_REQ_HEADER_SIZE);
    const hv = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
    const type = hv.getUint32(0, true);
    const sector = joinAddr(hv.getUint32(8, true), hv.getUint32(12, true));
    const req = ++this.#requestSeq;
    const op = REQUEST_NAMES.get(type) ?? `type-${type}`;
    const bytes = type === BLK_T_OUT ? chain.readLen - BLK_REQ_HEADER_SIZE : chain.writeLen - 1;
    const traced: DeviceReport = type === BLK_T_IN || type === BLK_T_OUT
      ? {
        phase: "submit",
        device: this.model,
        req,
        op,
        sector,
        count: Math.floor(bytes / BLK_SECTOR_SIZE),
      }
      : { phase: "submit", device: this.model, req, op };
    this.#host!.trace(traced);
    return { chain, type, sector, traced };
  }

  /** Serves one taken request; returns the bytes written into the chain's writable buffers. */
  #serve(taken: Taken): number {
    const { chain, type, sector, traced } = taken;
    const mem = this.#dma!;
    const dataOut = chain.readLen - BLK_REQ_HEADER_SIZE;
    const dataIn = chain.writeLen - 1;
    let status: number = BLK_S_OK;
    let written = 0;
    try {
      switch (type) {
        case BLK_T_IN: {
          this.#stats.reads++;
          const count = this.#sectors(dataIn, sector);
          if (count < 0) status = BLK_S_IOERR;
          else {
            const seg = chain.writable[0];
            if (this.#store.readInto && mem.live && seg.len >= dataIn) {
              // The data lands in the guest buffer directly, without an intermediate copy.
              this.#store.readInto(sector, mem.view(seg.addr, dataIn));
            } else {
              scatter(mem, chain.writable, 0, this.#store.read(sector, count));
            }
            written = dataIn;
          }
          break;
        }
        case BLK_T_OUT: {
          this.#stats.writes++;
          const count = this.#sectors(dataOut, sector);
          if (count < 0) status = BLK_S_IOERR;
          else {
            this.#store.write(sector, gather(mem, chain.readable, BLK_REQ_HEADER_SIZE, dataOut));
          }
          break;
        }
        case BLK_T_FLUSH:
          this.#stats.flushes++;
          this.#store.flush();
          break;
        case BLK_T_GET_ID: {
          this.#stats.getIds++;
          const n = Math.min(dataIn, BLK_ID_BYTES);
          scatter(mem, chain.writable, 0, this.#id.subarray(0, n));
          written = n;
          break;
        }
        default:
          status = BLK_S_UNSUPP;
      }
    } catch (err) {
      // A failing medium fails the request, never the device.
      status = BLK_S_IOERR;
      this.#lastError = `request ${type} at sector ${sector}: ${
        err instanceof Error ? err.message : String(err)
      }`;
    }
    if (status === BLK_S_IOERR) this.#stats.ioErrors++;
    if (status === BLK_S_UNSUPP) this.#stats.unsupported++;
    this.#stats.requests++;
    this.#host!.trace({
      ...traced,
      phase: "complete",
      status: STATUS_NAMES[status] ?? String(status),
    });
    // The status is the last byte of the last non-empty writable buffer.
    for (let i = chain.writable.length - 1; i >= 0; i--) {
      const seg = chain.writable[i];
      if (seg.len === 0) continue;
      mem.setU8(seg.addr + seg.len - 1, status);
      break;
    }
    return written + 1;
  }

  /** Sectors covered by a `bytes`-long transfer at `sector`, or -1 when it cannot be served. */
  #sectors(bytes: number, sector: number): number {
    if (bytes % BLK_SECTOR_SIZE !== 0 || !Number.isSafeInteger(sector)) return -1;
    const count = bytes / BLK_SECTOR_SIZE;
    return sector + count <= this.#store.sectors ? count : -1;
  }
}
