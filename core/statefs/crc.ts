/**
 * Table-driven CRC-32 in two flavours: CRC32-C (Castagnoli), which frames every StateFS journal
 * record and the NXS2 superblock, and CRC-32/IEEE, which GPT headers and entry arrays use.
 *
 * Both use slicing-by-8 (eight 256-entry tables, eight input bytes per step) because record
 * checksums dominate journal replay time.
 *
 * Chaining: `crcX(b, crcX(a))` equals `crcX(a ++ b)`; the `seed` is a previous result, not the
 * raw register, so the default of 0 is the standard initial value 0xFFFFFFFF.
 *
 * @module
 */

function makeTables(poly: number): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
}

const CASTAGNOLI = makeTables(0x82f63b78);
const IEEE = makeTables(0xedb88320);

function update(t: Uint32Array, seed: number, data: Uint8Array): number {
  let c = ~seed >>> 0;
  const n = data.length;
  let i = 0;
  const end8 = n - (n & 7);
  while (i < end8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^ t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^ t[data[i + 7]];
    i += 8;
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
