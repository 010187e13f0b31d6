import fc from "fast-check";
import { assert, assertEquals, assertNotEquals, assertThrows } from "../../tests/assert.ts";
import { CUT_MODES, type CutMode, FaultyStore, formatCutId, parseCutId } from "./fault.ts";
import { MemoryStore, StoreError } from "./store.ts";

function sectors(fill: number, n = 1): Uint8Array {
  return new Uint8Array(512 * n).fill(fill);
}

/** Sector fill bytes of the medium (first byte of each sector). */
function fills(store: MemoryStore): number[] {
  const out: number[] = [];
  for (let s = 0; s < store.sectors; s++) out.push(store.bytes[s * 512]);
  return out;
}

Deno.test("fault: cut ids round trip and bad ids are refused", () => {
  for (const mode of CUT_MODES) {
    const id = formatCutId({ write: 17, mode, seed: 4294967295 });
    assertEquals(id, `cut:17:${mode}:4294967295`);
    assertEquals(parseCutId(id), { write: 17, mode, seed: 4294967295 });
  }
  for (
    const bad of [
      "cut:0:atomic:1",
      "cut:1:sideways:1",
      "cut:1:atomic:4294967296",
      "cut:-1:torn:1",
      "cut:01:torn:1",
      "cut:1:torn",
      "cut:1.5:torn:1",
      "",
    ]
  ) {
    assertEquals(assertThrows(() => parseCutId(bad), StoreError).code, "BAD_ARGUMENT", bad);
  }
  assertThrows(() => new FaultyStore(new MemoryStore(4), { cut: "nonsense" }), StoreError);
  assertThrows(
    () => new FaultyStore(new MemoryStore(4), { cut: { write: 0, mode: "torn", seed: 1 } }),
    StoreError,
  );
});

Deno.test("fault: the cache is visible to reads and reaches the medium only on flush", () => {
  const inner = new MemoryStore(8);
  const f = new FaultyStore(inner);
  f.write(1, sectors(1, 2));
  f.write(2, sectors(2));
  assertEquals(fills(inner), [0, 0, 0, 0, 0, 0, 0, 0], "nothing on the medium before a flush");
  const got = f.read(0, 4);
  assertEquals([got[0], got[512], got[1024], got[1536]], [0, 1, 2, 0], "newest write wins");
  assertEquals(f.cachedWrites, 2);
  f.flush();
  assertEquals(fills(inner), [0, 1, 2, 0, 0, 0, 0, 0]);
  assertEquals(inner.flushes, 1);
  assertEquals(f.cachedWrites, 0);
});

Deno.test("fault: atomic cut keeps every completed write; the store is dead afterwards", () => {
  const inner = new MemoryStore(8);
  const f = new FaultyStore(inner, { cut: "cut:3:atomic:0" });
  f.write(0, sectors(1));
  f.flush();
  f.write(1, sectors(2, 2));
  assert(!f.powerLost);
  f.write(1, sectors(3)); // the third write: power is cut right after it completes
  assert(f.powerLost);
  assertEquals(f.cut?.id, "cut:3:atomic:0");
  assertEquals(fills(inner), [1, 3, 2, 0, 0, 0, 0, 0], "issue order preserved");
  for (
    const op of [() => f.read(0, 1), () => f.write(0, sectors(9)), () => f.flush()]
  ) assertEquals(assertThrows(op, StoreError).code, "POWER_LOST");
});

function runCut(id: string): number[] {
  const inner = new MemoryStore(16);
  const f = new FaultyStore(inner, { cut: id });
  f.write(0, sectors(0xa0));
  f.flush(); // durable: must survive every cut
  for (let i = 1; i <= 6; i++) f.write(i * 2, sectors(i, 2));
  assert(f.powerLost, `${id}: the cut must have happened`);
  return fills(inner);
}

Deno.test("fault: reorder and torn cuts are deterministic per id and respect the last flush", () => {
  for (const mode of ["reorder", "torn"] as CutMode[]) {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const id = formatCutId({ write: 7, mode, seed });
      const a = runCut(id);
      assertEquals(runCut(id), a, `${id} replays identically`);
      assertEquals(a[0], 0xa0, `${id}: the flushed write survives`);
      for (let i = 1; i <= 6; i++) {
        const [x, y] = [a[i * 2], a[i * 2 + 1]];
        assert(x === 0 || x === i, `${id}: sector ${i * 2} holds ${x}`);
        if (mode === "reorder") assertEquals(x, y, `${id}: reorder never tears write ${i}`);
      }
      outcomes.add(a.join(","));
    }
    assert(outcomes.size > 5, `${mode}: different seeds choose different subsets`);
    if (mode === "torn") {
      const torn = [...outcomes].some((o) => {
        const a = o.split(",").map(Number);
        return [1, 2, 3, 4, 5, 6].some((i) => a[i * 2] !== a[i * 2 + 1]);
      });
      assert(torn, "some torn seed persists only part of a multi-sector write");
    }
  }
});

Deno.test("fault: reorder can persist overlapping writes out of order", () => {
  const results = new Set<number>();
  for (let seed = 0; seed < 64; seed++) {
    const inner = new MemoryStore(4);
    const f = new FaultyStore(inner, { cut: { write: 2, mode: "reorder", seed } });
    f.write(1, sectors(1));
    f.write(1, sectors(2));
    results.add(inner.bytes[512]);
  }
  assertEquals([...results].sort(), [0, 1, 2], "none, the older or the newer write may win");
});

