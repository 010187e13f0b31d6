import fc from "fast-check";
import { assertEquals } from "../../tests/assert.ts";
import { equalBytes, LARGE_VALUE_BYTES, largeValue } from "./values.ts";

/** The generator one byte per step, as it was first written: the definition of the values. */
function referenceValue(i: number, boot: number): Uint8Array {
  const out = new Uint8Array(LARGE_VALUE_BYTES);
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(boot, 0x85ebca6b)) >>> 0;
  for (let k = 0; k < out.length; k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[k] = x >>> 24;
  }
  out.set(new TextEncoder().encode(`large ${i} boot ${boot}`));
  return out;
}

Deno.test("values: largeValue is byte for byte the one-step generator (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100_000 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (i, boot) => assertEquals([...largeValue(i, boot)], [...referenceValue(i, boot)]),
    ),
    { numRuns: 40 },
  );
  assertEquals([...largeValue(0, 0)], [...referenceValue(0, 0)]);
});

Deno.test("values: equalBytes agrees with a byte loop on every length, offset and difference", () => {
  const naive = (a: Uint8Array, b: Uint8Array) =>
    a.length === b.length && a.every((v, i) => v === b[i]);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.nat(),
      fc.boolean(),
      (bytes, offA, offB, where, change) => {
        const a = new Uint8Array(bytes.length + offA).subarray(offA);
        const b = new Uint8Array(bytes.length + offB).subarray(offB);
        a.set(bytes);
        b.set(bytes);
        if (change && bytes.length > 0) b[where % bytes.length] ^= 1 << (where % 8);
        assertEquals(equalBytes(a, b), naive(a, b));
        assertEquals(equalBytes(a, b.subarray(1)), naive(a, b.subarray(1)));
      },
    ),
  );
});
