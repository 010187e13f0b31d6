/**
 * How batches reach the journal: only record shapes the original engine reads, with the same
 * meaning in both engines on commit, abort and a torn write (docs/formats.md, "Transactions").
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { forgetSyncs } from "./testing/engine_suite.ts";
import { type BatchOp, StateFs } from "./engine.ts";
import {
  decodeRecord,
  MAX_TXN_CHUNK,
  OP_DELETE,
  OP_PUT,
  OP_TXN_ABORT,
  OP_TXN_COMMIT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
} from "./journal.ts";

const enc = new TextEncoder();
const BLOCKS = 512;

interface Rec {
  op: number;
  key: string;
  /** Value bytes after the txn id, for TxnPayload; the whole value otherwise. */
  len: number;
  /** Byte offset in the active region. */
  at: number;
  size: number;
}

/** Every record of the active region, from the device. */
function journal(dev: MemoryBlockDevice, fs: StateFs): Rec[] {
  const s = fs.stats();
  const start = (s.activeRegion === "A" ? 1 : 1 + s.regionBlocks) * 512;
  const img = dev.snapshot();
  const region = img.subarray(start, start + s.regionBlocks * 512);
  const out: Rec[] = [];
  for (let at = 0;;) {
    const d = decodeRecord(region, at);
    if (d.kind !== "record") break;
    const len = d.record.op === OP_TXN_PAYLOAD ? d.record.value.length - 8 : d.record.value.length;
    out.push({ op: d.record.op, key: d.record.key, len, at, size: d.size });
    at += d.size;
  }
  return out;
}

async function fresh(): Promise<{ dev: MemoryBlockDevice; fs: StateFs }> {
  const dev = new MemoryBlockDevice(BLOCKS);
  await StateFs.format(dev);
  return { dev, fs: await StateFs.open(dev) };
}

Deno.test("batch: a value over 8 KiB is TxnPayload chunks of at most 8,192 bytes, every key kept", async () => {
  const { dev, fs } = await fresh();
  const big = new Uint8Array(20_000).map((_, i) => i * 7);
  const ops: BatchOp[] = [{ op: "put", key: "/state/big", value: big }];
  for (let i = 0; i < 5; i++) {
    ops.push({ op: "put", key: `/state/k${i}`, value: enc.encode(`${i}`) });
  }
  await fs.batch(ops);
  await fs.sync();
  const recs = journal(dev, fs);
  assert(recs.every((r) => r.op !== OP_TXN_PAYLOAD || r.len <= MAX_TXN_CHUNK));
  assertEquals(
    recs.filter((r) => r.key === "/state/big").map((r) => r.len),
    [8192, 8192, 3616],
  );
  const again = await StateFs.open(dev);
  assertEquals(again.stats().liveKeys, 6);
  assertEquals(await again.get("/state/big"), big);
});

Deno.test("batch: deletes follow the commit inside the commit's 512-byte block, wherever the tail is", async () => {
  const { dev, fs } = await fresh();
  for (let shift = 0; shift < 540; shift += 11) {
    await fs.put("/state/victim", enc.encode("v"));
    await fs.put("/state/pad", new Uint8Array(shift));
    const before = journal(dev, fs).length;
    await fs.batch([
      { op: "put", key: "/state/x", value: new Uint8Array(shift % 300) },
      { op: "delete", key: "/state/victim" },
    ]);
    await fs.sync();
    const recs = journal(dev, fs).slice(before);
    const commit = recs.findIndex((r) => r.op === OP_TXN_COMMIT);
    const del = recs.findIndex((r) => r.op === OP_DELETE);
    assert(commit >= 0 && del === commit + 1, `shift ${shift}: Delete right after the commit`);
    const first = Math.floor(recs[commit].at / 512);
    const last = Math.floor((recs[del].at + recs[del].size - 1) / 512);
    assertEquals(first, last, `shift ${shift}: commit and delete share a block`);
    assertEquals((await StateFs.open(dev)).list("/state/", 9), ["/state/pad", "/state/x"]);
  }
});