Deno.test("fault: manual cut and its id", () => {
  const inner = new MemoryStore(4);
  const f = new FaultyStore(inner);
  f.write(0, sectors(1));
  const report = f.powerCut("atomic");
  assertEquals(report, { id: "cut-now:1:atomic:0", cached: 1, persisted: 1, sectorsPersisted: 1 });
  assertEquals(inner.bytes[0], 1);
  assertThrows(() => f.powerCut("atomic"), StoreError);
});

Deno.test("fault: injected read and write errors hit only their sectors", () => {
  const inner = new MemoryStore(8);
  const f = new FaultyStore(inner, { readErrors: [3], writeErrors: [5] });
  assertEquals(assertThrows(() => f.read(2, 2), StoreError).code, "IO_ERROR");
  assertEquals(f.read(0, 3).length, 1536);
  assertEquals(assertThrows(() => f.write(4, sectors(1, 2)), StoreError).code, "IO_ERROR");
  assertEquals(f.writes, 0, "a failed write does not count");
  f.write(6, sectors(6));
  f.flush();
  assertEquals(fills(inner), [0, 0, 0, 0, 0, 0, 6, 0], "the failed write stored nothing");
  assertNotEquals(f.writes, 0);
});

Deno.test("fault: readInto reads what read reads and fails the same ways", () => {
  const inner = new MemoryStore(8);
  const f = new FaultyStore(inner, { readErrors: [6], failRequests: { read: [3] } });
  f.write(1, sectors(1, 2));
  f.flush();
  f.write(2, sectors(2));
  const into = new Uint8Array(4 * 512).fill(0xee);
  f.readInto(0, into); // read #1
  assertEquals(into, f.read(0, 4), "read #2 sees the same bytes"); // the cache wins over the medium
  assertEquals([into[0], into[512], into[1024], into[1536]], [0, 1, 2, 0]);
  assertEquals(assertThrows(() => f.readInto(0, into), StoreError).code, "IO_ERROR", "read #3");
  assertEquals(assertThrows(() => f.readInto(5, into), StoreError).code, "OUT_OF_RANGE");
  assertEquals(
    assertThrows(() => f.readInto(0, new Uint8Array(100)), StoreError).code,
    "BAD_LENGTH",
  );
  assertEquals(assertThrows(() => f.readInto(4, into), StoreError).code, "IO_ERROR", "sector 6");
  assertEquals(f.injectedErrors, 2);
  f.powerCut("atomic");
  assertEquals(assertThrows(() => f.readInto(0, into), StoreError).code, "POWER_LOST");
});

/** One step of the cache model test: a write of `n` sectors filled from `seed`, a flush or a read. */
type CacheOp =
  | { op: "write"; sector: number; n: number; seed: number; scribble: boolean }
  | { op: "flush" }
  | { op: "read"; sector: number; n: number; into: boolean };

function cacheOps(sectors: number, maxWrite: number, maxLength: number): fc.Arbitrary<CacheOp[]> {
  return fc.array(
    fc.oneof(
      fc.record({
        op: fc.constant("write" as const),
        sector: fc.nat(sectors - 1),
        n: fc.integer({ min: 1, max: maxWrite }),
        seed: fc.nat(255),
        scribble: fc.boolean(),
      }),
      fc.record({ op: fc.constant("flush" as const) }),
      fc.record({
        op: fc.constant("read" as const),
        sector: fc.nat(sectors - 1),
        n: fc.integer({ min: 1, max: maxWrite + 2 }),
        into: fc.boolean(),
      }),
    ),
    { maxLength },
  );
}

/** Runs `ops` against a FaultyStore of `sectors` sectors and a model of what it must hold. */
function checkCache(sectors: number, ops: CacheOp[]): void {
  const inner = new MemoryStore(sectors);
  const f = new FaultyStore(inner);
  const visible = new Uint8Array(sectors * 512); // every write applied
  const durable = new Uint8Array(sectors * 512); // as of the last flush
  for (const o of ops) {
    if (o.op === "write") {
      const n = Math.min(o.n, sectors - o.sector);
      const data = new Uint8Array(n * 512).map((_, i) => (o.seed + i * 7) & 0xff);
      f.write(o.sector, data);
      visible.set(data, o.sector * 512);
      // The caller (guest memory) reuses its buffer: the cache must have its own copy.
      if (o.scribble) data.fill(0x5a);
    } else if (o.op === "flush") {
      f.flush();
      durable.set(visible);
      assertEquals(inner.bytes, durable, "a flush puts every cached write on the medium");
    } else {
      const n = Math.min(o.n, sectors - o.sector);
      const want = visible.subarray(o.sector * 512, (o.sector + n) * 512);
      let got = f.read(o.sector, n);
      if (o.into) {
        got = new Uint8Array(n * 512).fill(0xcc);
        f.readInto(o.sector, got);
      }
      assertEquals(got, want, "reads see the newest write of each sector");
    }
  }
  assertEquals(inner.bytes, durable, "nothing unflushed reached the medium");
  f.powerCut("atomic");
  assertEquals(inner.bytes, visible, "an atomic cut keeps every completed write");
}

Deno.test("fault: the write cache holds exactly what was written, across flushes (model)", () => {
  fc.assert(fc.property(cacheOps(24, 6, 60), (ops) => checkCache(24, ops)), { numRuns: 300 });
});

Deno.test("fault: writes larger than an arena segment, and many small ones, cache exactly (model)", () => {
  // Writes up to 300 KiB against 256 KiB segments: whole-segment writes, and segments skipped
  // and reordered as the cache refills after flushes.
  fc.assert(fc.property(cacheOps(1024, 600, 25), (ops) => checkCache(1024, ops)), {
    numRuns: 40,
  });
});
