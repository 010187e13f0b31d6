import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { Kernel } from "../kernel/kernel.ts";
import { SimpleMemory } from "../kernel/memory.ts";
import { KernelError, MMIO_BASE } from "../kernel/types.ts";
import { GuestMemory, GuestMemoryError } from "./guest_memory.ts";

Deno.test("guest memory: read/write round trip, reads are copies", () => {
  const mem = new GuestMemory(8192);
  mem.write(100, new Uint8Array([1, 2, 3]));
  const got = mem.read(99, 5);
  assertEquals([...got], [0, 1, 2, 3, 0]);
  got[1] = 42;
  assertEquals(mem.read(100, 1)[0], 1, "mutating a read must not change memory");
});

Deno.test("guest memory: every out-of-range access throws OUT_OF_RANGE and writes nothing", () => {
  const mem = new GuestMemory(4096);
  for (
    const [addr, len] of [[4096, 1], [4095, 2], [-1, 1], [0.5, 1], [0, 4097], [
      Number.MAX_SAFE_INTEGER,
      2,
    ]]
  ) {
    const e = assertThrows(() => mem.read(addr, len), GuestMemoryError);
    assertEquals(e.code, "OUT_OF_RANGE", `read ${addr}+${len}`);
  }
  const e = assertThrows(() => mem.write(4090, new Uint8Array(8).fill(7)), GuestMemoryError);
  assertEquals(e.code, "OUT_OF_RANGE");
  assertEquals([...mem.read(4090, 6)], [0, 0, 0, 0, 0, 0], "a refused write must not be partial");
  assertEquals(mem.read(4096, 0).length, 0, "an empty read at the end is in range");
});

Deno.test("guest memory: allocator aligns, never returns 0, and runs out cleanly", () => {
  const mem = new GuestMemory(0x3000);
  const a = mem.alloc(3, 1);
  assertEquals(a, 0x1000, "allocation starts at allocBase");
  const b = mem.alloc(16, 16);
  assertEquals(b % 16, 0);
  assert(b >= a + 3);
  const c = mem.alloc(100, 4096);
  assertEquals(c, 0x2000);
  const e = assertThrows(() => mem.alloc(0x1000, 1), GuestMemoryError);
  assertEquals(e.code, "OUT_OF_MEMORY");
  assertEquals(mem.alloc(0x1000 - 100, 1), 0x2000 + 100, "the failed allocation consumed nothing");
  assertEquals(assertThrows(() => mem.alloc(1, 3), GuestMemoryError).code, "BAD_ARGUMENT");
  assertEquals(assertThrows(() => mem.alloc(0, 1), GuestMemoryError).code, "BAD_ARGUMENT");
});

Deno.test("guest memory: bad sizes are refused, RAM stays below the MMIO windows", () => {
  assertEquals(assertThrows(() => new GuestMemory(0), GuestMemoryError).code, "BAD_ARGUMENT");
  assertEquals(
    assertThrows(() => new GuestMemory(MMIO_BASE + 1), GuestMemoryError).code,
    "BAD_ARGUMENT",
  );
  assertEquals(
    assertThrows(() => new GuestMemory(4096, { allocBase: 0 }), GuestMemoryError).code,
    "BAD_ARGUMENT",
  );
});

Deno.test("guest memory: readInto copies into the caller's buffer, bounds-checked", () => {
  const mem = new GuestMemory(4096);
  mem.write(100, new Uint8Array([1, 2, 3]));
  const out = new Uint8Array(5).fill(9);
  mem.readInto(99, out);
  assertEquals([...out], [0, 1, 2, 3, 0]);
  out[1] = 42;
  assertEquals(mem.read(100, 1)[0], 1, "the buffer is the caller's, not a view");
  const far = new Uint8Array(8).fill(7);
  assertEquals(assertThrows(() => mem.readInto(4090, far), GuestMemoryError).code, "OUT_OF_RANGE");
  assertEquals([...far], [7, 7, 7, 7, 7, 7, 7, 7], "nothing copied on failure");
});

for (
  const [name, memory] of [["guest", new GuestMemory(1 << 16)], [
    "simple",
    new SimpleMemory(1 << 16),
  ]] as const
) {
  Deno.test(`memReadInto over ${name} memory: only what the task allocated, into its buffer`, async () => {
    const k = new Kernel({ memory });
    const r: Record<string, unknown> = {};
    k.spawn("a", async (sys) => {
      const addr = sys.dmaAlloc(64);
      sys.memWrite(addr + 8, new Uint8Array([5, 6, 7, 8]));
      const out = new Uint8Array(4);
      sys.memReadInto(addr + 8, out);
      r.read = [...out];
      const keep = new Uint8Array(8).fill(1);
      r.overrun = outcome(() => sys.memReadInto(addr + 60, keep));
      r.untouched = keep.every((b) => b === 1);
      r.addr = addr;
      await sys.yield();
    });
    k.spawn("b", async (sys) => {
      r.foreign = outcome(() => sys.memReadInto(r.addr as number, new Uint8Array(4)));
      await sys.yield();
    });
    await k.run();
    assertEquals(r, {
      read: [5, 6, 7, 8],
      overrun: "BAD_ADDRESS",
      untouched: true,
      addr: r.addr,
      foreign: "BAD_ADDRESS",
    });
  });
}

function outcome(fn: () => void): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    return err instanceof KernelError ? err.code : String(err);
  }
}

Deno.test("guest memory: the whole size is zeroed and usable, and growing keeps earlier views live", () => {
  const size = 4 * 1024 * 1024;
  const mem = new GuestMemory(size);
  const low = mem.view(0x1000, 16);
  low.fill(0xaa);
  // The top byte is far past anything touched so far: it reads as zero and takes a write.
  assertEquals(mem.read(size - 4, 4), new Uint8Array(4));
  mem.write(size - 1, Uint8Array.of(7));
  assertEquals(mem.read(size - 1, 1), Uint8Array.of(7));
  // A view taken before the memory grew still reaches the same bytes, both ways.
  assertEquals(mem.read(0x1000, 16), new Uint8Array(16).fill(0xaa));
  mem.write(0x1000, Uint8Array.of(1, 2));
  assertEquals(low.subarray(0, 3), Uint8Array.of(1, 2, 0xaa));
  // Bytes between the two touched places read as zero too.
  assertEquals(mem.read(size / 2, 8), new Uint8Array(8));
});