Deno.test("batch: an aborted batch writes no Delete and changes nothing in either engine", async () => {
  const { dev, fs } = await fresh();
  await fs.put("/state/keep", enc.encode("k"));
  await fs.batch([
    { op: "put", key: "/state/new", value: enc.encode("n") },
    { op: "delete", key: "/state/keep" },
  ], { abort: true });
  await fs.sync();
  const recs = journal(dev, fs);
  assertEquals(recs.filter((r) => r.op === OP_DELETE), []);
  assertEquals(recs.at(-1)!.op, OP_TXN_ABORT);
  assertEquals((await StateFs.open(dev)).list("/state/", 9), ["/state/keep"]);
});

Deno.test("batch: a commit block that never reached the device applies neither puts nor deletes", async () => {
  const { dev, fs } = await fresh();
  await fs.put("/state/keep", enc.encode("k"));
  await fs.sync();
  await fs.batch([
    { op: "put", key: "/state/new", value: new Uint8Array(2000) },
    { op: "delete", key: "/state/keep" },
  ]);
  await fs.sync();
  const commit = journal(dev, fs).find((r) => r.op === OP_TXN_COMMIT)!;
  const img = dev.snapshot();
  const block = 512 + Math.floor(commit.at / 512) * 512;
  img.fill(0, block, block + 512);
  forgetSyncs(img);
  assertEquals((await StateFs.open(MemoryBlockDevice.fromBytes(img))).list("/state/", 9), [
    "/state/keep",
  ]);
});

Deno.test("batch: the last op per key is written once (the original concatenates a key's payloads)", async () => {
  const { dev, fs } = await fresh();
  await fs.put("/state/gone", enc.encode("g"));
  await fs.batch([
    { op: "put", key: "/state/k", value: enc.encode("first") },
    { op: "put", key: "/state/k", value: enc.encode("second") },
    { op: "put", key: "/state/gone", value: enc.encode("again") },
    { op: "delete", key: "/state/gone" },
  ]);
  await fs.sync();
  const recs = journal(dev, fs);
  assertEquals(recs.filter((r) => r.op === OP_TXN_PAYLOAD).map((r) => [r.key, r.len]), [
    ["/state/k", 6],
  ]);
  const again = await StateFs.open(dev);
  assertEquals(again.list("/state/", 9), ["/state/k"]);
  assertEquals(new TextDecoder().decode((await again.get("/state/k"))!), "second");
});

Deno.test("batch: what one transaction of the original cannot hold commits by compaction", async () => {
  // 33 keys (over 32), 135,000 value bytes (over 128 KiB), three long deletes (over one block).
  const cases: Array<(fs: StateFs) => Promise<BatchOp[]>> = [
    () =>
      Promise.resolve(
        Array.from({ length: 33 }, (_, i) => ({
          op: "put" as const,
          key: `/state/m${i}`,
          value: enc.encode("v"),
        })),
      ),
    () =>
      Promise.resolve([0, 1, 2].map((i) => ({
        op: "put" as const,
        key: `/state/big${i}`,
        value: new Uint8Array(45_000),
      }))),
    async (fs) => {
      const keys = [0, 1, 2].map((i) => `/state/${"d".repeat(200)}${i}`);
      for (const k of keys) await fs.put(k, enc.encode("x"));
      return keys.map((key) => ({ op: "delete" as const, key }));
    },
  ];
  for (const make of cases) {
    const dev = new MemoryBlockDevice(4096);
    await StateFs.format(dev);
    const fs = await StateFs.open(dev);
    const ops = await make(fs);
    const gen = fs.stats().generation;
    await fs.batch(ops);
    assertEquals(fs.stats().generation, gen + 1, "a compaction applied it");
    const recs = journal(dev, fs);
    assert(recs.every((r) => r.op !== OP_TXN_PREPARE && r.op !== OP_DELETE));
    const expect = fs.list("/state/", 99);
    assertEquals((await StateFs.open(dev)).list("/state/", 99), expect);
    assert(recs.filter((r) => r.op === OP_PUT).length === expect.length);
  }
});
