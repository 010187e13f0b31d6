import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { call } from "../../core/kernel/rpc.ts";
import { KernelError, type Syscalls } from "../../core/kernel/types.ts";
import { MemoryStore } from "../../core/virtio/store.ts";
import { STATEFS_TYPE_GUID } from "../../core/statefs/gpt.ts";
import { logd } from "../logd/main.ts";
import { logQuery } from "../logd/protocol.ts";
import { bootServices, type FakePeer, type RigClient, type RigResult } from "../testing/rig.ts";
import { statefsd } from "./main.ts";
import { MemoryBlockDevice, StateFs } from "../../core/statefs/mod.ts";
import {
  decodeGetBody,
  decodeReply,
  encodeGet,
  encodePut,
  MAX_VALUE_BYTES,
  SF_ACCESS_DENIED,
  SF_INVALID_KEY,
  SF_KEY_TOO_LONG,
  SF_MALFORMED,
  SF_NOT_FOUND,
  SF_OK,
  SF_UNSUPPORTED,
  SF_V1,
  SF_V2,
  SF_VALUE_TOO_LARGE,
  type SfReply,
  StatefsClient,
  StatefsdError,
} from "./protocol.ts";
import {
  diskOptions,
  fakePolicyd,
  makeDisk,
  type PolicyQuestion,
  TEST_STATE_FIRST_LBA,
} from "../testing/statefs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const GRANTS: Record<string, string[]> = {
  client: ["statefs.read", "statefs.write"],
  booter: ["statefs.boot", "statefs.boot.read"],
  reader: ["statefs.boot.read"],
  keystored: [],
};

interface BootOptions {
  store?: MemoryStore;
  clients?: RigClient[];
  grants?: Record<string, string[]>;
  log?: PolicyQuestion[];
  config?: Record<string, unknown>;
  omit?: string[];
  legacy?: boolean;
  policyd?: FakePeer;
}

function boot(opts: BootOptions = {}): Promise<RigResult> {
  const store = opts.store ?? makeDisk();
  return bootServices({
    services: [
      { module: logd },
      opts.policyd ?? fakePolicyd(opts.grants ?? GRANTS, opts.log),
      {
        module: statefsd,
        config: opts.config ?? { services: ["logd", "policyd", "statefsd", "client", "booter"] },
        omit: opts.omit,
      },
    ],
    clients: opts.clients,
    ...diskOptions(store, { legacy: opts.legacy }),
  });
}

function client(
  body: (
    sys: Syscalls,
    slots: Readonly<Record<string, number>>,
    sf: StatefsClient,
  ) => Promise<void>,
  name = "client",
): RigClient {
  return {
    name,
    body: (sys, slots) => body(sys, slots, new StatefsClient(sys, slots.statefsd, slots.reply)),
  };
}

async function raw(
  sys: Syscalls,
  slots: Readonly<Record<string, number>>,
  frame: Uint8Array,
): Promise<SfReply> {
  return decodeReply((await call(sys, slots.statefsd, slots.reply, frame)).data);
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return SF_OK;
  } catch (err) {
    if (err instanceof StatefsdError) return err.status;
    throw err;
  }
}

Deno.test("statefsd: brings up the disk before it prints ready", async () => {
  const r = await boot();
  const at = (text: string) => r.lines.findIndex((l) => l.includes(text));
  assert(at("slot-check: statefsd all 5 slots ok") >= 0, r.lines.join("\n"));
  assert(at("virtio-blk: mmio modern") > at("slot-check: statefsd"));
  assert(at("blk: virtio-blk up (ss=512 nsec=8192)") > at("virtio-blk: mmio modern"));
  const mount = r.lines[at("statefsd: formatted and mounted")];
  assertEquals(
    mount,
    `statefsd: formatted and mounted nexus-state (lba ${TEST_STATE_FIRST_LBA}, 2048 blocks, gen 1, 0 keys)`,
  );
  assert(at("statefsd: ready") > at("statefsd: formatted and mounted"));
});

