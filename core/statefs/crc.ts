/**
 * Table-driven CRC-32 in two flavours: CRC32-C (Castagnoli), which frames every StateFS journal
 * record and the NXS2 superblock, and CRC-32/IEEE, which GPT headers and entry arrays use.
 *
 * Both use slicing-by-16 (sixteen 256-entry tables, sixteen input bytes per step) because record
 * checksums are a large share of journal replay time. The input is read four bytes at a time
 * once aligned, and the tables are signed 32-bit so every entry stays a small integer for the
 * JIT (an unsigned entry above 2^31 would be a boxed double).
 *
 * Chaining: `crcX(b, crcX(a))` equals `crcX(a ++ b)`; the `seed` is a previous result, not the
 * raw register, so the default of 0 is the standard initial value 0xFFFFFFFF.
 *
 * @module
 */

const SLICES = 16;

function makeTables(poly: number): Int32Array {
  const t = new Int32Array(SLICES * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < SLICES; k++) {
      const prev = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
}

const CASTAGNOLI = makeTables(0x82f63b78);
const IEEE = makeTables(0xedb88320);

/** Words are read in the platform's byte order; the word path assumes little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function update(
  t: Int32Array,
  seed: number,
  data: Uint8Array,
  start = 0,
  n = data.length,
): number {
  let c = ~seed;
  let i = start;
  while (i < n && ((data.byteOffset + i) & 3) !== 0) c = t[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  const end16 = n - ((n - i) & 15);
  if (LITTLE_ENDIAN && i < end16) {
    const w = new Int32Array(data.buffer, data.byteOffset + i, (end16 - i) >> 2);
    for (let j = 0; j < w.length; j += 4) {
      const a = c ^ w[j];
      const b = w[j + 1];
      const d = w[j + 2];
      const e = w[j + 3];
      c = t[3840 + (a & 0xff)] ^ t[3584 + ((a >>> 8) & 0xff)] ^ t[3328 + ((a >>> 16) & 0xff)] ^
        t[3072 + (a >>> 24)] ^ t[2816 + (b & 0xff)] ^ t[2560 + ((b >>> 8) & 0xff)] ^
        t[2304 + ((b >>> 16) & 0xff)] ^ t[2048 + (b >>> 24)] ^ t[1792 + (d & 0xff)] ^
        t[1536 + ((d >>> 8) & 0xff)] ^ t[1280 + ((d >>> 16) & 0xff)] ^ t[1024 + (d >>> 24)] ^
        t[768 + (e & 0xff)] ^ t[512 + ((e >>> 8) & 0xff)] ^ t[256 + ((e >>> 16) & 0xff)] ^
        t[e >>> 24];
    }
    i = end16;
  }
  while (i < n) c = t[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * CRC32-C (Castagnoli: reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor).
 * `crc32c("123456789") === 0xE3069283`. Pass a previous result as `seed` to continue it.
 */
export function crc32c(data: Uint8Array, seed = 0): number {
  return update(CASTAGNOLI, seed, data);
}

/**
 * CRC-32/IEEE (reflected polynomial 0xEDB88320, as GPT uses it).
 * `crc32("123456789") === 0xCBF43926`. Pass a previous result as `seed` to continue it.
 */
export function crc32(data: Uint8Array, seed = 0): number {
  return update(IEEE, seed, data);
}

/**
 * CRC32-C of `data[start..end)` without creating a view (hot in record encoding and replay).
 */
export function crc32cRange(data: Uint8Array, start: number, end: number): number {
  return update(CASTAGNOLI, 0, data, start, end);
}
