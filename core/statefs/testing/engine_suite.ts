/**
 * The StateFS engine's test suite, written once against {@link EngineRig} so the same cases run on
 * every device the engine runs on: `engine_test.ts` registers it over memory, and
 * `core/virtio/statefs_virtio_test.ts` over the virtio-blk driver inside a simulated task.
 *
 * A rig runs each body on a fresh device, either zeroed or holding a copy of an image. Tests that
 * inspect or corrupt the bytes take a snapshot, edit the copy, and run again on it: that is how a
 * reboot onto a damaged disk looks on any device.
 *
 * @module
 */

import { assert, assertEquals, assertRejects } from "../../../tests/assert.ts";
import { type BlockDevice, BlockDeviceError } from "../block_device.ts";
import { crc32c } from "../crc.ts";
import { StateFs } from "../engine.ts";
import { StateFsError } from "../errors.ts";
import {
  checkpointValue,
  encodeRecord,
  encodeTxnId,
  MAX_VALUE_BYTES,
  OP_CHECKPOINT,
  OP_DELETE,
  OP_PUT,
  OP_TXN_COMMIT,
  OP_TXN_PAYLOAD,
  OP_TXN_PREPARE,
  regionStartBlock,
  SUPERBLOCK_EXT_OFFSET,
} from "../journal.ts";

/**
 * What a suite body gets: the device, and `snapshot()`, a copy of the device's bytes as a power
 * cut would leave them (for a device with a write cache: what its syncs made durable).
 */
export type EngineBody<T> = (dev: BlockDevice, snapshot: () => Uint8Array) => Promise<T>;

/** How the suite obtains a device of 512-byte blocks and runs a body on it. */
export interface EngineRig {
  /**
   * Runs `body` on a new device of `device` zeroed blocks, or holding a copy of the image
   * `device` (a whole number of blocks), and resolves with what `body` returned. A body that
   * throws rejects `run` with that error.
   */
  run<T>(device: number | Uint8Array, body: EngineBody<T>): Promise<T>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function fresh(dev: BlockDevice): Promise<StateFs> {
  await StateFs.format(dev);
  return await StateFs.open(dev);
}

async function text(fs: StateFs, key: string): Promise<string | undefined> {
  const v = await fs.get(key);
  return v === undefined ? undefined : dec.decode(v);
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await assertRejects(() => p, StateFsError);
  return err.code;
}

/**
 * Drops the superblock's record of synced journal ends (as on a device the original engine
 * wrote), so that a test can cut a synced journal short and watch replay end cleanly; with the
 * record, that cut is `CORRUPT` (lost synced records).
 */
export function forgetSyncs(img: Uint8Array): void {
  img.fill(0, SUPERBLOCK_EXT_OFFSET, 512);
}

/** A legacy-layout device of `blocks` blocks: `records` back to back from byte 0. */
function legacyImage(blocks: number, records: Uint8Array[]): Uint8Array {
  const img = new Uint8Array(blocks * 512);
  let p = 0;
  for (const r of records) {
    img.set(r, p);
    p += r.length;
  }
  return img;
}

function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Wraps any device so that its reads, writes or syncs can be made to fail. */
class FaultyDevice implements BlockDevice {
  readonly blockSize: number;
  readonly blockCount: number;
  failReads = false;
  failWrites = false;
  failSyncs = false;
  /** Fail the write of this block (once). */
  failBlock: number | undefined;
  /** Fail the sync that follows a write of this block (once). */
  failSyncAfterBlock: number | undefined;
  #armed = false;
  readonly #inner: BlockDevice;

  constructor(inner: BlockDevice) {
    this.#inner = inner;
    this.blockSize = inner.blockSize;
    this.blockCount = inner.blockCount;
  }

  read(block: number, count: number): Promise<Uint8Array> {
    if (this.failReads) return Promise.reject(new BlockDeviceError("IO_ERROR", "read fault"));
    return this.#inner.read(block, count);
  }

