/**
 * A minimal guest-physical memory for kernel tests and small simulations: a flat byte array
 * with a bump allocator. The full guest memory of the virtio work lives in core/virtio.
 *
 * @module
 */

import type { PhysMemory } from "./types.ts";

/** Flat guest-physical memory with a bump allocator; out-of-range access throws RangeError. */
export class SimpleMemory implements PhysMemory {
  readonly #bytes: Uint8Array;
  #next: number;

  /**
   * Creates `size` bytes of zeroed memory. Allocation starts at `base` (default 0x1000) so
   * that address 0 is never handed out.
   */
  constructor(readonly size: number, base = 0x1000) {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`bad memory size ${size}`);
    if (!Number.isInteger(base) || base < 0 || base > size) {
      throw new RangeError(`bad allocation base ${base}`);
    }
    this.#bytes = new Uint8Array(size);
    this.#next = base;
  }

  #check(addr: number, len: number): void {
    if (
      !Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 ||
      addr + len > this.size
    ) {
      throw new RangeError(`memory access out of range: 0x${addr.toString(16)}+${len}`);
    }
  }

  /** Reads `len` bytes at `addr` (a copy). */
  read(addr: number, len: number): Uint8Array {
    this.#check(addr, len);
    return this.#bytes.slice(addr, addr + len);
  }

  /** Writes `data` at `addr`. */
  write(addr: number, data: Uint8Array): void {
    this.#check(addr, data.length);
    this.#bytes.set(data, addr);
  }

  /** Allocates `size` bytes aligned to `align` (a power of two); throws RangeError when full. */
  alloc(size: number, align: number): number {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`bad allocation size ${size}`);
    if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) {
      throw new RangeError(`alignment must be a power of two: ${align}`);
    }
    const addr = Math.ceil(this.#next / align) * align;
    if (addr + size > this.size) {
      throw new RangeError(`out of memory: ${size} bytes requested, ${this.size - addr} left`);
    }
    this.#next = addr + size;
    return addr;
  }
}
