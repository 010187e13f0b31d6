/**
 * Model-based property test: random operation sequences (puts, deletes, batches, syncs,
 * compactions, reopens, fresh opens) against a Map, on a device small enough that compaction
 * and NO_SPACE happen.
 */
import fc from "fast-check";
import { assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { type BatchOp, StateFs } from "./engine.ts";
import { StateFsError } from "./errors.ts";
import { fsck } from "./fsck.ts";
import { CHECKPOINT_RECORD_SIZE, RECORD_OVERHEAD } from "./journal.ts";

const enc = new TextEncoder();

/** What `bytesLive` must say for the model's entries: each key's Put record and the Checkpoint. */
function liveBytes(model: Map<string, Uint8Array>): number {
  let n = CHECKPOINT_RECORD_SIZE;
  for (const [k, v] of model) n += RECORD_OVERHEAD + enc.encode(k).length + v.length;
  return n;
}

const KEYS = [
  "/state/a",
  "/state/b",
  "/state/a/b",
  "/state/ab",
  "/state/\uff61", // BMP above the surrogates: sorts before astral in UTF-8
  "/state/\u{1f600}",
  "/state/é",
  "/state/z".padEnd(200, "z"),
];
const PREFIXES = ["/state/", "/state/a", "/state/a/", "/state/\uff61", "/nope", ""];

const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.uint8Array({ minLength: 400, maxLength: 1500 }),
);

type Cmd =
  | { t: "put"; key: string; value: Uint8Array }
  | { t: "delete"; key: string }
  | { t: "batch"; ops: BatchOp[]; abort: boolean }
  | { t: "sync" }
  | { t: "compact" }
  | { t: "reopen" }
  | { t: "open" }
  | { t: "list"; prefix: string; limit: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant("put" as const), key: keyArb, value: valueArb }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("delete" as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("batch" as const),
      ops: fc.array(
        fc.oneof(
          fc.record({ op: fc.constant("put" as const), key: keyArb, value: valueArb }),
          fc.record({ op: fc.constant("delete" as const), key: keyArb }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      abort: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "sync" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "compact" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "reopen" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "open" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("list" as const),
      prefix: fc.constantFrom(...PREFIXES),
      limit: fc.integer({ min: 0, max: 10 }),
    }),
  },
);

function utf8Compare(a: string, b: string): number {
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof StateFsError) return err.code;
    throw err;
  }
}

Deno.test("property: random operations with random reopens behave like a Map", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(cmdArb, { maxLength: 60 }), async (cmds) => {
      const dev = new MemoryBlockDevice(40); // regions of 19 blocks (9.5 KiB)
      await StateFs.format(dev);
      let fs = await StateFs.open(dev);
      const model = new Map<string, Uint8Array>();
      for (const c of cmds) {
        switch (c.t) {
          case "put": {
            const code = await codeOf(fs.put(c.key, c.value));
            if (code === undefined) model.set(c.key, c.value);
            else assertEquals(code, "NO_SPACE");
            break;
          }
          case "delete": {
            const code = await codeOf(fs.delete(c.key));
            assertEquals(code, model.has(c.key) ? undefined : "NOT_FOUND");
            model.delete(c.key);
            break;
          }
          case "batch": {
            const next = new Map(model);
            let missing = false;
            for (const o of c.ops) {
              if (o.op === "put") next.set(o.key, o.value);
              else if (!next.delete(o.key)) missing = true;
            }
            const code = await codeOf(fs.batch(c.ops, { abort: c.abort }));
            if (missing) {
              assertEquals(code, "NOT_FOUND");
            } else if (code === undefined) {
              if (!c.abort) {
                model.clear();
                for (const [k, v] of next) model.set(k, v);
              }
            } else {
              assertEquals(code, "NO_SPACE");
            }
            break;
          }
          case "sync":
            await fs.sync();
            break;
          case "compact":
            assertEquals(await codeOf(fs.compact()), undefined);
            break;
          case "reopen":
            await fs.reopen();
            break;
          case "open":
            await fs.sync();
            fs = await StateFs.open(dev);
            break;
          case "list": {
            const want = [...model.keys()].filter((k) => k.startsWith(c.prefix))
              .sort(utf8Compare).slice(0, c.limit);
            assertEquals(fs.list(c.prefix, c.limit), want);
            break;
          }
        }
        assertEquals(fs.stats().liveKeys, model.size);
        assertEquals(fs.stats().bytesLive, liveBytes(model));
      }
      const check = async (f: StateFs) => {
        assertEquals(f.list("/state/", 100), [...model.keys()].sort(utf8Compare));
        for (const k of KEYS) assertEquals(await f.get(k), model.get(k));
      };
      await check(fs);
      await fs.sync();
      const fresh = await StateFs.open(dev);
      await check(fresh);
      assertEquals(fresh.stats().bytesLive, liveBytes(model));
      assertEquals((await fsck(dev)).status, "clean");
    }),
    { numRuns: 150, seed: 20240611 },
  );
});
