/**
 * The device side of a split virtqueue, on guest memory laid out as the virtio 1.x spec says
 * (FORMATS.md "Split virtqueue"): it pops descriptor chains from the avail ring and returns them
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

/** Reads a little-endian u16 of guest memory. */
export function readU16(mem: PhysMemory, addr: number): number {
  const b = mem.read(addr, 2);
  return b[0] | (b[1] << 8);
}

/** Writes a little-endian u16 to guest memory. */
export function writeU16(mem: PhysMemory, addr: number, v: number): void {
  mem.write(addr, new Uint8Array([v & 0xff, (v >>> 8) & 0xff]));
}

/** Joins the low and high halves of a 64-bit guest address; NaN when it cannot be exact. */
export function joinAddr(low: number, high: number): number {
  const v = (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
  return Number.isSafeInteger(v) ? v : NaN;
}

/** True when `[addr, addr + len)` lies in guest memory. */
export function inMemory(mem: PhysMemory, addr: number, len: number): boolean {
  return Number.isSafeInteger(addr) && addr >= 0 && len >= 0 && addr + len <= mem.size;
}

/**
 * Copies `len` bytes starting `skip` bytes into the concatenation of `segs` out of guest memory.
 * The caller guarantees the range lies within the segments.
 */
export function gather(mem: PhysMemory, segs: Segment[], skip: number, len: number): Uint8Array {
  if (segs.length > 0 && skip + len <= segs[0].len) return mem.read(segs[0].addr + skip, len);
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
    out.set(mem.read(s.addr + off, n), pos);
    pos += n;
    off = 0;
  }
  return out;
}

/**
 * Copies `data` into guest memory starting `skip` bytes into the concatenation of `segs`.
 * The caller guarantees the range lies within the segments.
 */
export function scatter(mem: PhysMemory, segs: Segment[], skip: number, data: Uint8Array): void {
  let pos = 0;
  let off = skip;
  for (const s of segs) {
    if (pos === data.length) break;
    if (off >= s.len) {
      off -= s.len;
      continue;
    }
    const n = Math.min(s.len - off, data.length - pos);
    mem.write(s.addr + off, data.subarray(pos, pos + n));
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
  readonly #mem: PhysMemory;
  readonly #q: QueueLayout;
  readonly #maxChain: number;
  #lastAvail = 0;
  #usedIdx = 0;

  /**
   * Wraps a queue the driver made ready. `maxChain` bounds the descriptors of one chain
   * (at most the queue size).
   */
  constructor(mem: PhysMemory, layout: QueueLayout, maxChain = layout.num) {
    this.#mem = mem;
    this.#q = layout;
    this.#maxChain = Math.min(maxChain, layout.num);
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
    return (readU16(this.#mem, this.#q.avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0;
  }

  /** Chains the driver made available and the device has not consumed yet. */
  pending(): number {
    const idx = readU16(this.#mem, this.#q.avail + 2);
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
    const head = readU16(this.#mem, avail + 4 + 2 * (this.#lastAvail % num));
    const chain = this.#walk(head);
    this.#lastAvail = (this.#lastAvail + 1) & 0xffff;
    return chain;
  }

  #walk(head: number): Chain {
    const { num, desc } = this.#q;
    const chain: Chain = { head, readable: [], writable: [], readLen: 0, writeLen: 0 };
    const seen = new Uint8Array(num);
    let idx = head;
    let count = 0;
    for (;;) {
      if (idx >= num) {
        throw new ChainError(`descriptor index ${idx} out of range (queue size ${num})`);
      }
      if (seen[idx]) throw new ChainError(`descriptor loop at ${idx} in chain ${head}`);
      if (count === this.#maxChain) {
        throw new ChainError(`chain ${head} longer than ${this.#maxChain} descriptors`);
      }
      seen[idx] = 1;
      count++;
      const d = this.#mem.read(desc + VIRTQ_DESC_SIZE * idx, VIRTQ_DESC_SIZE);
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const addr = joinAddr(v.getUint32(0, true), v.getUint32(4, true));
      const len = v.getUint32(8, true);
      const flags = v.getUint16(12, true);
      const next = v.getUint16(14, true);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        throw new ChainError(`descriptor ${idx}: INDIRECT without VIRTIO_F_INDIRECT_DESC`);
      }
      if (!inMemory(this.#mem, addr, len)) {
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
    const elem = new Uint8Array(8);
    const v = new DataView(elem.buffer);
    v.setUint32(0, head, true);
    v.setUint32(4, written, true);
    this.#mem.write(used + 4 + 8 * (this.#usedIdx % num), elem);
    this.#usedIdx = (this.#usedIdx + 1) & 0xffff;
    writeU16(this.#mem, used + 2, this.#usedIdx);
  }
}
