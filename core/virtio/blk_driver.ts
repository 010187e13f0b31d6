/**
 * The virtio-blk driver that runs inside a simulated task (statefsd) and reaches the device only
 * through its syscalls: `mmioRead32`/`mmioWrite32` on the MMIO cap, `dmaAlloc`/`memRead`/
 * `memWrite` for the rings and buffers, and `irqWait` (or polling) for completions.
 *
 * Probe: magic and version check, reset, ACKNOWLEDGE|DRIVER, feature negotiation (VERSION_1 and
 * FLUSH are required, BLK_SIZE is taken when offered), FEATURES_OK verified, request queue set
 * up in DMA memory, DRIVER_OK. Requests are header + data + status chains built on fixed
 * descriptor triples; a large transfer is split into several requests put in flight together
 * with one notify. Completion waits on the interrupt (or polls) with a virtual-time deadline.
 * Any status other than OK is a typed error, never a silent success.
 *
 * The driver is a {@link BlockDevice} over the whole disk (blockSize 512, blockCount =
 * capacity); StateFS runs on a partition of it through `SubBlockDevice`. Calls may be issued
 * concurrently: they are serialized, since a task issues one syscall at a time.
 *
 * Console markers: `virtio-blk: mmio modern` after the version check and
 * `blk: virtio-blk up (ss=512 nsec=<sectors>)` once probed; `virtio-blk: mmio legacy
 * unsupported` when the device is legacy (probe then rejects and the caller reports the failure).
 *
 * @module
 */

import { KernelError, type Syscalls } from "../kernel/types.ts";
import { type BlockDevice, BlockDeviceError } from "../statefs/block_device.ts";
import { VirtioError } from "./errors.ts";
import {
  availRingSize,
  BLK_CFG_BLK_SIZE,
  BLK_CFG_CAPACITY,
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
  REG_VERSION,
  STATUS_ACKNOWLEDGE,
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
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
} from "./regs.ts";

/** Options for {@link VirtioBlkDriver.probe}. */
export interface ProbeOptions {
  /** Virtual time (ns) a batch of requests may take before it fails with TIMEOUT (default 1 s). */
  deadlineNs?: number;
  /** Poll the used ring instead of waiting for the interrupt (interrupts are then suppressed). */
  poll?: boolean;
  /** Virtual sleep between polls (default 1000 ns). */
  pollIntervalNs?: number;
  /** Queue size to use, capped by QueueNumMax and rounded down to a power of two (default 64). */
  queueSize?: number;
  /**
   * Most requests in flight at once (default 16, so that one batch moves 1 MiB; at most a third of
   * the queue size).
   */
  maxInFlight?: number;
  /** Largest request in sectors; larger transfers are split (default 128 = 64 KiB). */
  maxSectorsPerRequest?: number;
}

/** Counters of the driver's work. */
export interface DriverStats {
  /** Requests completed. */
  requests: number;
  /** Queue notifications written. */
  notifies: number;
  /** Interrupt waits that returned. */
  interrupts: number;
  /** Polls of the used ring that found nothing. */
  idlePolls: number;
}

interface Slot {
  /** Header (16 bytes) then the status byte at +16. */
  hdr: number;
  /**
   * Data buffer of `maxSectors * 512` bytes. The slots' buffers follow each other in one
   * allocation, so a batch of consecutive sectors lands contiguously in guest memory and is read
   * out with one copy.
   */
  data: number;
}

interface Request {
  type: number;
  sector: number;
  /** OUT payload. */
  out?: Uint8Array;
  /** Bytes the device writes back (IN, GET_ID). */
  inLen?: number;
}

interface Completion {
  error?: Error;
}

const REQ_NAMES: Record<number, string> = {
  [BLK_T_IN]: "IN",
  [BLK_T_OUT]: "OUT",
  [BLK_T_FLUSH]: "FLUSH",
  [BLK_T_GET_ID]: "GET_ID",
};

function u16(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff]);
}

function hi32(addr: number): number {
  return Math.floor(addr / 0x1_0000_0000);
}

function floorPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** A virtio-blk driver instance bound to one task and one MMIO cap. */
export class VirtioBlkDriver implements BlockDevice {
  /** Bytes per block: virtio-blk sectors are always 512 bytes. */
  readonly blockSize: number = BLK_SECTOR_SIZE;
  /** The disk's capacity in sectors. */
  readonly blockCount: number;
  /** `blk_size` from the config space when negotiated, else 512. */
  readonly deviceBlockSize: number;
  /** Queue size in use. */
  readonly queueSize: number;

  readonly #sys: Syscalls;
  readonly #slot: number;
  readonly #deadlineNs: number;
  readonly #poll: boolean;
  readonly #pollIntervalNs: number;
  readonly #maxSectors: number;
  readonly #desc: number;
  readonly #avail: number;
  readonly #used: number;
  readonly #slots: Slot[];
  #availIdx = 0;
  #lastUsed = 0;
  #lock: Promise<unknown> = Promise.resolve();
  /** Calls issued and not finished yet. */
  #queued = 0;
  #broken: VirtioError | undefined;
  #closed = false;
  #stats: DriverStats = { requests: 0, notifies: 0, interrupts: 0, idlePolls: 0 };
  // Scratch buffers reused for every request (memWrite copies them into guest memory).
  readonly #hdr = new Uint8Array(BLK_REQ_HEADER_SIZE + 1);
  readonly #hdrView = new DataView(this.#hdr.buffer);
  readonly #descs = new Uint8Array(3 * VIRTQ_DESC_SIZE);
  readonly #descView = new DataView(this.#descs.buffer);
  readonly #u16 = new Uint8Array(2);
  // Scratch buffers the completions are read into (used.idx, a used element, a status byte).
  readonly #idx = new Uint8Array(2);
  readonly #elem = new Uint8Array(8);
  readonly #elemView = new DataView(this.#elem.buffer);
  readonly #status = new Uint8Array(1);

  private constructor(init: {
    sys: Syscalls;
    slot: number;
    capacity: number;
    blkSize: number;
    num: number;
    desc: number;
    avail: number;
    used: number;
    slots: Slot[];
    maxSectors: number;
    opts: ProbeOptions;
  }) {
    this.#sys = init.sys;
    this.#slot = init.slot;
    this.blockCount = init.capacity;
    this.deviceBlockSize = init.blkSize;
    this.queueSize = init.num;
    this.#desc = init.desc;
    this.#avail = init.avail;
    this.#used = init.used;
    this.#slots = init.slots;
    this.#maxSectors = init.maxSectors;
    this.#deadlineNs = init.opts.deadlineNs ?? 1_000_000_000;
    this.#poll = init.opts.poll ?? false;
    this.#pollIntervalNs = init.opts.pollIntervalNs ?? 1000;
  }

