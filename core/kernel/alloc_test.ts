import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { allocBytes, copyBytes, SLAB_BYTES, SLAB_MAX } from "./alloc.ts";

Deno.test("alloc: buffers are zero-filled, 8-aligned and never overlap (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 * SLAB_MAX }), { maxLength: 200 }),
      (sizes) => {
        const bufs = sizes.map((n, i) => {
          const b = allocBytes(n);
          assertEquals(b.length, n);
          assert(b.every((v) => v === 0), "fresh buffer is not zero-filled");
          assertEquals(b.byteOffset % 8, 0);
          b.fill((i % 255) + 1);
          return b;
        });
        bufs.forEach((b, i) =>
          assert(b.every((v) => v === (i % 255) + 1), `buffer ${i} clobbered`)
        );
      },
    ),
  );
});

Deno.test("alloc: large buffers get their own ArrayBuffer; bad sizes fail like Uint8Array", () => {
  const big = allocBytes(SLAB_MAX + 1);
  assertEquals(big.byteOffset, 0);
  assertEquals(big.buffer.byteLength, SLAB_MAX + 1);
  assert(allocBytes(8).buffer.byteLength <= SLAB_BYTES);
  assertThrows(() => allocBytes(-1), RangeError);
  assertEquals(allocBytes(1.5).length, new Uint8Array(1.5).length);
});

Deno.test("alloc: copyBytes is a private copy of small and large inputs", () => {
  for (const n of [0, 3, SLAB_MAX, SLAB_MAX + 9]) {
    const src = new Uint8Array(n).map((_, i) => i);
    const c = copyBytes(src);
    assertEquals([...c], [...src]);
    src.fill(0xaa);
    assert(c.every((v, i) => v === (i & 0xff)), `copy of ${n} aliases its source`);
  }
});