Deno.test("statefsd: every op's happy path, v1 and v2, and persistence across a restart", async () => {
  const store = makeDisk();
  await boot({
    store,
    clients: [client(async (sys, slots, sf) => {
      await sf.put("/state/app/a", enc.encode("alpha"));
      await sf.put("/state/app/b", enc.encode("beta"));
      await sf.put("/state/other", enc.encode("x"));
      assertEquals(dec.decode(await sf.get("/state/app/a")), "alpha");
      assertEquals(await sf.list("/state/app/"), ["/state/app/a", "/state/app/b"]);
      assertEquals(await sf.list("/state/", 2), ["/state/app/a", "/state/app/b"]);
      await sf.delete("/state/app/b");
      assertEquals(await sf.tryGet("/state/app/b"), null);
      await sf.batch([
        { kind: "put", key: "/state/app/c", value: enc.encode("gamma") },
        { kind: "delete", key: "/state/other" },
      ]);
      assertEquals(await sf.list("/state/"), ["/state/app/a", "/state/app/c"]);
      await sf.sync();
      await sf.reopen();
      assertEquals(dec.decode(await sf.get("/state/app/c")), "gamma");
      // v1 speaks without a nonce and gets a v1 reply.
      const v1 = new StatefsClient(sys, slots.statefsd, slots.reply, { version: SF_V1 });
      assertEquals(dec.decode(await v1.get("/state/app/a")), "alpha");
      const reply = await raw(
        sys,
        slots,
        encodeGet("/state/app/a", { version: SF_V2, nonce: 77n }),
      );
      assertEquals([reply.version, reply.nonce, reply.status], [SF_V2, 77n, SF_OK]);
      assertEquals(dec.decode(decodeGetBody(reply.body)), "alpha");
    })],
  });
  const again = await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      assertEquals(await sf.list("/state/"), ["/state/app/a", "/state/app/c"]);
      assertEquals(dec.decode(await sf.get("/state/app/a")), "alpha");
    })],
  });
  assert(
    again.lines.some((l) => l.startsWith("statefsd: mounted nexus-state") && l.includes("2 keys")),
  );
  assert(!again.lines.some((l) => l.includes("formatted")));
});

Deno.test("statefsd: malformed, unsupported and oversized requests get their status", async () => {
  await boot({
    clients: [client(async (sys, slots, sf) => {
      const s = async (frame: Uint8Array) => (await raw(sys, slots, frame)).status;
      assertEquals(await s(Uint8Array.of(0x53, 0x46, 1)), SF_MALFORMED);
      assertEquals(await s(Uint8Array.of(0x51, 0x46, 1, 2, 0, 0)), SF_MALFORMED);
      assertEquals(await s(Uint8Array.of(0x53, 0x46, 9, 2)), SF_UNSUPPORTED);
      assertEquals(await s(Uint8Array.of(0x53, 0x46, 1, 42)), SF_UNSUPPORTED);
      const put = encodePut("/state/k", enc.encode("v"));
      assertEquals(await s(put.subarray(0, put.length - 1)), SF_MALFORMED);
      const big = new Uint8Array(10);
      big.set([0x53, 0x46, 1, 1, 8, 0]);
      new DataView(big.buffer).setUint32(6, MAX_VALUE_BYTES + 1, true);
      assertEquals(await s(big), SF_VALUE_TOO_LARGE);
      assertEquals(await s(encodeGet("/state/" + "x".repeat(300))), SF_KEY_TOO_LONG);
      assertEquals(await s(encodeGet("/tmp/x")), SF_INVALID_KEY);
      assertEquals(await statusOf(sf.get("/state/none")), SF_NOT_FOUND);
      assertEquals(await statusOf(sf.delete("/state/none")), SF_NOT_FOUND);
      // The largest value that fits is stored and read back whole.
      const value = new Uint8Array(MAX_VALUE_BYTES - 40).fill(0x5a);
      await sf.put("/state/big", value);
      assertEquals(await sf.get("/state/big"), value);
      // A v2 error reply still echoes the nonce.
      const e = await raw(sys, slots, encodeGet("/nope", { version: SF_V2, nonce: 0xabcdn }));
      assertEquals([e.status, e.nonce], [SF_INVALID_KEY, 0xabcdn]);
    })],
  });
});

