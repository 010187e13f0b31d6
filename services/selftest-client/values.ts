/**
 * The values the self-test writes and the comparison that checks them, kept fast because the
 * large-journal proof builds and compares megabytes of them on every boot.
 *
 * @example
 * ```ts
 * import { equalBytes, largeValue } from "./values.ts";
 * equalBytes(largeValue(3, 1), largeValue(3, 1)); // true
 * equalBytes(largeValue(3, 1), largeValue(3, 2)); // false
 * ```
 *
 * @module
 */

/** Bytes of each value of the large-journal proof. */
export const LARGE_VALUE_BYTES = 8000;

const enc = new TextEncoder();

/** True when `a` and `b` hold the same bytes (four at a time when both views allow it). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let i = 0;
  if ((a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0) {
    const words = n >> 2;
    const wa = new Int32Array(a.buffer, a.byteOffset, words);
    const wb = new Int32Array(b.buffer, b.byteOffset, words);
    for (let j = 0; j < words; j++) if (wa[j] !== wb[j]) return false;
    i = words << 2;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The generator: x' = A*x + C (mod 2^32), one output byte (x >>> 24) per step. Four interleaved
// chains each jump four steps at once (x'''' = A4*x + C4), so the four multiplications of a word
// do not wait on each other; the bytes come out in the same order as one step at a time.
const A = 1664525;
const C = 1013904223;
const A2 = Math.imul(A, A);
const A3 = Math.imul(A2, A);
const A4 = Math.imul(A3, A);
const C4 = Math.imul(C, (A3 + A2 + A + 1) | 0);
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The value of large key `i` written by boot `boot`: distinct per key and per boot. */
export function largeValue(i: number, boot: number): Uint8Array {
  const out = new Uint8Array(LARGE_VALUE_BYTES);
  const seed = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(boot, 0x85ebca6b);
  let x0 = (Math.imul(seed, A) + C) | 0;
  let k = 0;
  if (LITTLE_ENDIAN) {
    let x1 = (Math.imul(x0, A) + C) | 0;
    let x2 = (Math.imul(x1, A) + C) | 0;
    let x3 = (Math.imul(x2, A) + C) | 0;
    const words = new Uint32Array(out.buffer, 0, out.length >> 2);
    for (let m = 0; m < words.length; m++) {
      words[m] = (x0 >>> 24) | ((x1 >>> 24) << 8) | ((x2 >>> 24) << 16) | ((x3 >>> 24) << 24);
      x0 = (Math.imul(x0, A4) + C4) | 0;
      x1 = (Math.imul(x1, A4) + C4) | 0;
      x2 = (Math.imul(x2, A4) + C4) | 0;
      x3 = (Math.imul(x3, A4) + C4) | 0;
    }
    k = words.length << 2;
  }
  for (; k < out.length; k++) {
    out[k] = x0 >>> 24;
    x0 = (Math.imul(x0, A) + C) | 0;
  }
  out.set(enc.encode(`large ${i} boot ${boot}`));
  return out;
}