  write(block: number, data: Uint8Array): Promise<void> {
    if (this.failWrites || block === this.failBlock) {
      this.failBlock = undefined;
      return Promise.reject(new BlockDeviceError("IO_ERROR", "write fault"));
    }
    if (block === this.failSyncAfterBlock) {
      this.failSyncAfterBlock = undefined;
      this.#armed = true;
    }
    return this.#inner.write(block, data);
  }

  sync(): Promise<void> {
    if (this.failSyncs || this.#armed) {
      this.#armed = false;
      return Promise.reject(new BlockDeviceError("IO_ERROR", "sync fault"));
    }
    return this.#inner.sync();
  }
}

/**
 * Registers every case of the engine suite with `Deno.test`, each named `[<label>] <case>`, run
 * on devices from `rig`.
 */
export function defineEngineSuite(label: string, rig: EngineRig): void {
  const test = (name: string, fn: () => Promise<void>) => Deno.test(`[${label}] ${name}`, fn);

  test("format writes NXS2 gen 1, region A, Checkpoint{1,0}, zeros", () =>
    rig.run(64, async (dev, snapshot) => {
      await StateFs.format(dev);
      const img = snapshot();
      assertEquals(dec.decode(img.subarray(0, 4)), "NXS2");
      assertEquals([...img.subarray(4, 16)], [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
      // Checkpoint{1, 0} at the start of region A (block 1), then zeros.
      const cp = encodeRecord(0x03, "", new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
      assertEquals([...img.subarray(512, 512 + cp.length)], [...cp]);
      assert(img.subarray(512 + cp.length).every((b) => b === 0));
      const fs = await StateFs.open(dev);
      assertEquals(fs.stats(), {
        layout: "nxs2",
        generation: 1,
        activeRegion: "A",
        regionBlocks: 31,
        records: 1,
        liveKeys: 0,
        bytesLive: 23,
        bytesUsed: 23,
        compactions: 0,
      });
    }));

  test("put/get/delete/list", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      await fs.put("/state/b", enc.encode("2"));
      await fs.put("/state/a", enc.encode("1"));
      await fs.put("/state/c/x", enc.encode("3"));
      await fs.put("/state/a", enc.encode("1bis"));
      assertEquals(await text(fs, "/state/a"), "1bis");
      assertEquals(await text(fs, "/state/zz"), undefined);
      assertEquals(fs.list("/state/", 10), ["/state/a", "/state/b", "/state/c/x"]);
      assertEquals(fs.list("/state/", 2), ["/state/a", "/state/b"]);
      assertEquals(fs.list("/state/c", 10), ["/state/c/x"]);
      assertEquals(fs.list("/state/d", 10), []);
      assertEquals(fs.list("/state/", 0), []);
      await fs.delete("/state/b");
      assertEquals(await fs.get("/state/b"), undefined);
      assertEquals(fs.list("/state/", 10), ["/state/a", "/state/c/x"]);
      assertEquals(await code(fs.delete("/state/b")), "NOT_FOUND");
      assertEquals(fs.stats().liveKeys, 2);
    }));

  test("values are copied in and out (caller mutation cannot reach the store)", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      const v = enc.encode("abc");
      await fs.put("/state/k", v);
      v[0] = 0x7a;
      const got = (await fs.get("/state/k"))!;
      assertEquals(dec.decode(got), "abc");
      got[0] = 0x7a;
      assertEquals(await text(fs, "/state/k"), "abc");
    }));

