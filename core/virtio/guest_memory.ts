/**
 * Simulated guest-physical memory: a bounded byte space with bounds-checked access and a bump
 * allocator for DMA buffers. The kernel hands allocations to drivers (`dmaAlloc`); devices reach
 * the same bytes by DMA through {@link MmioHost.memory}. Nothing is ever freed: drivers allocate
 * their rings and buffers once, at probe time.
 *
 * The bytes live in a resizable `ArrayBuffer` that grows (in place, so every view stays valid) to
 * cover the highest address used so far: a boot touches a few hundred KiB of its 8 MiB, and a
 * process that boots many times (a campaign, the tests) would otherwise zero 8 MiB per boot.
 *
 * @module
 */

import { MMIO_BASE, type PhysMemory } from "../kernel/types.ts";

/** Stable codes for guest memory failures. */
export type GuestMemoryErrorCode = "OUT_OF_RANGE" | "OUT_OF_MEMORY" | "BAD_ARGUMENT";

/** A guest memory access or allocation failure with a stable code. */
export class GuestMemoryError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: GuestMemoryErrorCode, message: string) {
    super(message);
    this.name = "GuestMemoryError";
  }
}

/** Options for {@link GuestMemory}. */
export interface GuestMemoryOptions {
  /**
   * First address the allocator hands out (default 0x1000). Address 0 is never returned so a
   * zero (unset) descriptor address cannot alias a real buffer.
   */
  allocBase?: number;
}

/** Smallest growth of the backing buffer. */
const GROW_STEP = 64 * 1024;

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Bounded guest-physical memory starting at address 0. */
export class GuestMemory implements PhysMemory {
  /** Total size in bytes. */
  readonly size: number;
  // Length-tracking view of a resizable buffer with `size` as its limit; grown by #cover.
  readonly #bytes: Uint8Array;
  #next: number;

  /**
   * Creates `size` bytes of zeroed memory. The size must stay below the MMIO windows
   * (`MMIO_BASE`) so RAM and device registers never overlap.
   */
  constructor(size: number, opts: GuestMemoryOptions = {}) {
    if (!Number.isInteger(size) || size <= 0 || size > MMIO_BASE) {
      throw new GuestMemoryError(
        "BAD_ARGUMENT",
        `guest memory size must be an integer in 1..${MMIO_BASE}, got ${size}`,
      );
    }
    const base = opts.allocBase ?? 0x1000;
    if (!Number.isInteger(base) || base < 1 || base > size) {
      throw new GuestMemoryError("BAD_ARGUMENT", `allocBase ${base} outside 1..${size}`);
    }
    this.size = size;
    this.#bytes = new Uint8Array(new ArrayBuffer(0, { maxByteLength: size }));
    this.#next = base;
  }

  /** Bytes handed out so far, including alignment padding (from address 0). */
  get allocated(): number {
    return this.#next;
  }

  /** True when `[addr, addr + len)` lies inside the memory. */
  contains(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0 && len >= 0 &&
      addr + len <= this.size;
  }

  #check(addr: number, len: number, what: string): void {
    if (!this.contains(addr, len)) {
      throw new GuestMemoryError(
        "OUT_OF_RANGE",
        `${what} of ${len} bytes at 0x${addr.toString(16)} outside guest memory (size 0x${
          this.size.toString(16)
        })`,
      );
    }
    if (addr + len > this.#bytes.length) this.#cover(addr + len);
  }

  /** Grows the backing buffer to cover `[0, end)`, at least doubling, in 64 KiB steps. */
  #cover(end: number): void {
    const buffer = this.#bytes.buffer as ArrayBuffer;
    const want = Math.max(end, 2 * buffer.byteLength, GROW_STEP);
    buffer.resize(Math.min(this.size, Math.ceil(want / GROW_STEP) * GROW_STEP));
  }

  /** Reads a copy of `len` bytes at `addr`; throws OUT_OF_RANGE outside the memory. */
  read(addr: number, len: number): Uint8Array {
    this.#check(addr, len, "read");
    return this.#bytes.slice(addr, addr + len);
  }

  /** Reads `out.length` bytes at `addr` into `out`; throws OUT_OF_RANGE outside the memory. */
  readInto(addr: number, out: Uint8Array): void {
    this.#check(addr, out.length, "read");
    out.set(this.#bytes.subarray(addr, addr + out.length));
  }

  /**
   * A live view of `len` bytes at `addr` (no copy): the DMA fast path of device models, which
   * consume the bytes before the guest runs again. Throws OUT_OF_RANGE outside the memory.
   */
  view(addr: number, len: number): Uint8Array {
    this.#check(addr, len, "view");
    return this.#bytes.subarray(addr, addr + len);
  }

  /** Writes `data` at `addr`; throws OUT_OF_RANGE outside the memory (nothing is written). */
  write(addr: number, data: Uint8Array): void {
    this.#check(addr, data.length, "write");
    this.#bytes.set(data, addr);
  }

  /**
   * Allocates `size` zeroed bytes aligned to `align` (a power of two); returns the address.
   * Throws OUT_OF_MEMORY when the memory is exhausted, BAD_ARGUMENT on a bad size or alignment.
   */
  alloc(size: number, align = 16): number {
    if (!Number.isInteger(size) || size <= 0) {
      throw new GuestMemoryError("BAD_ARGUMENT", `allocation size must be positive, got ${size}`);
    }
    if (!isPow2(align)) {
      throw new GuestMemoryError("BAD_ARGUMENT", `alignment must be a power of two, got ${align}`);
    }
    const addr = Math.ceil(this.#next / align) * align;
    if (addr + size > this.size) {
      throw new GuestMemoryError(
        "OUT_OF_MEMORY",
        `cannot allocate ${size} bytes (aligned ${align}): ${this.size - this.#next} bytes left`,
      );
    }
    this.#next = addr + size;
    return addr;
  }
}