  /**
   * Finds and initializes the virtio-blk device behind the MMIO cap in `mmioSlot`, printing the
   * probe markers. Rejects with {@link VirtioError} when the device is not a usable modern
   * virtio-blk device (the device is then left FAILED), or with the kernel's error when the
   * cap itself is unusable.
   */
  static async probe(
    sys: Syscalls,
    mmioSlot: number,
    opts: ProbeOptions = {},
  ): Promise<VirtioBlkDriver> {
    const rd = (off: number) => sys.mmioRead32(mmioSlot, off);
    const wr = (off: number, v: number) => sys.mmioWrite32(mmioSlot, off, v);

    const magic = await rd(REG_MAGIC);
    if (magic !== VIRTIO_MAGIC) {
      throw new VirtioError(
        "BAD_MAGIC",
        `virtio-mmio magic 0x${magic.toString(16)} != 0x${VIRTIO_MAGIC.toString(16)}`,
      );
    }
    const version = await rd(REG_VERSION);
    if (version === VIRTIO_VERSION_LEGACY) {
      sys.print("virtio-blk: mmio legacy unsupported");
      throw new VirtioError("LEGACY_UNSUPPORTED", "virtio-mmio legacy transport (Version 1)");
    }
    if (version !== VIRTIO_VERSION_MODERN) {
      throw new VirtioError("BAD_VERSION", `virtio-mmio version ${version} unknown`);
    }
    sys.print("virtio-blk: mmio modern");
    const deviceId = await rd(REG_DEVICE_ID);
    if (deviceId !== VIRTIO_ID_BLOCK) {
      throw new VirtioError("NOT_BLOCK", `virtio device id ${deviceId} is not a block device`);
    }

    await wr(REG_STATUS, 0);
    if ((await rd(REG_STATUS)) !== 0) {
      throw new VirtioError("RESET_FAILED", "device status not 0 after reset");
    }
    let status = STATUS_ACKNOWLEDGE;
    await wr(REG_STATUS, status);
    status |= STATUS_DRIVER;
    await wr(REG_STATUS, status);

    const fail = async (err: VirtioError): Promise<never> => {
      await wr(REG_STATUS, status | STATUS_FAILED);
      throw err;
    };

    await wr(REG_DEVICE_FEATURES_SEL, 0);
    const offeredLo = await rd(REG_DEVICE_FEATURES);
    await wr(REG_DEVICE_FEATURES_SEL, 1);
    const offeredHi = await rd(REG_DEVICE_FEATURES);
    const v1Bit = 1 << (F_VERSION_1 - 32);
    const missing = [
      ...(offeredHi & v1Bit ? [] : ["VIRTIO_F_VERSION_1"]),
      ...(offeredLo & (1 << F_BLK_FLUSH) ? [] : ["VIRTIO_BLK_F_FLUSH"]),
    ];
    if (missing.length > 0) {
      return await fail(
        new VirtioError("MISSING_FEATURE", `device lacks ${missing.join(" and ")}`),
      );
    }
    const hasBlkSize = (offeredLo & (1 << F_BLK_BLK_SIZE)) !== 0;
    const acceptLo = ((1 << F_BLK_FLUSH) | (hasBlkSize ? 1 << F_BLK_BLK_SIZE : 0)) >>> 0;
    await wr(REG_DRIVER_FEATURES_SEL, 0);
    await wr(REG_DRIVER_FEATURES, acceptLo);
    await wr(REG_DRIVER_FEATURES_SEL, 1);
    await wr(REG_DRIVER_FEATURES, v1Bit);
    status |= STATUS_FEATURES_OK;
    await wr(REG_STATUS, status);
    if (!((await rd(REG_STATUS)) & STATUS_FEATURES_OK)) {
      status &= ~STATUS_FEATURES_OK;
      return await fail(new VirtioError("FEATURES_REJECTED", "device refused FEATURES_OK"));
    }

    // Config reads are retried until ConfigGeneration is stable across them (spec 4.2.2.2).
    let capacity = NaN;
    let blkSize = BLK_SECTOR_SIZE;
    for (let attempt = 0;; attempt++) {
      if (attempt === 8) {
        return await fail(new VirtioError("BAD_CONFIG", "config generation never settled"));
      }
      const gen = await rd(REG_CONFIG_GENERATION);
      const lo = await rd(REG_CONFIG + BLK_CFG_CAPACITY);
      const hi = await rd(REG_CONFIG + BLK_CFG_CAPACITY + 4);
      if (hasBlkSize) blkSize = await rd(REG_CONFIG + BLK_CFG_BLK_SIZE);
      if ((await rd(REG_CONFIG_GENERATION)) !== gen) continue;
      capacity = hi * 0x1_0000_0000 + lo;
      break;
    }
    if (!Number.isSafeInteger(capacity) || capacity === 0) {
      return await fail(new VirtioError("BAD_CONFIG", `unusable capacity ${capacity}`));
    }

    await wr(REG_QUEUE_SEL, 0);
    if ((await rd(REG_QUEUE_READY)) !== 0) {
      return await fail(new VirtioError("QUEUE_SETUP", "queue 0 already in use after reset"));
    }
    const numMax = await rd(REG_QUEUE_NUM_MAX);
    const num = floorPow2(Math.min(numMax, opts.queueSize ?? 64));
    if (numMax === 0 || num < 4) {
      return await fail(new VirtioError("QUEUE_SETUP", `queue 0 too small (max ${numMax})`));
    }
    const maxSectors = opts.maxSectorsPerRequest ?? 128;
    if (!Number.isInteger(maxSectors) || maxSectors < 1) {
      throw new RangeError(`maxSectorsPerRequest must be a positive integer`);
    }
    const inFlight = Math.max(1, Math.min(opts.maxInFlight ?? 16, Math.floor(num / 3)));

    const desc = sys.dmaAlloc(descTableSize(num), 16);
    const avail = sys.dmaAlloc(availRingSize(num), 2);
    const used = sys.dmaAlloc(usedRingSize(num), 4);
    sys.memWrite(desc, new Uint8Array(descTableSize(num)));
    const availInit = new Uint8Array(availRingSize(num));
    if (opts.poll) availInit.set(u16(VIRTQ_AVAIL_F_NO_INTERRUPT), 0);
    sys.memWrite(avail, availInit);
    sys.memWrite(used, new Uint8Array(usedRingSize(num)));
    const slots: Slot[] = [];
    const stride = maxSectors * BLK_SECTOR_SIZE; // >= BLK_ID_BYTES
    const data = sys.dmaAlloc(inFlight * stride, 16);
    for (let i = 0; i < inFlight; i++) {
      slots.push({ hdr: sys.dmaAlloc(BLK_REQ_HEADER_SIZE + 16, 16), data: data + i * stride });
    }

    await wr(REG_QUEUE_NUM, num);
    await wr(REG_QUEUE_DESC_LOW, desc >>> 0);
    await wr(REG_QUEUE_DESC_HIGH, hi32(desc));
    await wr(REG_QUEUE_DRIVER_LOW, avail >>> 0);
    await wr(REG_QUEUE_DRIVER_HIGH, hi32(avail));
    await wr(REG_QUEUE_DEVICE_LOW, used >>> 0);
    await wr(REG_QUEUE_DEVICE_HIGH, hi32(used));
    await wr(REG_QUEUE_READY, 1);
    if ((await rd(REG_QUEUE_READY)) !== 1) {
      return await fail(new VirtioError("QUEUE_SETUP", "device refused QueueReady"));
    }

    status |= STATUS_DRIVER_OK;
    await wr(REG_STATUS, status);
    const after = await rd(REG_STATUS);
    if (!(after & STATUS_DRIVER_OK) || after & STATUS_DEVICE_NEEDS_RESET) {
      return await fail(
        new VirtioError("DRIVER_OK_REJECTED", `device status 0x${after.toString(16)}`),
      );
    }

    const driver = new VirtioBlkDriver({
      sys,
      slot: mmioSlot,
      capacity,
      blkSize,
      num,
      desc,
      avail,
      used,
      slots,
      maxSectors,
      opts,
    });
    sys.print(`blk: virtio-blk up (ss=${BLK_SECTOR_SIZE} nsec=${capacity})`);
    return driver;
  }