Deno.test("statefsd: prefix rules are enforced, denials printed and audited", async () => {
  const log: PolicyQuestion[] = [];
  const r = await boot({
    log,
    clients: [
      client(async (_sys, _slots, sf) => {
        // Granted read/write, but the keystore belongs to keystored and boot needs statefs.boot.
        await sf.put("/state/app/x", enc.encode("1"));
        assertEquals(await statusOf(sf.get("/state/keystore/device.signing")), SF_ACCESS_DENIED);
        assertEquals(
          await statusOf(sf.put("/state/keystore/device.signing", new Uint8Array(32))),
          SF_ACCESS_DENIED,
        );
        assertEquals(await statusOf(sf.get("/state/boot/bootctl.v1")), SF_ACCESS_DENIED);
        assertEquals(
          await statusOf(sf.batch([
            { kind: "put", key: "/state/app/y", value: enc.encode("2") },
            { kind: "put", key: "/state/boot/z", value: enc.encode("3") },
          ])),
          SF_ACCESS_DENIED,
        );
        assertEquals(await sf.tryGet("/state/app/y"), null);
        assertEquals(await statusOf(sf.list("/state/keystore/")), SF_ACCESS_DENIED);
      }),
    ],
  });
  for (
    const path of ["/state/keystore/device.signing", "/state/boot/bootctl.v1", "/state/boot/z"]
  ) {
    assert(
      r.lines.includes(`statefsd: access denied path=${path} sender=client`),
      `no denial line for ${path}`,
    );
  }
  // Only the cap rules reach policyd; the keystore owner rule is decided by statefsd itself.
  assert(log.every((q) => q.cap.startsWith("statefs.")));
  assert(log.some((q) => q.cap === "statefs.boot" && !q.allowed));
});

Deno.test("statefsd: owners and grant holders get through; lists hide what they may not read", async () => {
  await boot({
    clients: [
      client(async (_sys, _slots, sf) => {
        await sf.put("/state/keystore/device.signing", new Uint8Array(32).fill(1));
        await sf.put("/state/keystore/other", Uint8Array.of(2));
        assertEquals(await sf.list("/state/keystore/"), [
          "/state/keystore/device.signing",
          "/state/keystore/other",
        ]);
      }, "keystored"),
      client(async (_sys, _slots, sf) => {
        await sf.put("/state/boot/bootctl.v1", Uint8Array.of(1, 1, 0xff, 0xff, 0, 1));
        await sf.sync();
        assertEquals(await sf.get("/state/boot/bootctl.v1"), Uint8Array.of(1, 1, 0xff, 0xff, 0, 1));
        // No statefs.read: other keys are out of reach.
        assertEquals(await statusOf(sf.get("/state/app/x")), SF_ACCESS_DENIED);
      }, "booter"),
      client(async (_sys, _slots, sf) => {
        await sf.put("/state/app/x", enc.encode("1"));
        const all = await sf.list("/state/");
        assert(all.includes("/state/app/x"));
        assert(!all.some((k) => k.startsWith("/state/keystore") || k.startsWith("/state/boot")));
      }),
    ],
  });
});

