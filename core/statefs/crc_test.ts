import fc from "fast-check";
import { assertEquals } from "../../tests/assert.ts";
import { crc32, crc32c, crc32cRange } from "./crc.ts";

const enc = new TextEncoder();

Deno.test("crc32c check value (golden): crc32c('123456789') = 0xE3069283", () => {
  assertEquals(crc32c(enc.encode("123456789")), 0xe3069283);
});

Deno.test("crc32 (IEEE) check value: crc32('123456789') = 0xCBF43926", () => {
  assertEquals(crc32(enc.encode("123456789")), 0xcbf43926);
});

Deno.test("crc of empty input is 0 for both", () => {
  assertEquals(crc32c(new Uint8Array(0)), 0);
  assertEquals(crc32(new Uint8Array(0)), 0);
});

/** Bit-at-a-time reference: independent of the sliced tables. */
function reference(poly: number, data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
  }
  return ~c >>> 0;
}

Deno.test("sliced crc equals the bitwise reference for every length 0..70 and odd offsets", () => {
  const data = new Uint8Array(80);
  let x = 7;
  for (let i = 0; i < data.length; i++) data[i] = x = (x * 131 + 17) & 0xff;
  for (let off = 0; off < 3; off++) {
    for (let len = 0; len <= 70; len++) {
      const part = data.subarray(off, off + len);
      assertEquals(crc32c(part), reference(0x82f63b78, part), `crc32c len ${len} off ${off}`);
      assertEquals(crc32(part), reference(0xedb88320, part), `crc32 len ${len} off ${off}`);
    }
  }
});

Deno.test("seed chains: crc(b, crc(a)) = crc(a ++ b)", () => {
  const a = enc.encode("hello, ");
  const b = enc.encode("state journal");
  const ab = enc.encode("hello, state journal");
  assertEquals(crc32c(b, crc32c(a)), crc32c(ab));
  assertEquals(crc32(b, crc32(a)), crc32(ab));
});

Deno.test("crc32cRange equals crc32c of the same subarray", () => {
  const data = new Uint8Array(300).map((_, i) => (i * 37 + 11) & 0xff);
  for (const [a, b] of [[0, 0], [0, 300], [3, 17], [5, 21], [7, 299], [100, 133]]) {
    assertEquals(crc32cRange(data, a, b), crc32c(data.subarray(a, b)), `${a}..${b}`);
  }
});

Deno.test("crc equals the bitwise reference at every alignment and range (property)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.nat(),
      fc.nat(),
      (bytes, x, y) => {
        const a = bytes.length === 0 ? 0 : x % (bytes.length + 1);
        const b = a + (y % (bytes.length - a + 1));
        const part = bytes.subarray(a, b);
        const want = reference(0x82f63b78, part);
        assertEquals(crc32c(part), want);
        assertEquals(crc32cRange(bytes, a, b), want);
        assertEquals(crc32(part), reference(0xedb88320, part));
      },
    ),
    { numRuns: 300 },
  );
});