  /** Counters of the driver's work (a copy). */
  get stats(): DriverStats {
    return { ...this.#stats };
  }

  /** Requests the driver can have in flight at once. */
  get maxInFlight(): number {
    return this.#slots.length;
  }

  /**
   * Reads `count` blocks from `block`. A read of at most one batch (`maxInFlight` requests) is
   * copied out of guest memory once, into the buffer returned.
   */
  read(block: number, count: number): Promise<Uint8Array> {
    return this.#serial(async () => {
      this.#checkRange(block, count);
      const reqs = this.#inRequests(block, count);
      if (reqs.length <= this.#slots.length) {
        await this.#exec(reqs);
        return this.#sys.memRead(this.#slots[0].data, count * BLK_SECTOR_SIZE);
      }
      const out = new Uint8Array(count * BLK_SECTOR_SIZE);
      await this.#exec(reqs, (first, bytes) => this.#copyOut(out, first, bytes));
      return out;
    });
  }

  /**
   * Reads `out.length / 512` blocks from `block` into `out`: each batch is copied from guest
   * memory straight into its place, with no buffer of the driver's own.
   */
  readInto(block: number, out: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      if (out.length % BLK_SECTOR_SIZE !== 0) {
        throw new BlockDeviceError("BAD_LENGTH", `read of ${out.length} bytes is not whole blocks`);
      }
      const count = out.length / BLK_SECTOR_SIZE;
      this.#checkRange(block, count);
      await this.#exec(
        this.#inRequests(block, count),
        (first, bytes) => this.#copyOut(out, first, bytes),
      );
    });
  }

  /** IN requests covering `count` blocks from `block`, each at most `maxSectors`. */
  #inRequests(block: number, count: number): Request[] {
    const reqs: Request[] = [];
    for (let s = block; s < block + count; s += this.#maxSectors) {
      const n = Math.min(this.#maxSectors, block + count - s);
      reqs.push({ type: BLK_T_IN, sector: s, inLen: n * BLK_SECTOR_SIZE });
    }
    return reqs;
  }

  /** Copies a completed batch's data (`bytes` from the first slot on) to `out` at `at`. */
  #copyOut(out: Uint8Array, at: number, bytes: number): void {
    this.#sys.memReadInto(this.#slots[0].data, out.subarray(at, at + bytes));
  }

  /** Writes `data` (whole blocks) at `block`. Durable only after {@link sync}. */
  write(block: number, data: Uint8Array): Promise<void> {
    // The bytes written are those of the moment of the call: an idle driver copies the first
    // batch into DMA memory before returning to the caller; otherwise it takes a snapshot.
    const oneBatch = this.#slots.length * this.#maxSectors * BLK_SECTOR_SIZE;
    if (this.#queued > 0 || data.length > oneBatch) data = data.slice();
    return this.#serial(async () => {
      if (data.length % BLK_SECTOR_SIZE !== 0) {
        throw new BlockDeviceError(
          "BAD_LENGTH",
          `write of ${data.length} bytes is not whole blocks`,
        );
      }
      const count = data.length / BLK_SECTOR_SIZE;
      this.#checkRange(block, count);
      const reqs: Request[] = [];
      for (let s = block; s < block + count; s += this.#maxSectors) {
        const n = Math.min(this.#maxSectors, block + count - s);
        const at = (s - block) * BLK_SECTOR_SIZE;
        reqs.push({ type: BLK_T_OUT, sector: s, out: data.subarray(at, at + n * BLK_SECTOR_SIZE) });
      }
      await this.#exec(reqs);
    });
  }

  /** Issues FLUSH: every completed write is durable when this resolves. */
  sync(): Promise<void> {
    return this.#serial(async () => {
      this.#checkOpen();
      await this.#exec([{ type: BLK_T_FLUSH, sector: 0 }]);
    });
  }

  /** Asks the device for its id string (GET_ID, 20 bytes, NUL-padded). */
  getId(): Promise<string> {
    return this.#serial(async () => {
      this.#checkOpen();
      await this.#exec([{ type: BLK_T_GET_ID, sector: 0, inLen: BLK_ID_BYTES }]);
      const bytes = this.#sys.memRead(this.#slots[0].data, BLK_ID_BYTES);
      const end = bytes.indexOf(0);
      return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
    });
  }

  /** Resets the device and stops the driver; later calls fail with CLOSED. Idempotent. */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#sys.mmioWrite32(this.#slot, REG_STATUS, 0);
    });
  }

  /** Runs calls one at a time; an idle driver starts `fn` synchronously. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const idle = this.#queued === 0;
    this.#queued++;
    const run = (idle ? fn() : this.#lock.then(fn, fn)).finally(() => this.#queued--);
    this.#lock = run.catch(() => {});
    return run;
  }

  #checkOpen(): void {
    if (this.#closed) throw new BlockDeviceError("CLOSED", "virtio-blk driver is closed");
    if (this.#broken) throw this.#broken;
  }

  #checkRange(block: number, count: number): void {
    this.#checkOpen();
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new BlockDeviceError("BAD_LENGTH", `bad block count ${count}`);
    }
    if (!Number.isSafeInteger(block) || block < 0 || block + count > this.blockCount) {
      throw new BlockDeviceError(
        "OUT_OF_RANGE",
        `blocks ${block}..${block + count} outside a disk of ${this.blockCount}`,
      );
    }
  }

  /**
   * Runs requests in batches of at most `maxInFlight`; throws the first failure. After each
   * batch, `drain(offset, bytes)` may copy out its data (what the batch read lies contiguously from
   * the first slot; `offset` is the batch's byte offset in the whole transfer) before the next
   * batch reuses the slots.
   */
  async #exec(reqs: Request[], drain?: (offset: number, bytes: number) => void): Promise<void> {
    let offset = 0;
    for (let i = 0; i < reqs.length; i += this.#slots.length) {
      const batch = reqs.slice(i, i + this.#slots.length);
      let done: Completion[];
      try {
        done = await this.#batch(batch);
      } catch (err) {
        if (err instanceof VirtioError) {
          this.#broken = err;
          throw err;
        }
        if (err instanceof KernelError) {
          this.#broken = new VirtioError("KERNEL_ERROR", `${err.code}: ${err.message}`);
          throw this.#broken;
        }
        throw err;
      }
      const failed = done.find((c) => c.error);
      if (failed) throw failed.error;
      if (drain) {
        let bytes = 0;
        for (const r of batch) bytes += r.inLen ?? 0;
        drain(offset, bytes);
        offset += bytes;
      }
    }
  }

  /** Posts `batch` (one request per slot), notifies once, and waits for every completion. */
  async #batch(batch: Request[]): Promise<Completion[]> {
    const sys = this.#sys;
    const num = this.queueSize;
    const hdr = this.#hdr;
    const hv = this.#hdrView;
    const dv = this.#descView;
    const put = (k: number, addr: number, len: number, flags: number, next: number) => {
      const at = k * VIRTQ_DESC_SIZE;
      dv.setUint32(at, addr >>> 0, true);
      dv.setUint32(at + 4, hi32(addr), true);
      dv.setUint32(at + 8, len, true);
      dv.setUint16(at + 12, flags, true);
      dv.setUint16(at + 14, next, true);
    };
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i];
      const slot = this.#slots[i];
      hv.setUint32(0, r.type, true);
      hv.setUint32(4, 0, true);
      hv.setUint32(8, r.sector >>> 0, true);
      hv.setUint32(12, hi32(r.sector), true);
      hdr[BLK_REQ_HEADER_SIZE] = 0xff; // a device that never writes the status cannot pass as OK
      sys.memWrite(slot.hdr, hdr);
      const dataLen = r.out?.length ?? r.inLen ?? 0;
      if (r.out) sys.memWrite(slot.data, r.out);
      const head = 3 * i;
      if (dataLen > 0) {
        put(0, slot.hdr, BLK_REQ_HEADER_SIZE, VIRTQ_DESC_F_NEXT, head + 1);
        put(1, slot.data, dataLen, VIRTQ_DESC_F_NEXT | (r.out ? 0 : VIRTQ_DESC_F_WRITE), head + 2);
      } else {
        put(0, slot.hdr, BLK_REQ_HEADER_SIZE, VIRTQ_DESC_F_NEXT, head + 2);
        put(1, 0, 0, 0, 0);
      }
      put(2, slot.hdr + BLK_REQ_HEADER_SIZE, 1, VIRTQ_DESC_F_WRITE, 0);
      sys.memWrite(this.#desc + head * VIRTQ_DESC_SIZE, this.#descs);
      sys.memWrite(this.#avail + 4 + 2 * (this.#availIdx % num), this.#le16(head));
      this.#availIdx = (this.#availIdx + 1) & 0xffff;
    }
    // The ring entries are in place before the index that publishes them.
    sys.memWrite(this.#avail + 2, this.#le16(this.#availIdx));
    await sys.mmioWrite32(this.#slot, REG_QUEUE_NOTIFY, 0);
    this.#stats.notifies++;

    const results: (Completion | undefined)[] = new Array(batch.length);
    let remaining = batch.length;
    const deadline = sys.now() + this.#deadlineNs;
    for (;;) {
      remaining -= this.#reap(batch, results);
      if (remaining === 0) break;
      if (this.#poll) {
        this.#stats.idlePolls++;
        await this.#checkNeedsReset();
        if (sys.now() >= deadline) throw this.#timeout(remaining);
        await sys.sleep(this.#pollIntervalNs);
        continue;
      }
      try {
        await sys.irqWait(this.#slot, { deadline });
      } catch (err) {
        if (err instanceof KernelError && err.code === "TIMED_OUT") throw this.#timeout(remaining);
        throw err;
      }
      this.#stats.interrupts++;
      const isr = await sys.mmioRead32(this.#slot, REG_INTERRUPT_STATUS);
      if (isr !== 0) await sys.mmioWrite32(this.#slot, REG_INTERRUPT_ACK, isr);
      if (isr & INT_CONFIG_CHANGE) await this.#checkNeedsReset();
    }
    return results as Completion[];
  }

  #le16(v: number): Uint8Array {
    this.#u16[0] = v & 0xff;
    this.#u16[1] = (v >>> 8) & 0xff;
    return this.#u16;
  }

  #timeout(remaining: number): VirtioError {
    return new VirtioError(
      "TIMEOUT",
      `${remaining} request(s) not completed within ${this.#deadlineNs} ns`,
    );
  }

  async #checkNeedsReset(): Promise<void> {
    const st = await this.#sys.mmioRead32(this.#slot, REG_STATUS);
    if (st & STATUS_DEVICE_NEEDS_RESET) {
      throw new VirtioError("DEVICE_NEEDS_RESET", "device set DEVICE_NEEDS_RESET");
    }
  }

  /** Consumes new used elements; returns how many requests of `batch` completed. */
  #reap(batch: Request[], results: (Completion | undefined)[]): number {
    const sys = this.#sys;
    const num = this.queueSize;
    const idxBytes = this.#idx;
    sys.memReadInto(this.#used + 2, idxBytes);
    const usedIdx = idxBytes[0] | (idxBytes[1] << 8);
    let n = 0;
    while (this.#lastUsed !== usedIdx) {
      sys.memReadInto(this.#used + 4 + 8 * (this.#lastUsed % num), this.#elem);
      const ev = this.#elemView;
      const id = ev.getUint32(0, true);
      const len = ev.getUint32(4, true);
      this.#lastUsed = (this.#lastUsed + 1) & 0xffff;
      const i = id / 3;
      if (!Number.isInteger(i) || i >= batch.length || results[i]) {
        throw new VirtioError("BAD_COMPLETION", `device returned unknown buffer id ${id}`);
      }
      results[i] = this.#complete(batch[i], this.#slots[i], len);
      this.#stats.requests++;
      n++;
    }
    return n;
  }

  #complete(r: Request, slot: Slot, usedLen: number): Completion {
    const sys = this.#sys;
    sys.memReadInto(slot.hdr + BLK_REQ_HEADER_SIZE, this.#status);
    const status = this.#status[0];
    const what = `${REQ_NAMES[r.type] ?? `type ${r.type}`} at sector ${r.sector}`;
    switch (status) {
      case BLK_S_OK:
        break;
      case BLK_S_IOERR:
        return { error: new BlockDeviceError("IO_ERROR", `virtio-blk: I/O error on ${what}`) };
      case BLK_S_UNSUPP:
        return { error: new VirtioError("UNSUPPORTED", `virtio-blk: ${what} unsupported`) };
      default:
        return {
          error: new VirtioError("BAD_COMPLETION", `virtio-blk: ${what} status ${status}`),
        };
    }
    if (r.inLen === undefined) return {};
    // The used length counts the data and the status byte the device wrote.
    if (usedLen < r.inLen + 1) {
      return {
        error: new VirtioError(
          "BAD_COMPLETION",
          `virtio-blk: ${what} returned ${usedLen - 1} of ${r.inLen} bytes`,
        ),
      };
    }
    return {};
  }
}