Deno.test("statefsd: denials reach logd with the kernel-reported sender", async () => {
  const r = await bootServices({
    services: [
      { module: logd },
      fakePolicyd({}),
      { module: statefsd, config: { services: ["logd"] } },
    ],
    clients: [{
      name: "stranger",
      body: async (sys, slots) => {
        const sf = new StatefsClient(sys, slots.statefsd, slots.reply);
        assertEquals(await statusOf(sf.put("/state/app/x", Uint8Array.of(1))), SF_ACCESS_DENIED);
        // Let statefsd's fire-and-forget audit land before asking logd.
        await sys.yield();
        const q = await logQuery(sys, slots.logd, slots.reply);
        const deny = q.records.find((rec) => rec.text.startsWith("statefsd deny"));
        assert(deny, q.records.map((rec) => rec.text).join("\n"));
        assertMatch(deny.text, /op=put path=\/state\/app\/x sender=0x[0-9a-f]{16}/);
      },
    }],
    ...diskOptions(makeDisk()),
  });
  // An unknown sender prints as its identity.
  assert(r.lines.some((l) => /access denied path=\/state\/app\/x sender=0x[0-9a-f]{16}$/.test(l)));
});

Deno.test("statefsd: an aborted batch stays invisible after a replay, a committed one survives", async () => {
  const store = makeDisk();
  await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      await sf.put("/state/txn/base", enc.encode("0"));
      await sf.batch([
        { kind: "put", key: "/state/txn/a", value: enc.encode("aborted") },
        { kind: "delete", key: "/state/txn/base" },
      ], { abort: true });
      await sf.batch([{ kind: "put", key: "/state/txn/b", value: enc.encode("committed") }]);
      await sf.sync();
      await sf.reopen();
      assertEquals(await sf.list("/state/txn/"), ["/state/txn/b", "/state/txn/base"]);
    })],
  });
  await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      assertEquals(await sf.tryGet("/state/txn/a"), null);
      assertEquals(dec.decode(await sf.get("/state/txn/b")), "committed");
      assertEquals(dec.decode(await sf.get("/state/txn/base")), "0");
    })],
  });
});

Deno.test("statefsd: churn compacts the journal and keeps every last value", async () => {
  // A 256-block partition: two regions of 127 blocks, so churn compacts quickly.
  const store = makeDisk({ partitions: [["nexus-state", 2048, 256]] });
  const last = new Map<string, number>();
  const r = await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      const before = await sf.stats();
      assertEquals([before.generation, before.compactions, before.regionBytes], [1, 0, 127 * 512]);
      let i = 0;
      // Churn until STATS shows a new generation.
      while ((await sf.stats()).generation === before.generation) {
        assert(i < 200, "no compaction after 200 puts");
        const key = `/state/churn/${i % 5}`;
        await sf.put(key, new Uint8Array(1500).fill(i));
        last.set(key, i++);
      }
      const after = await sf.stats();
      assertEquals([after.generation, after.compactions, after.liveKeys], [2, 1, 5]);
      assert(after.bytesUsed < after.regionBytes / 2);
      await sf.sync();
      await sf.reopen();
      for (const [key, n] of last) assertEquals(await sf.get(key), new Uint8Array(1500).fill(n));
    })],
  });
  const done = r.lines.filter((l) => l.startsWith("statefsd: compaction done"));
  assertEquals(done, ["statefsd: compaction done (gen=2, entries=5)"]);
});