  test("empty values are values, distinct from absent keys", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      await fs.put("/state/empty", new Uint8Array(0));
      await fs.reopen();
      assertEquals((await fs.get("/state/empty"))?.length, 0);
    }));

  test("replay after reopen: synced and unsynced-but-flushed writes come back", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      await fs.put("/state/a", enc.encode("1"));
      await fs.put("/state/b", enc.encode("2"));
      await fs.delete("/state/a");
      await fs.sync();
      await fs.put("/state/c", enc.encode("3"));
      await fs.reopen();
      assertEquals(await text(fs, "/state/a"), undefined);
      assertEquals(await text(fs, "/state/b"), "2");
      assertEquals(await text(fs, "/state/c"), "3");
      const other = await StateFs.open(dev);
      assertEquals(other.list("/state/", 10), ["/state/b", "/state/c"]);
      assertEquals(other.stats().records, 5);
    }));

  test("oversized value, key too long, invalid keys: typed errors, nothing written", () =>
    rig.run(512, async (dev, snapshot) => {
      const fs = await fresh(dev);
      const before = snapshot();
      assertEquals(
        await code(fs.put("/state/big", new Uint8Array(MAX_VALUE_BYTES + 1))),
        "VALUE_TOO_LARGE",
      );
      assertEquals(
        await code(fs.put("/state/" + "k".repeat(249), enc.encode("v"))),
        "KEY_TOO_LONG",
      );
      for (const bad of ["/etc/x", "/state/../x", "/state/./x", "relative", "/state/\udc00"]) {
        assertEquals(await code(fs.put(bad, enc.encode("v"))), "INVALID_KEY", bad);
        assertEquals(await code(fs.get(bad)), "INVALID_KEY", bad);
        assertEquals(await code(fs.delete(bad)), "INVALID_KEY", bad);
      }
      await fs.sync();
      assertEquals(snapshot(), before);
      // The exact limits are accepted.
      await fs.put("/state/" + "k".repeat(248), new Uint8Array(MAX_VALUE_BYTES));
      await fs.reopen();
      assertEquals((await fs.get("/state/" + "k".repeat(248)))?.length, MAX_VALUE_BYTES);
    }));

  test("a record spanning more than two blocks replays intact", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      const value = new Uint8Array(1500);
      for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
      await fs.put("/state/pad", enc.encode("x".repeat(400))); // tail mid-block
      await fs.put("/state/span", value); // covers 4 blocks
      await fs.put("/state/after", enc.encode("z"));
      await fs.sync();
      await fs.reopen();
      assertEquals(await fs.get("/state/span"), value);
      assertEquals(await text(fs, "/state/after"), "z");
    }));

  test("corrupted record stops replay at the last valid record", async () => {
    const img = await rig.run(256, async (dev, snapshot) => {
      const fs = await fresh(dev);
      await fs.put("/state/a", enc.encode("1"));
      await fs.put("/state/b", enc.encode("2"));
      await fs.put("/state/c", enc.encode("3"));
      await fs.sync();
      return snapshot();
    });
    // Flip one value byte of the Put for /state/b (second record after the checkpoint).
    const at = 512 + 23 + 24 + 19; // region A + checkpoint + Put a + header/key of Put b
    assertEquals(img[at], "2".charCodeAt(0));
    img[at] ^= 0xff;
    forgetSyncs(img);
    await rig.run(img, async (broken) => {
      const fs2 = await StateFs.open(broken);
      assertEquals(await text(fs2, "/state/a"), "1");
      assertEquals(await text(fs2, "/state/b"), undefined);
      assertEquals(await text(fs2, "/state/c"), undefined, "records after the bad one are dropped");
      assertEquals(fs2.stats().bytesUsed, 23 + 24);
      // Writing after that continues from the last valid record and stays consistent.
      await fs2.put("/state/d", enc.encode("4"));
      await fs2.sync();
      const fs3 = await StateFs.open(broken);
      assertEquals(fs3.list("/state/", 10), ["/state/a", "/state/d"]);
    });
  });

  test("truncated tail: a record cut short ends replay cleanly and is overwritten", async () => {
    const img = await rig.run(256, async (dev, snapshot) => {
      const fs = await fresh(dev);
      await fs.put("/state/keep", enc.encode("k"));
      await fs.put("/state/torn", new Uint8Array(900)); // device blocks 1..2
      await fs.sync();
      return snapshot();
    });
    img.fill(0, 512 * 2, 512 * 3); // the record's last block never reached the disk
    forgetSyncs(img);
    await rig.run(img, async (torn) => {
      const fs2 = await StateFs.open(torn);
      assertEquals(fs2.list("/state/", 10), ["/state/keep"]);
      await fs2.put("/state/new", enc.encode("n"));
      await fs2.sync();
      const fs3 = await StateFs.open(torn);
      assertEquals(fs3.list("/state/", 10), ["/state/keep", "/state/new"]);
    });
  });

  test("bounded replay: a journal longer than the bound fails to open, never half-loads", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      for (let i = 0; i < 30; i++) await fs.put(`/state/k${i}`, enc.encode("v"));
      await fs.sync();
      assertEquals(fs.stats().records, 31);
      assertEquals((await StateFs.open(dev, { maxReplayRecords: 32 })).stats().liveKeys, 30);
      // As the original: a journal of exactly the bound already fails.
      const err = await assertRejects(
        () => StateFs.open(dev, { maxReplayRecords: 31 }),
        StateFsError,
      );
      assertEquals(err.code, "CORRUPT");
      assert(err.message.includes("replay bound"));
    }));

  test("bounded replay: the engine compacts before its journal passes the bound", () =>
    rig.run(256, async (dev) => {
      await StateFs.format(dev);
      const fs = await StateFs.open(dev, { maxReplayRecords: 20 });
      for (let i = 0; i < 60; i++) await fs.put(`/state/k${i % 5}`, enc.encode(`v${i}`));
      assert(fs.stats().compactions > 0);
      assert(fs.stats().records < 20);
      await fs.sync();
      const again = await StateFs.open(dev, { maxReplayRecords: 20 });
      assertEquals(await text(again, "/state/k4"), "v59");
      // More live keys than the bound allows: NO_SPACE, and the store stays usable.
      for (let i = 5; i < 18; i++) await fs.put(`/state/k${i}`, enc.encode("x"));
      assertEquals(await code(fs.put("/state/k18", enc.encode("x"))), "NO_SPACE");
      assertEquals(fs.stats().liveKeys, 18);
    }));

  test("transaction all-or-nothing: commit applies everything, abort nothing", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      await fs.put("/state/old", enc.encode("o"));
      await fs.batch([
        { op: "put", key: "/state/x", value: enc.encode("1") },
        { op: "put", key: "/state/y", value: enc.encode("2") },
        { op: "delete", key: "/state/old" },
      ]);
      await fs.batch([
        { op: "put", key: "/state/x", value: enc.encode("aborted") },
        { op: "delete", key: "/state/y" },
      ], { abort: true });
      const check = async () => {
        assertEquals(fs.list("/state/", 10), ["/state/x", "/state/y"]);
        assertEquals(await text(fs, "/state/x"), "1");
      };
      await check();
      await fs.reopen();
      await check();
      // A failing batch writes nothing at all.
      const used = fs.stats().bytesUsed;
      assertEquals(
        await code(fs.batch([
          { op: "put", key: "/state/z", value: enc.encode("1") },
          { op: "delete", key: "/state/nope" },
        ])),
        "NOT_FOUND",
      );
      assertEquals(
        await code(fs.batch([
          { op: "put", key: "/state/z", value: enc.encode("1") },
          { op: "put", key: "/bad", value: enc.encode("1") },
        ])),
        "INVALID_KEY",
      );
      assertEquals(fs.stats().bytesUsed, used);
      // Put then delete of the same key inside one batch is fine.
      await fs.batch([
        { op: "put", key: "/state/t", value: enc.encode("1") },
        { op: "delete", key: "/state/t" },
      ]);
      assertEquals(await fs.get("/state/t"), undefined);
    }));

  test("transaction without its commit on the device is invisible after replay", async () => {
    const { img, used, commitAt } = await rig.run(256, async (dev, snapshot) => {
      const fs = await fresh(dev);
      await fs.put("/state/base", enc.encode("b"));
      await fs.sync();
      const used = fs.stats().bytesUsed;
      await fs.batch([
        { op: "put", key: "/state/p", value: enc.encode("1") },
        { op: "delete", key: "/state/base" },
      ]);
      await fs.sync();
      // The batch ends with its TxnCommit and then the Delete record of /state/base.
      const commitAt = 512 + fs.stats().bytesUsed - 23 - (15 + "/state/base".length);
      return { img: snapshot(), used, commitAt };
    });
    // Cut the commit record off: zero the journal from the commit onwards.
    img.fill(0, commitAt, 512 * 32);
    forgetSyncs(img);
    await rig.run(img, async (cut) => {
      const fs2 = await StateFs.open(cut);
      assertEquals(fs2.list("/state/", 10), ["/state/base"]);
      assert(fs2.stats().bytesUsed > used, "prepare and payloads were replayed, not applied");
      // The next write aborts the orphan first; a later plain delete is not swallowed by it.
      await fs2.delete("/state/base");
      await fs2.sync();
      const fs3 = await StateFs.open(cut);
      assertEquals(fs3.list("/state/", 10), []);
    });
  });

  test("compaction preserves every live key and survives reopen", () =>
    rig.run(40, async (dev) => {
      const fs = await fresh(dev);
      const gens: Array<{ generation: number; entries: number }> = [];
      fs.onCompaction = (info) => gens.push(info);
      const expect = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        const key = `/state/k${i % 17}`;
        const val = `value-${i}-${"p".repeat(i % 40)}`;
        await fs.put(key, enc.encode(val));
        expect.set(key, val);
        if (i % 13 === 0 && expect.has(`/state/k${(i + 1) % 17}`)) {
          await fs.delete(`/state/k${(i + 1) % 17}`);
          expect.delete(`/state/k${(i + 1) % 17}`);
        }
      }
      const auto = fs.stats().compactions;
      assert(auto > 0, "the journal filled with garbage, so it compacted by itself");
      await fs.compact();
      const st = fs.stats();
      assertEquals(st.compactions, auto + 1);
      assertEquals(gens.length, auto + 1);
      assertEquals(gens.at(-1), { generation: st.generation, entries: expect.size });
      assertEquals(st.records, 1 + expect.size);
      assertEquals(st.bytesUsed, st.bytesLive);
      const verify = async (f: StateFs) => {
        assertEquals(f.list("/state/", 100), [...expect.keys()].sort());
        for (const [k, v] of expect) assertEquals(await text(f, k), v);
      };
      await verify(fs);
      await fs.reopen();
      await verify(fs);
      const other = await StateFs.open(dev);
      await verify(other);
      assertEquals(other.stats().generation, st.generation);
      assertEquals(other.stats().activeRegion, st.activeRegion);
    }));

  test("compaction flips regions: superblock, checkpoint and zero block as specified", () =>
    rig.run(64, async (dev, snapshot) => {
      const fs = await fresh(dev); // regions of 31 blocks
      await fs.put("/state/a", enc.encode("1"));
      await fs.put("/state/b", enc.encode("2"));
      await fs.delete("/state/a");
      await fs.compact();
      const img = snapshot();
      assertEquals(
        [...img.subarray(0, 16)],
        [0x4e, 0x58, 0x53, 0x32, 1, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0],
      );
      const b = regionStartBlock(64, 1) * 512;
      const cp = encodeRecord(0x03, "", new Uint8Array([2, 0, 0, 0, 1, 0, 0, 0]));
      assertEquals([...img.subarray(b, b + 23)], [...cp]);
      const put = encodeRecord(OP_PUT, "/state/b", enc.encode("2"));
      assertEquals([...img.subarray(b + 23, b + 47)], [...put]);
      assert(img.subarray(b + 47, b + 31 * 512).every((x) => x === 0));
      await fs.compact();
      assertEquals(fs.stats().activeRegion, "A");
      assertEquals(fs.stats().generation, 3);
    }));

  test("NO_SPACE when live data cannot fit; the store stays usable", () =>
    rig.run(16, async (dev) => {
      const fs = await fresh(dev); // regions of 7 blocks = 3584 bytes
      await fs.put("/state/a", new Uint8Array(3000));
      assertEquals(await code(fs.put("/state/b", new Uint8Array(1000))), "NO_SPACE");
      assertEquals(fs.list("/state/", 10), ["/state/a"]);
      await fs.put("/state/a", new Uint8Array(2000)); // replacing fits after a compaction
      await fs.reopen();
      assertEquals((await fs.get("/state/a"))?.length, 2000);
    }));

  test("a blank device opens empty; the first write formats it NXS2", () =>
    rig.run(64, async (dev, snapshot) => {
      const fs = await StateFs.open(dev);
      assertEquals(fs.stats().layout, "legacy");
      await fs.put("/state/a", enc.encode("x"));
      await fs.sync();
      // Formatted as mkfs does: region A starts with Checkpoint{1, 0}, then the golden Put.
      const b = 512;
      assertEquals([...snapshot().subarray(b + 23, b + 47)], [
        ...encodeRecord(OP_PUT, "/state/a", enc.encode("x")),
      ]);
      const again = await StateFs.open(dev);
      assertEquals(again.stats().layout, "nxs2");
      assertEquals(await text(again, "/state/a"), "x");
    }));

  test("legacy journal written by hand replays, transactions included, and migrates", () => {
    const recs = [
      encodeRecord(OP_PUT, "/state/a", enc.encode("1")),
      encodeRecord(OP_PUT, "/state/b", enc.encode("2")),
      encodeRecord(OP_TXN_PREPARE, "", encodeTxnId(5n)),
      encodeRecord(OP_TXN_PAYLOAD, "/state/c", cat(encodeTxnId(5n), enc.encode("3"))),
      encodeRecord(OP_DELETE, "/state/a"),
      encodeRecord(OP_TXN_COMMIT, "", encodeTxnId(5n)),
    ];
    return rig.run(legacyImage(64, recs), async (dev) => {
      const fs = await StateFs.open(dev);
      assertEquals(fs.list("/state/", 10), ["/state/b", "/state/c"]);
      // Two live Puts of an 8-byte key and a 1-byte value; a legacy journal has no Checkpoint.
      assertEquals(fs.stats().bytesLive, 2 * (15 + 8 + 1));
      await fs.compact();
      assertEquals(fs.stats().layout, "nxs2");
      assertEquals(fs.stats().activeRegion, "B");
      const again = await StateFs.open(dev);
      assertEquals(again.stats().layout, "nxs2");
      assertEquals(again.list("/state/", 10), ["/state/b", "/state/c"]);
      assertEquals(await text(again, "/state/c"), "3");
    });
  });

  test("a Checkpoint inside a legacy journal drops every key before it", () =>
    rig.run(
      legacyImage(64, [
        encodeRecord(OP_PUT, "/state/a", enc.encode("1")),
        encodeRecord(OP_CHECKPOINT, "", checkpointValue(1, 0)),
        encodeRecord(OP_PUT, "/state/b", enc.encode("22")),
      ]),
      async (dev) => {
        const fs = await StateFs.open(dev);
        assertEquals(fs.list("/state/", 10), ["/state/b"]);
        assertEquals(await fs.get("/state/a"), undefined);
        assertEquals(fs.stats().bytesLive, 15 + 8 + 2);
      },
    ));

  test("open rejects garbage, a bad superblock, and a checkpoint that disagrees", async () => {
    await rig.run(16, async (garbage) => {
      await garbage.write(0, new Uint8Array(512).fill(0x5a));
      assertEquals(await code(StateFs.open(garbage)), "CORRUPT");
    });

    const img = await rig.run(16, async (dev, snapshot) => {
      const fs = await fresh(dev);
      await fs.sync();
      return snapshot();
    });
    const badCrc = img.slice();
    badCrc[9] ^= 1; // generation byte; CRC no longer matches
    await rig.run(badCrc, async (dev) => {
      assertEquals(await code(StateFs.open(dev)), "CORRUPT");
    });

    // A valid superblock whose generation disagrees with region A's checkpoint.
    const disagrees = img.slice();
    disagrees[8] = 7;
    new DataView(disagrees.buffer).setUint32(16, crc32c(disagrees.subarray(0, 16)), true);
    await rig.run(disagrees, async (dev) => {
      const err = await assertRejects(() => StateFs.open(dev), StateFsError);
      assertEquals(err.code, "CORRUPT");
      assert(err.message.includes("checkpoint"));
    });
  });

  test("stale records beyond the tail never resurface (region reuse after compactions)", () =>
    rig.run(32, async (dev) => {
      const fs = await fresh(dev); // regions of 15 blocks
      // Fill region A with block-aligned records, compact twice so A is reused.
      for (let i = 0; i < 10; i++) await fs.put(`/state/s${i}`, new Uint8Array(200));
      await fs.compact();
      for (let i = 0; i < 10; i++) await fs.delete(`/state/s${i}`);
      await fs.compact();
      assertEquals(fs.stats().activeRegion, "A");
      await fs.put("/state/only", enc.encode("1"));
      await fs.sync();
      const again = await StateFs.open(dev);
      assertEquals(again.list("/state/", 100), ["/state/only"]);
    }));

  test("compaction zeroes after its content: an old record at the block boundary stays dead", () =>
    rig.run(64, async (dev) => {
      const fs = await fresh(dev);
      // Checkpoint (23) + Put of a 9-byte key with 465 bytes = exactly one block; the next
      // record starts at a block boundary. Compact to B, drop that record, compact back to A:
      // the new content ends exactly where the stale record begins.
      await fs.put("/state/k1", new Uint8Array(465));
      await fs.put("/state/zz", enc.encode("stale"));
      await fs.sync(); // region A now holds the record on the device
      await fs.compact();
      await fs.delete("/state/zz");
      await fs.compact();
      assertEquals(fs.stats().activeRegion, "A");
      assertEquals(fs.stats().bytesUsed, 512);
      const reopened = await StateFs.open(dev);
      assertEquals(reopened.list("/state/", 10), ["/state/k1"]);
    }));

  test("concurrent calls are serialised in call order", () =>
    rig.run(256, async (dev) => {
      const fs = await fresh(dev);
      const pending = [
        fs.put("/state/a", enc.encode("1")),
        fs.batch([{ op: "put", key: "/state/b", value: enc.encode("2") }]),
        fs.delete("/state/a"),
        fs.put("/state/a", enc.encode("3")),
        fs.delete("/state/missing"),
        fs.sync(),
      ];
      const results = await Promise.allSettled(pending);
      assertEquals(results.map((r) => r.status), [
        "fulfilled",
        "fulfilled",
        "fulfilled",
        "fulfilled",
        "rejected",
        "fulfilled",
      ]);
      const again = await StateFs.open(dev);
      assertEquals(again.list("/state/", 10), ["/state/a", "/state/b"]);
      assertEquals(await text(again, "/state/a"), "3");
    }));

  test("NO_SPACE leaves replayed values intact (legacy journal too long to migrate)", () =>
    // Legacy device of 8 blocks: migration needs the journal within the first 4 blocks.
    // The journal (written as the original would) runs past block 4, so it stays legacy.
    rig.run(
      legacyImage(8, [
        encodeRecord(OP_PUT, "/state/a", enc.encode("first")),
        encodeRecord(OP_PUT, "/state/b", new Uint8Array(2500)),
      ]),
      async (dev) => {
        const fs2 = await StateFs.open(dev);
        assertEquals(await code(fs2.put("/state/a", new Uint8Array(2000))), "NO_SPACE");
        assertEquals(await code(fs2.compact()), "NO_SPACE");
        assertEquals(await text(fs2, "/state/a"), "first");
        assertEquals(fs2.list("/state/", 10), ["/state/a", "/state/b"]);
        assertEquals(fs2.stats().bytesLive, 15 + 8 + 5 + 15 + 8 + 2500);
        await fs2.delete("/state/b"); // still writable where there is room
        await fs2.reopen();
        assertEquals(fs2.list("/state/", 10), ["/state/a"]);
      },
    ));

  test("device faults surface as IO_ERROR and the device stays the truth", async () => {
    await rig.run(64, async (base) => {
      const dev = new FaultyDevice(base);
      await StateFs.format(dev);
      const fs = await StateFs.open(dev);
      await fs.put("/state/kept", enc.encode("1"));
      await fs.sync();
      dev.failWrites = true;
      await fs.put("/state/lost", enc.encode("2")); // buffered: nothing reaches the device yet
      assertEquals(await code(fs.sync()), "IO_ERROR");
      assertEquals(await code(fs.compact()), "IO_ERROR");
      dev.failWrites = false;
      dev.failSyncs = true;
      assertEquals(await code(fs.sync()), "IO_ERROR");
      dev.failSyncs = false;
      await fs.sync(); // the retried flush lands
      assertEquals((await StateFs.open(dev)).list("/state/", 10), ["/state/kept", "/state/lost"]);
      dev.failReads = true;
      assertEquals(await code(StateFs.open(dev)), "IO_ERROR");
      assertEquals(await code(fs.reopen()), "IO_ERROR");
      dev.failReads = false;
      await fs.reopen();
      assertEquals(fs.list("/state/", 10), ["/state/kept", "/state/lost"]);
    });
    await rig.run(16, async (base) => {
      const formatTarget = new FaultyDevice(base);
      formatTarget.failWrites = true;
      assertEquals(await code(StateFs.format(formatTarget)), "IO_ERROR");
    });
  });

  test("format needs room for two regions", async () => {
    await rig.run(2, async (dev) => {
      assertEquals(await code(StateFs.format(dev)), "NO_SPACE");
    });
    await rig.run(3, async (dev) => {
      const fs = await fresh(dev);
      assertEquals(fs.stats().regionBlocks, 1);
    });
  });

  test("a compaction failing at its superblock flip loses nothing, flipped or not", async () => {
    for (const flipLands of [false, true]) {
      await rig.run(64, async (base) => {
        const dev = new FaultyDevice(base);
        await StateFs.format(dev);
        const fs = await StateFs.open(dev);
        await fs.put("/state/a", enc.encode("1"));
        await fs.sync();
        await fs.put("/state/b", enc.encode("2")); // acknowledged, still buffered
        if (flipLands) dev.failSyncAfterBlock = 0; // the superblock is written, its sync fails
        else dev.failBlock = 0; // the superblock write itself fails
        assertEquals(await code(fs.compact()), "IO_ERROR");
        assertEquals(fs.list("/state/", 10), ["/state/a", "/state/b"]);
        await fs.put("/state/c", enc.encode("3"));
        await fs.sync();
        const again = await StateFs.open(dev);
        assertEquals(
          again.list("/state/", 10),
          ["/state/a", "/state/b", "/state/c"],
          `${flipLands}`,
        );
        assertEquals(again.stats().activeRegion, flipLands ? "B" : "A");
        assertEquals(fs.stats().activeRegion, flipLands ? "B" : "A");
      });
    }
  });
}
