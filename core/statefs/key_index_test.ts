import fc from "fast-check";
import { assertEquals } from "../../tests/assert.ts";
import { keyHash, KeyIndex } from "./key_index.ts";
import {
  DECODED_RECORD,
  decodeRecordInto,
  encodeRecord,
  newRecordSlot,
  OP_PUT,
} from "./journal.ts";

type Op =
  | { op: "set" | "swap"; key: string; value: number }
  | { op: "delete"; key: string }
  | { op: "clear" };

// Few distinct keys, so sets overwrite and deletes hit; some share a hash bucket at small sizes.
const key = fc.oneof(
  fc.constantFrom("/state/a", "/state/b", "", "é", "/state/a/b"),
  fc.string({ maxLength: 4 }),
  fc.nat({ max: 300 }).map((n) => `/state/k${n}`),
);

function opsOf(keys: fc.Arbitrary<string>): fc.Arbitrary<Op[]> {
  return fc.array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ op: fc.constant("set" as const), key: keys, value: fc.nat() }),
      },
      {
        weight: 3,
        arbitrary: fc.record({ op: fc.constant("swap" as const), key: keys, value: fc.nat() }),
      },
      { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), key: keys }) },
      { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
    ),
    { maxLength: 600 },
  );
}

Deno.test("KeyIndex behaves as a Map under any sequence of sets, deletes and clears", () => {
  // Many keys (growth), and a dozen (a small table where probe runs wrap around its end).
  const ops = fc.oneof(opsOf(key), opsOf(fc.nat({ max: 12 }).map((n) => `k${n}`)));
  fc.assert(
    fc.property(ops, (ops) => {
      const index = new KeyIndex<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.op === "set") {
          index.set(o.key, o.value);
          model.set(o.key, o.value);
        } else if (o.op === "swap") {
          assertEquals(index.swap(o.key, o.value), model.get(o.key), `swap ${o.key}`);
          model.set(o.key, o.value);
        } else if (o.op === "delete") {
          assertEquals(index.delete(o.key), model.delete(o.key), `delete ${o.key}`);
        } else {
          index.clear();
          model.clear();
        }
        assertEquals(index.size, model.size);
      }
      for (const [k, v] of model) {
        assertEquals(index.get(k), v, k);
        assertEquals(index.has(k), true, k);
      }
      assertEquals(index.get("/state/absent"), model.get("/state/absent"));
      const sorted = <T>(xs: Iterable<T>) => [...xs].sort();
      assertEquals(sorted(index.keys()), sorted(model.keys()));
      assertEquals(sorted(index), sorted(model));
    }),
    { numRuns: 400 },
  );
});

Deno.test("KeyIndex keeps every key through growth and deletes in long probe runs", () => {
  const index = new KeyIndex<number>();
  const n = 5000;
  for (let i = 0; i < n; i++) index.set(`/state/key-${i}`, i);
  for (let i = 0; i < n; i += 3) assertEquals(index.delete(`/state/key-${i}`), true);
  for (let i = 0; i < n; i++) {
    assertEquals(index.get(`/state/key-${i}`), i % 3 === 0 ? undefined : i, `key-${i}`);
  }
  assertEquals(index.size, n - Math.ceil(n / 3));
});

Deno.test("KeyIndex in a small table: deletes in probe runs that wrap around its end", () => {
  // At most 8 keys live, drawn from many: the table stays at 16 slots and runs often wrap.
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: 999 }), fc.nat()), { maxLength: 200 }), (steps) => {
      const index = new KeyIndex<number>();
      const model = new Map<string, number>();
      steps.forEach(([n, pick], step) => {
        index.set(`k${n}`, step);
        model.set(`k${n}`, step);
        if (model.size > 7) {
          const gone = [...model.keys()][pick % model.size];
          assertEquals(index.delete(gone), model.delete(gone));
        }
        for (const [k, v] of model) assertEquals(index.get(k), v, `step ${step}: ${k}`);
      });
    }),
    { numRuns: 300 },
  );
});

Deno.test("replay's key hash, taken while decoding a record, is the index's hash of the key", () => {
  const keys = fc.oneof(
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 60 }),
    fc.string({ unit: "grapheme", maxLength: 12 }),
  );
  fc.assert(
    fc.property(keys, (key) => {
      const rec = encodeRecord(OP_PUT, key, new Uint8Array([1]));
      const slot = newRecordSlot();
      assertEquals(decodeRecordInto(rec, 0, rec.length, slot), DECODED_RECORD);
      assertEquals(slot.key, key);
      // Taken for ASCII keys (the usual ones); the index hashes any other itself.
      const ascii = key.length > 0 && [...key].every((c) => c.charCodeAt(0) < 0x80);
      assertEquals(slot.keyHash, ascii ? keyHash(key) : -1);
    }),
    { numRuns: 300 },
  );
});