Deno.test("statefsd: a disk it cannot bring up is a FAIL, never an empty store", async () => {
  const noPartition = await boot({
    store: makeDisk({ partitions: [["other", 2048, 2048]] }),
  });
  assert(
    noPartition.lines.some((l) =>
      l.startsWith("statefsd: FAIL disk partition (no partition of type ") &&
      l.includes('or named "nexus-state" or "state" (partitions: other)')
    ),
    noPartition.lines.join("\n"),
  );
  assert(!noPartition.lines.includes("statefsd: ready"));

  const garbage = makeDisk();
  garbage.bytes.fill(0x41, TEST_STATE_FIRST_LBA * 512, (TEST_STATE_FIRST_LBA + 1) * 512);
  const g = await boot({ store: garbage });
  assert(g.lines.some((l) => l.startsWith("statefsd: FAIL disk open")), g.lines.join("\n"));

  // A StateFS whose superblock sector was zeroed is corrupt, never blank: not formatted.
  const lost = makeDisk();
  const area = new MemoryBlockDevice(2048);
  await StateFs.format(area);
  const fs = await StateFs.open(area);
  await fs.put("/state/kept", enc.encode("v"));
  await fs.sync();
  const bytes = area.snapshot();
  bytes.fill(0, 0, 512);
  lost.bytes.set(bytes, TEST_STATE_FIRST_LBA * 512);
  const before = lost.bytes.slice();
  const l = await boot({ store: lost });
  assert(
    l.lines.some((line) => line.startsWith("statefsd: FAIL disk") && line.includes("superblock")),
    l.lines.join("\n"),
  );
  assert(!l.lines.some((line) => line.includes("formatted and mounted")));
  assertEquals(lost.bytes, before, "nothing written");

  const legacy = await boot({ legacy: true });
  assert(legacy.lines.includes("virtio-blk: mmio legacy unsupported"));
  assert(legacy.lines.some((l) => l.startsWith("statefsd: FAIL disk probe")));

  // A client of a statefsd that gave up sees its endpoint closed.
  await boot({
    store: makeDisk({ partitions: [["other", 2048, 2048]] }),
    clients: [client(async (_sys, _slots, sf) => {
      const err = await assertRejects(() => sf.get("/state/x"), KernelError);
      assertEquals(err.code, "CLOSED");
    })],
  });
});

Deno.test("statefsd: a disk without a GPT is one whole-device StateFS, formatted when blank", async () => {
  const store = new MemoryStore(4096);
  await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      // Discovery proved the disk blank: formatting it reads it no second time.
      const read = (await sf.stats()).counters!.sectorsRead;
      assert(read < 64, `${read} sectors read to format a proven-blank disk`);
      await sf.put("/state/app/a", enc.encode("alpha"));
      await sf.sync();
    })],
  }).then((r) => {
    assert(
      r.lines.includes("statefsd: formatted and mounted whole disk (4096 blocks, gen 1, 0 keys)"),
      r.lines.join("\n"),
    );
  });
  assertEquals(dec.decode(store.bytes.subarray(0, 4)), "NXS2", "the superblock is at byte 0");
  const again = await boot({ store });
  assert(
    again.lines.includes("statefsd: mounted whole disk (4096 blocks, gen 1, 1 keys)"),
    again.lines.join("\n"),
  );
});

Deno.test("statefsd: a blank disk too small to format is a FAIL at the format step", async () => {
  const r = await boot({ store: new MemoryStore(2) });
  assert(
    r.lines.includes("statefsd: FAIL disk format (device of 2 blocks is too small)"),
    r.lines.join("\n"),
  );
  assert(!r.lines.includes("statefsd: ready"));
});

Deno.test("statefsd: a format cut short before its superblock is garbage and is redone", async () => {
  const store = new MemoryStore(4096);
  await boot({ store });
  store.bytes.fill(0, 0, 512); // the superblock never landed; block 1 holds Checkpoint{1, 0}
  const r = await boot({ store });
  assert(
    r.lines.includes("statefsd: formatted and mounted whole disk (4096 blocks, gen 1, 0 keys)"),
    r.lines.join("\n"),
  );
});

Deno.test("statefsd: a disk that is not provably blank is never formatted", async () => {
  // Whole disk: sector 0 zero, data further on (a StateFS that lost its superblock, say).
  const whole = new MemoryStore(4096);
  whole.bytes[3000 * 512 + 7] = 1;
  const before = whole.bytes.slice();
  const w = await boot({ store: whole });
  assert(
    w.lines.some((l) =>
      l.startsWith("statefsd: FAIL disk layout (sector 0 is zero but sector 3000 holds data")
    ),
    w.lines.join("\n"),
  );
  assert(!w.lines.includes("statefsd: ready"));
  assertEquals(whole.bytes, before, "nothing written");

  // A partition whose superblock was zeroed: the journal after it is data, not blankness.
  const part = makeDisk();
  await boot({
    store: part,
    clients: [client(async (_sys, _slots, sf) => {
      await sf.put("/state/app/a", enc.encode("alpha"));
      await sf.sync();
    })],
  });
  part.bytes.fill(0, TEST_STATE_FIRST_LBA * 512, (TEST_STATE_FIRST_LBA + 1) * 512);
  const zeroed = part.bytes.slice();
  const p = await boot({ store: part });
  assert(
    p.lines.some((l) => l.startsWith("statefsd: FAIL disk format (block 0 is zero but block 1")),
    p.lines.join("\n"),
  );
  assertEquals(part.bytes, zeroed, "nothing written");
});

