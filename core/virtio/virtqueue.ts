/**
 * The device side of a split virtqueue, on guest memory laid out as the virtio 1.x spec says
 * (virtio 1.x, "Split Virtqueues"): it pops descriptor chains from the avail ring and returns them
 * through the used ring.
 *
 * Nothing the driver writes can crash the device: a chain that loops, points outside guest
 * memory, is longer than allowed, uses an unnegotiated indirect table or puts a readable buffer
 * after a writable one raises {@link ChainError}; the device then stops processing and asks for
 * a reset.
 *
 * @module
 */

import type { PhysMemory } from "../kernel/types.ts";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
} from "./regs.ts";

/** A malformed descriptor chain or ring: the device must stop and request a reset. */
export class ChainError extends Error {
  /** Creates an error describing what the driver got wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ChainError";
  }
}

/** One buffer of a chain. */
export interface Segment {
  /** Guest-physical address. */
  addr: number;
  /** Length in bytes. */
  len: number;
}

/** A descriptor chain, split into its device-readable and device-writable buffers. */
export interface Chain {
  /** Index of the head descriptor (the id returned in the used ring). */
  head: number;
  /** Device-readable buffers, in chain order. */
  readable: Segment[];
  /** Device-writable buffers, in chain order (all after the readable ones). */
  writable: Segment[];
  /** Total readable bytes. */
  readLen: number;
  /** Total writable bytes. */
  writeLen: number;
}

/** Joins the low and high halves of a 64-bit guest address; NaN when it cannot be exact. */
export function joinAddr(low: number, high: number): number {
  const v = (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
  return Number.isSafeInteger(v) ? v : NaN;
}

/** Guest memory that can lend a live view of its bytes (GuestMemory does). */
interface ViewableMemory extends PhysMemory {
  view(addr: number, len: number): Uint8Array;
}

function canView(mem: PhysMemory): mem is ViewableMemory {
  return typeof (mem as Partial<ViewableMemory>).view === "function";
}

/**
 * Little-endian access to guest memory for device models. When the memory lends views, ring
 * fields are read and written in place, without allocating per access; otherwise every access
 * goes through `read`/`write`. Every access is bounds-checked.
 */
export class Dma {
  /** The memory accessed. */
  readonly mem: PhysMemory;
  readonly #bytes: Uint8Array | undefined;
  readonly #dv: DataView | undefined;

  /** Wraps `mem`. */
  constructor(mem: PhysMemory) {
    this.mem = mem;
    if (canView(mem)) {
      this.#bytes = mem.view(0, mem.size);
      this.#dv = new DataView(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.byteLength);
    }
  }

  /** True when {@link view} returns live views of guest memory rather than copies. */
  get live(): boolean {
    return this.#bytes !== undefined;
  }

  /** True when `[addr, addr + len)` lies in guest memory. */
  contains(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && addr >= 0 && len >= 0 && addr + len <= this.mem.size;
  }

  #check(addr: number, len: number): void {
    if (!this.contains(addr, len)) {
      throw new RangeError(`DMA of ${len} bytes at 0x${addr.toString(16)} outside guest memory`);
    }
  }

  /** Reads a u16. */
  u16(addr: number): number {
    if (this.#dv) {
      this.#check(addr, 2);
      return this.#dv.getUint16(addr, true);
    }
    const b = this.mem.read(addr, 2);
    return b[0] | (b[1] << 8);
  }

  /** Reads a u32. */
  u32(addr: number): number {
    if (this.#dv) {
      this.#check(addr, 4);
      return this.#dv.getUint32(addr, true);
    }
    const b = this.mem.read(addr, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  /** Writes a u8. */
  setU8(addr: number, v: number): void {
    if (this.#bytes) {
      this.#check(addr, 1);
      this.#bytes[addr] = v;
    } else this.mem.write(addr, new Uint8Array([v]));
  }

  /** Writes a u16. */
  setU16(addr: number, v: number): void {
    if (this.#dv) {
      this.#check(addr, 2);
      this.#dv.setUint16(addr, v, true);
    } else this.mem.write(addr, new Uint8Array([v & 0xff, (v >>> 8) & 0xff]));
  }

  /** Writes a u32. */
  setU32(addr: number, v: number): void {
    if (this.#dv) {
      this.#check(addr, 4);
      this.#dv.setUint32(addr, v, true);
    } else {
      this.mem.write(
        addr,
        new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]),
      );
    }
  }

  /** `len` bytes at `addr`: a live view when the memory lends one, else a copy. */
  view(addr: number, len: number): Uint8Array {
    if (this.#bytes) {
      this.#check(addr, len);
      return this.#bytes.subarray(addr, addr + len);
    }
    return this.mem.read(addr, len);
  }

  /** Writes `data` at `addr`. */
  write(addr: number, data: Uint8Array): void {
    this.mem.write(addr, data);
  }
}

/**
 * Returns `len` bytes starting `skip` bytes into the concatenation of `segs` of guest memory.
 * The caller guarantees the range lies within the segments. When the range lies in one segment
 * and the memory lends views, the result aliases guest memory (no copy): consume it before the
 * guest runs again.
 */
export function gather(dma: Dma, segs: Segment[], skip: number, len: number): Uint8Array {
  let rel = skip;
  for (const s of segs) {
    if (rel >= s.len) {
      rel -= s.len;
      continue;
    }
    if (rel + len <= s.len) return dma.view(s.addr + rel, len);
    break;
  }
  const out = new Uint8Array(len);
  let pos = 0;
  let off = skip;
  for (const s of segs) {
    if (pos === len) break;
    if (off >= s.len) {
      off -= s.len;
      continue;
    }
    const n = Math.min(s.len - off, len - pos);
    out.set(dma.view(s.addr + off, n), pos);
    pos += n;
    off = 0;
  }
  return out;
}

/**
 * Copies `data` into guest memory starting `skip` bytes into the concatenation of `segs`.
 * The caller guarantees the range lies within the segments.
 */
export function scatter(dma: Dma, segs: Segment[], skip: number, data: Uint8Array): void {
  let pos = 0;
  let off = skip;
  for (const s of segs) {
    if (pos === data.length) break;
    if (off >= s.len) {
      off -= s.len;
      continue;
    }
    const n = Math.min(s.len - off, data.length - pos);
    dma.write(s.addr + off, n === data.length ? data : data.subarray(pos, pos + n));
    pos += n;
    off = 0;
  }
}

/** Geometry of a split virtqueue. */
export interface QueueLayout {
  /** Queue size (a power of two). */
  num: number;
  /** Guest address of the descriptor table. */
  desc: number;
  /** Guest address of the avail (driver) ring. */
  avail: number;
  /** Guest address of the used (device) ring. */
  used: number;
}

/** The device's view of one split virtqueue. */
export class SplitQueue {
  readonly #dma: Dma;
  readonly #q: QueueLayout;
  readonly #maxChain: number;
  /** Per-descriptor stamp of the walk that last visited it (loop detection without allocating). */
  readonly #seen: Uint32Array;
  #walkId = 0;
  #lastAvail = 0;
  #usedIdx = 0;

