/**
 * Table-driven CRC-32 in two flavours: CRC32-C (Castagnoli), which frames every StateFS journal
 * record and the NXS2 superblock, and CRC-32/IEEE, which GPT headers and entry arrays use.
 *
 * Both use slicing-by-16 (sixteen 256-entry tables, sixteen input bytes per step) because record
 * checksums are a large share of journal replay time.
 *
 * Chaining: `crcX(b, crcX(a))` equals `crcX(a ++ b)`; the `seed` is a previous result, not the
 * raw register, so the default of 0 is the standard initial value 0xFFFFFFFF.
 *
 * @module
 */

const SLICES = 16;

function makeTables(poly: number): Uint32Array {
  const t = new Uint32Array(SLICES * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
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

function update(
  t: Uint32Array,
  seed: number,
  data: Uint8Array,
  start = 0,
  n = data.length,
): number {
  let c = ~seed >>> 0;
  let i = start;
  const end16 = n - ((n - start) & 15);
  while (i < end16) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c = t[3840 + (a & 0xff)] ^ t[3584 + ((a >>> 8) & 0xff)] ^ t[3328 + ((a >>> 16) & 0xff)] ^
      t[3072 + (a >>> 24)] ^ t[2816 + data[i + 4]] ^ t[2560 + data[i + 5]] ^
      t[2304 + data[i + 6]] ^ t[2048 + data[i + 7]] ^ t[1792 + data[i + 8]] ^
      t[1536 + data[i + 9]] ^ t[1280 + data[i + 10]] ^ t[1024 + data[i + 11]] ^
      t[768 + data[i + 12]] ^ t[512 + data[i + 13]] ^ t[256 + data[i + 14]] ^ t[data[i + 15]];
    i += 16;
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