Deno.test("statefsd: a GPT whose MBR and primary header are zeroed mounts from the backup, with a warning", async () => {
  const store = makeDisk();
  await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      await sf.put("/state/app/a", enc.encode("alpha"));
      await sf.sync();
    })],
  });
  store.bytes.fill(0, 0, 2 * 512);
  const r = await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      assertEquals(dec.decode(await sf.get("/state/app/a")), "alpha");
    })],
  });
  assert(
    r.lines.includes(
      'statefsd: warning: primary GPT header at LBA 1: no "EFI PART" signature',
    ),
    r.lines.join("\n"),
  );
  assert(r.lines.includes("statefsd: warning: using the backup GPT"));
  assert(r.lines.some((l) => l.startsWith("statefsd: mounted nexus-state (lba 2048")));
  assertEquals(store.bytes.subarray(0, 1024), new Uint8Array(1024), "the table is not rewritten");
});

Deno.test("statefsd: the partition is found by type first, then by name (nexus-state, state)", async () => {
  const typed = makeDisk({
    partitions: [["nexus-state", 2048, 1024], ["anything", 4096, 1024, STATEFS_TYPE_GUID]],
  });
  const t = await boot({ store: typed });
  assert(
    t.lines.includes(
      "statefsd: formatted and mounted anything (lba 4096, 1024 blocks, gen 1, 0 keys)",
    ),
    t.lines.join("\n"),
  );
  const original = makeDisk({ partitions: [["boot", 2048, 1024], ["state", 4096, 1024]] });
  const o = await boot({ store: original });
  assert(
    o.lines.includes(
      "statefsd: formatted and mounted state (lba 4096, 1024 blocks, gen 1, 0 keys)",
    ),
    o.lines.join("\n"),
  );
  const two = makeDisk({
    partitions: [["a", 2048, 1024, STATEFS_TYPE_GUID], ["b", 4096, 1024, STATEFS_TYPE_GUID]],
  });
  const d = await boot({ store: two });
  assert(
    d.lines.some((l) =>
      l.startsWith("statefsd: FAIL disk partition (2 partitions have the StateFS type")
    ),
    d.lines.join("\n"),
  );
});

Deno.test("statefsd: a missing slot fails the slot check and nothing is served", async () => {
  const r = await boot({ omit: ["blk"] });
  assert(r.lines.some((l) => l.startsWith("SLOT MISSING: statefsd needs blk at slot")));
  assert(r.lines.includes("slot-check: statefsd FAIL (1 missing)"));
  assert(!r.lines.some((l) => l.startsWith("virtio-blk:") || l === "statefsd: ready"));
});

Deno.test("statefsd: no answer from policyd is no grant", async () => {
  const r = await boot({
    policyd: { name: "policyd", handler: () => Uint8Array.of(1, 2, 3) },
    clients: [client(async (_sys, _slots, sf) => {
      assertEquals(await statusOf(sf.put("/state/app/x", Uint8Array.of(1))), SF_ACCESS_DENIED);
    })],
  });
  assert(r.lines.some((l) => l.startsWith("statefsd: policy check error")));
  assert(r.lines.includes("statefsd: access denied path=/state/app/x sender=client"));
});