  /**
   * Wraps a queue the driver made ready. `maxChain` bounds the descriptors of one chain
   * (at most the queue size).
   */
  constructor(dma: Dma, layout: QueueLayout, maxChain = layout.num) {
    this.#dma = dma;
    this.#q = layout;
    this.#maxChain = Math.min(maxChain, layout.num);
    this.#seen = new Uint32Array(layout.num);
  }

  /** The device's next avail index to consume (16-bit). */
  get lastAvail(): number {
    return this.#lastAvail;
  }

  /** The used index the device last published (16-bit). */
  get usedIdx(): number {
    return this.#usedIdx;
  }

  /** True when the driver set VIRTQ_AVAIL_F_NO_INTERRUPT. */
  interruptsSuppressed(): boolean {
    return (this.#dma.u16(this.#q.avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0;
  }

  /** Chains the driver made available and the device has not consumed yet. */
  pending(): number {
    const idx = this.#dma.u16(this.#q.avail + 2);
    const n = (idx - this.#lastAvail) & 0xffff;
    if (n > this.#q.num) {
      throw new ChainError(
        `avail.idx ${idx} is ${n} ahead of the device (${this.#lastAvail}), more than the queue size ${this.#q.num}`,
      );
    }
    return n;
  }

  /** Pops the next available chain, or null when none is pending. */
  pop(): Chain | null {
    if (this.pending() === 0) return null;
    const { num, avail } = this.#q;
    const head = this.#dma.u16(avail + 4 + 2 * (this.#lastAvail % num));
    const chain = this.#walk(head);
    this.#lastAvail = (this.#lastAvail + 1) & 0xffff;
    return chain;
  }

  #walk(head: number): Chain {
    const { num, desc } = this.#q;
    const dma = this.#dma;
    const chain: Chain = { head, readable: [], writable: [], readLen: 0, writeLen: 0 };
    this.#walkId = (this.#walkId + 1) >>> 0;
    if (this.#walkId === 0) {
      this.#seen.fill(0);
      this.#walkId = 1;
    }
    let idx = head;
    let count = 0;
    for (;;) {
      if (idx >= num) {
        throw new ChainError(`descriptor index ${idx} out of range (queue size ${num})`);
      }
      if (this.#seen[idx] === this.#walkId) {
        throw new ChainError(`descriptor loop at ${idx} in chain ${head}`);
      }
      if (count === this.#maxChain) {
        throw new ChainError(`chain ${head} longer than ${this.#maxChain} descriptors`);
      }
      this.#seen[idx] = this.#walkId;
      count++;
      const at = desc + VIRTQ_DESC_SIZE * idx;
      const addr = joinAddr(dma.u32(at), dma.u32(at + 4));
      const len = dma.u32(at + 8);
      const flags = dma.u16(at + 12);
      const next = dma.u16(at + 14);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        throw new ChainError(`descriptor ${idx}: INDIRECT without VIRTIO_F_INDIRECT_DESC`);
      }
      if (!dma.contains(addr, len)) {
        throw new ChainError(
          `descriptor ${idx}: buffer 0x${addr.toString(16)}+${len} outside guest memory`,
        );
      }
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writable.push({ addr, len });
        chain.writeLen += len;
      } else {
        if (chain.writable.length > 0) {
          throw new ChainError(`descriptor ${idx}: device-readable buffer after a writable one`);
        }
        chain.readable.push({ addr, len });
        chain.readLen += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      idx = next;
    }
  }

  /** Returns chain `head` to the driver: writes the used element, then advances `used.idx`. */
  push(head: number, written: number): void {
    const { num, used } = this.#q;
    const at = used + 4 + 8 * (this.#usedIdx % num);
    this.#dma.setU32(at, head);
    this.#dma.setU32(at + 4, written);
    this.#usedIdx = (this.#usedIdx + 1) & 0xffff;
    this.#dma.setU16(used + 2, this.#usedIdx);
  }
}
