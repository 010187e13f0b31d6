/**
 * A batch with deletes ends with its commit and its deletes in one 512-byte block, so a power
 * cut cannot persist the commit without the deletes; a filler transaction pads to the next
 * block when the group would straddle one. Checked at every tail offset in a block, on the
 * device bytes.
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import {
  decodeRecord,
  OP_DELETE,
  OP_TXN_COMMIT,
  regionBlocksFor,
  regionStartBlock,
} from "./journal.ts";

const enc = new TextEncoder();
const BLOCKS = 256;

/** Offsets of the records of region A, in order, with their opcodes. */
function records(img: Uint8Array): { op: number; at: number; size: number }[] {
  const start = regionStartBlock(BLOCKS, 0) * 512;
  const end = start + regionBlocksFor(BLOCKS) * 512;
  const out: { op: number; at: number; size: number }[] = [];
  for (let at = start; at < end;) {
    const r = decodeRecord(img, at, end);
    if (r.kind !== "record") break;
    out.push({ op: r.record.op, at: at - start, size: r.size });
    at += r.size;
  }
  return out;
}

/** Runs a batch of one put and `deletes` deletes after a record of `pad` value bytes. */
async function batchAfter(pad: number, deletes: number): Promise<void> {
  const dev = new MemoryBlockDevice(BLOCKS);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  const gone = Array.from(
    { length: deletes },
    (_, i) => `/state/gone${String(i).padStart(2, "0")}`,
  );
  for (const k of gone) await fs.put(k, enc.encode("x"));
  await fs.put("/state/pad", new Uint8Array(pad));
  await fs.batch([
    { op: "put", key: "/state/new", value: enc.encode("v") },
    ...gone.map((key) => ({ op: "delete" as const, key })),
  ]);
  await fs.sync();
  const recs = records(dev.snapshot());
  const commit = recs.findIndex((r) => r.op === OP_TXN_COMMIT);
  assert(commit > 0, `pad ${pad}: a commit`);
  const group = recs.slice(commit);
  assertEquals(group.map((r) => r.op), [OP_TXN_COMMIT, ...gone.map(() => OP_DELETE)], `pad ${pad}`);
  const end = group[group.length - 1].at + group[group.length - 1].size;
  assertEquals(Math.floor((end - 1) / 512), Math.floor(group[0].at / 512), `pad ${pad}: one block`);
  const again = await StateFs.open(MemoryBlockDevice.fromBytes(dev.snapshot()));
  assertEquals(again.list("/state/", 100), ["/state/new", "/state/pad"], `pad ${pad}`);
}

Deno.test("a batch's commit and deletes share one block at every tail offset", async () => {
  for (let pad = 0; pad < 512; pad += 11) await batchAfter(pad, 2);
});

Deno.test("a delete group that nearly fills a block still lands in one block", async () => {
  for (let pad = 0; pad < 512; pad += 11) await batchAfter(pad, 17);
});