Deno.test("statefsd: statefs.boot.read reads the boot record, only statefs.boot writes it", async () => {
  const store = makeDisk();
  await boot({
    store,
    clients: [
      client(async (_sys, _slots, sf) => {
        await sf.put("/state/boot/bootctl.v1", Uint8Array.of(1));
        await sf.sync();
      }, "booter"),
    ],
  });
  const r = await boot({
    store,
    config: { services: ["logd", "policyd", "statefsd", "reader"] },
    clients: [
      client(async (_sys, _slots, sf) => {
        assertEquals(await sf.get("/state/boot/bootctl.v1"), Uint8Array.of(1));
        assertEquals(await sf.list("/state/boot/"), ["/state/boot/bootctl.v1"]);
        assertEquals(
          await statusOf(sf.put("/state/boot/bootctl.v1", Uint8Array.of(2))),
          SF_ACCESS_DENIED,
        );
        assertEquals(await statusOf(sf.delete("/state/boot/bootctl.v1")), SF_ACCESS_DENIED);
        assertEquals(await sf.get("/state/boot/bootctl.v1"), Uint8Array.of(1));
      }, "reader"),
    ],
  });
  assert(r.lines.includes("statefsd: access denied path=/state/boot/bootctl.v1 sender=reader"));
});

Deno.test("statefsd: STATS counts GETs, unsynced writes and the sectors a REOPEN replays", async () => {
  await boot({
    clients: [client(async (_sys, _slots, sf) => {
      const c0 = (await sf.stats()).counters!;
      assertEquals([c0.gets, c0.unsynced], [0, 0]);
      await sf.put("/state/app/a", Uint8Array.of(1));
      await sf.batch([{ kind: "put", key: "/state/app/b", value: Uint8Array.of(2) }]);
      // A committed batch is a write not yet durable; an aborted one wrote nothing.
      assertEquals((await sf.stats()).counters!.unsynced, 2);
      await sf.batch([{ kind: "put", key: "/state/app/c", value: Uint8Array.of(3) }], {
        abort: true,
      });
      assertEquals((await sf.stats()).counters!.unsynced, 2);
      await sf.delete("/state/app/b");
      assertEquals((await sf.stats()).counters!.unsynced, 3);
      // A reopen writes but does not flush: still not durable.
      await sf.reopen();
      assertEquals((await sf.stats()).counters!.unsynced, 3);
      await sf.sync();
      assertEquals((await sf.stats()).counters!.unsynced, 0);
      await sf.get("/state/app/a");
      await sf.tryGet("/state/app/none");
      assertEquals((await sf.stats()).counters!.gets, 2);
      const before = (await sf.stats()).counters!.sectorsRead;
      await sf.reopen();
      const after = await sf.stats();
      assert(after.counters!.sectorsRead - before >= Math.ceil(after.bytesUsed / 512));
    })],
  });
});

Deno.test("statefsd: a journal several replay chunks long comes back whole after a reopen and a restart", async () => {
  // 8 MiB partition: two regions of ~4 MiB; 3 MiB of live data is three 1 MiB replay chunks.
  const store = makeDisk({ sectors: 20480, partitions: [["nexus-state", 2048, 16384]] });
  const value = (i: number) => new Uint8Array(7900).fill(i & 0xff).fill(i >> 8, 0, 1);
  const keys = 400;
  await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      for (let i = 0; i < keys; i++) await sf.put(`/state/big/${i}`, value(i));
      await sf.sync();
      await sf.reopen();
      const st = await sf.stats();
      assert(st.bytesUsed > 3 * 1024 * 1024, `journal of ${st.bytesUsed} bytes`);
      assertEquals(st.liveKeys, keys);
      for (let i = 0; i < keys; i++) assertEquals(await sf.get(`/state/big/${i}`), value(i));
    })],
  });
  await boot({
    store,
    clients: [client(async (_sys, _slots, sf) => {
      assertEquals((await sf.stats()).liveKeys, keys);
      for (let i = 0; i < keys; i++) assertEquals(await sf.get(`/state/big/${i}`), value(i));
    })],
  });
});
