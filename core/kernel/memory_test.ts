import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SimpleMemory } from "./memory.ts";

Deno.test("SimpleMemory: aligned bump allocation from the base, never address 0", () => {
  const m = new SimpleMemory(0x10000);
  const a = m.alloc(10, 16);
  assertEquals(a, 0x1000);
  const b = m.alloc(4, 4096);
  assertEquals(b, 0x2000);
  const c = m.alloc(1, 1);
  assertEquals(c, 0x2004);
  assert(m.alloc(2, 2) % 2 === 0);
});

Deno.test("SimpleMemory: reads back writes; out-of-range access and bad requests throw", () => {
  const m = new SimpleMemory(64, 0);
  m.write(60, new Uint8Array([1, 2, 3, 4]));
  assertEquals([...m.read(60, 4)], [1, 2, 3, 4]);
  const copy = m.read(60, 1);
  copy[0] = 99;
  assertEquals(m.read(60, 1)[0], 1);
  assertThrows(() => m.read(61, 4), RangeError);
  assertThrows(() => m.write(63, new Uint8Array(2)), RangeError);
  assertThrows(() => m.read(-1, 1), RangeError);
  assertThrows(() => m.alloc(65, 1), RangeError, "out of memory");
  assertThrows(() => m.alloc(0, 1), RangeError);
  assertThrows(() => m.alloc(8, 3), RangeError);
  assertEquals(m.alloc(64, 1), 0);
  assertThrows(() => m.alloc(1, 1), RangeError);
  assertThrows(() => new SimpleMemory(0), RangeError);
  assertThrows(() => new SimpleMemory(16, 32), RangeError);
});
