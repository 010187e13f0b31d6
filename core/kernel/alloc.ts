/**
 * Small byte buffers carved from shared slabs. Creating an `ArrayBuffer` costs the runtime
 * several hundred nanoseconds whatever its size (a backing store per buffer), which made every
 * frame copy and every decoded field one of the largest costs of a step; a view into a slab
 * costs a tenth of that.
 *
 * A buffer handed out here is zero-filled and never handed out again, exactly like a fresh
 * `new Uint8Array(n)`, except that its `buffer` is shared with other small buffers (so code
 * must honour `byteOffset`, as every typed-array view must). Views start 8-aligned. A slab is
 * small ({@link SLAB_BYTES}) so a retained small buffer pins little memory; buffers larger than
 * {@link SLAB_MAX} get their own `ArrayBuffer`.
 *
 * @module
 */

/** Bytes per slab. */
export const SLAB_BYTES = 4096;
/** Largest buffer served from a slab; larger ones get their own `ArrayBuffer`. */
export const SLAB_MAX = 512;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A zero-filled buffer of `n` bytes (a slab view when small). */
export function allocBytes(n: number): Uint8Array {
  if (n > SLAB_MAX || n < 0 || !Number.isInteger(n)) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  // The constructor makes a view for about half what `subarray` costs (no species lookup).
  const view = new Uint8Array(slab.buffer, used, n);
  used = (used + n + 7) & ~7;
  return view;
}

/** A private copy of `src` (a slab view when small). */
export function copyBytes(src: Uint8Array): Uint8Array {
  const n = src.length;
  if (n > SLAB_MAX) return src.slice();
  const out = allocBytes(n);
  out.set(src);
  return out;
}
