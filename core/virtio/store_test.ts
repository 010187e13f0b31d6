import { assertEquals, assertNotEquals, assertThrows } from "../../tests/assert.ts";
import { Prng } from "../simulation/prng.ts";
import { FileRegionStore, MemoryStore, StoreError } from "./store.ts";

function sectorOf(fill: number, n = 1): Uint8Array {
  return new Uint8Array(512 * n).fill(fill);
}

Deno.test("memory store: round trip and range checks", () => {
  const s = new MemoryStore(8);
  s.write(2, sectorOf(5, 3));
  assertEquals(s.read(1, 5).slice(512, 512 * 4), sectorOf(5, 3));
  assertEquals(assertThrows(() => s.read(6, 3), StoreError).code, "OUT_OF_RANGE");
  assertEquals(assertThrows(() => s.write(8, sectorOf(1)), StoreError).code, "OUT_OF_RANGE");
  assertEquals(assertThrows(() => s.write(0, new Uint8Array(100)), StoreError).code, "BAD_LENGTH");
  assertEquals(assertThrows(() => s.read(-1, 1), StoreError).code, "OUT_OF_RANGE");
  assertEquals(
    assertThrows(() => new MemoryStore(new Uint8Array(700)), StoreError).code,
    "BAD_LENGTH",
  );
  s.flush();
  assertEquals(s.flushes, 1);
});

Deno.test("file region store: writes land at the region offset, reads past EOF are zeros", () => {
  const path = Deno.makeTempFileSync({ suffix: ".img" });
  try {
    Deno.writeFileSync(path, new Uint8Array(512 * 4).fill(0xee));
    const store = FileRegionStore.open(path, 1024, 512 * 6);
    assertEquals(store.sectors, 6);
    store.write(1, sectorOf(0x11, 2));
    store.flush();
    // Sectors 2..3 of the region lie past the end of the 4-sector file: zeros until written.
    assertEquals(store.read(4, 2), new Uint8Array(1024));
    assertEquals(store.read(0, 1), sectorOf(0xee));
    const dirty = new Uint8Array(1536).fill(0x77);
    store.readInto(2, dirty); // region sector 2 is in the file, 3..4 are past its end
    assertEquals(dirty.subarray(0, 512), sectorOf(0x11));
    assertEquals(dirty.subarray(512), new Uint8Array(1024), "past the end reads as zeros");
    store.close();
    const bytes = Deno.readFileSync(path);
    assertEquals(bytes.length, 512 * 5, "the write extended the file to the region's sector 2");
    assertEquals(bytes.subarray(0, 1024), new Uint8Array(1024).fill(0xee), "before the region");
    assertEquals(bytes.subarray(1536, 2560), sectorOf(0x11, 2));
    assertEquals(assertThrows(() => store.read(0, 1), StoreError).code, "CLOSED");
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("file region store: random sector pattern matches the file byte for byte", () => {
  const path = Deno.makeTempFileSync({ suffix: ".img" });
  try {
    Deno.writeFileSync(path, new Uint8Array(512 * 64));
    const rng = new Prng(7);
    const model = new Uint8Array(512 * 64);
    const store = FileRegionStore.open(path);
    for (let i = 0; i < 50; i++) {
      const n = 1 + rng.below(4);
      const at = rng.below(64 - n + 1);
      const data = rng.fill(new Uint8Array(512 * n));
      store.write(at, data);
      model.set(data, at * 512);
    }
    assertEquals(store.read(0, 64), model);
    store.close();
    assertEquals(Deno.readFileSync(path), model);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("file region store: misaligned regions are refused", () => {
  const path = Deno.makeTempFileSync();
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    assertEquals(
      assertThrows(() => new FileRegionStore(file, 100, 512), StoreError).code,
      "BAD_ARGUMENT",
    );
    assertEquals(
      assertThrows(() => new FileRegionStore(file, 0, 513), StoreError).code,
      "BAD_ARGUMENT",
    );
  } finally {
    file.close();
    Deno.removeSync(path);
  }
});

Deno.test("prng: deterministic per seed, distinct across seeds, below() stays in range", () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const xs = Array.from({ length: 16 }, () => a.nextU32());
  assertEquals(xs, Array.from({ length: 16 }, () => b.nextU32()));
  const c = new Prng(43);
  assertNotEquals(xs, Array.from({ length: 16 }, () => c.nextU32()));
  const r = new Prng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = r.below(7);
    assertEquals(v >= 0 && v < 7 && Number.isInteger(v), true);
    seen.add(v);
  }
  assertEquals(seen.size, 7, "every value of below(7) shows up in 1000 draws");
});

/**
 * A file store over a fresh temp file of `sectors` zero sectors that counts the host syncs that
 * really happen (the unsynced flag says whether one is due); `body` gets the store, the count and
 * the file's path, which is removed afterwards.
 */
function withCountingStore(
  sectors: number,
  body: (store: FileRegionStore, hostSyncs: () => number, path: string) => void,
): void {
  const path = Deno.makeTempFileSync({ suffix: ".img" });
  let syncs = 0;
  class Counting extends FileRegionStore {
    override sync(): void {
      if (this.unsynced) syncs++;
      super.sync();
    }
  }
  try {
    Deno.writeFileSync(path, new Uint8Array(512 * sectors));
    const file = Deno.openSync(path, { read: true, write: true });
    body(new Counting(file, 0, 512 * sectors, true), () => syncs, path);
  } finally {
    Deno.removeSync(path);
  }
}

Deno.test("file region store: a FLUSH leaves the host sync to close, which syncs what was written", () => {
  withCountingStore(8, (store, hostSyncs, path) => {
    assertEquals(store.unsynced, false);
    store.write(3, sectorOf(0x33));
    assertEquals(store.unsynced, true);
    store.flush();
    assertEquals(store.unsynced, true, "a guest FLUSH does not reach the host disk");
    assertEquals(hostSyncs(), 0);
    // The simulation's durability does not wait for the host: the bytes are in the file already.
    assertEquals(Deno.readFileSync(path).subarray(3 * 512, 4 * 512), sectorOf(0x33));
    store.sync();
    assertEquals([store.unsynced, hostSyncs()], [false, 1]);
    store.sync();
    assertEquals(hostSyncs(), 1, "nothing written since: no second host sync");
    store.write(4, sectorOf(0x44));
    store.close();
    assertEquals(hostSyncs(), 2, "close syncs what was written since");
    store.close();
    assertEquals(hostSyncs(), 2, "close is idempotent");
    assertEquals(assertThrows(() => store.flush(), StoreError).code, "CLOSED");
    assertEquals(assertThrows(() => store.sync(), StoreError).code, "CLOSED");
    assertEquals(Deno.readFileSync(path).subarray(4 * 512, 5 * 512), sectorOf(0x44));
  });
});

Deno.test("file region store: a store that only read closes without a host sync", () => {
  withCountingStore(2, (store, hostSyncs) => {
    store.read(0, 2);
    store.flush();
    store.close();
    assertEquals(hostSyncs(), 0);
  });
});
