import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { frameWriter } from "../../core/kernel/frame.ts";
import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { call } from "../../core/kernel/rpc.ts";
import { MAX_FRAME, type Syscalls } from "../../core/kernel/types.ts";
import { runService } from "../testing/rig.ts";
import { logd } from "./main.ts";
import {
  decodeAppendReply,
  encodeAppend,
  encodeQuery,
  LG_MALFORMED,
  LG_OP_APPEND,
  LG_OP_QUERY,
  LG_TOO_LARGE,
  LG_UNSUPPORTED,
  logAppend,
  LogdError,
  logQuery,
  MAX_RECORD_BYTES,
} from "./protocol.ts";

type Slots = Readonly<Record<string, number>>;

/** Sends a raw frame and returns the reply bytes. */
async function raw(sys: Syscalls, slots: Slots, frame: Uint8Array): Promise<Uint8Array> {
  return (await call(sys, slots.logd, slots.reply, frame)).data;
}

Deno.test("logd: checks its slot, prints ready, stores records tagged with the sender identity", async () => {
  const result = await runService(logd, {
    clientName: "auditor",
    client: async (sys, slots) => {
      const seq0 = decodeAppendReply(await raw(sys, slots, encodeAppend("first")));
      assertEquals(seq0, 0);
      assert(await logAppend(sys, slots.logd, "second (fire and forget)"));
      const q = await logQuery(sys, slots.logd, slots.reply);
      assertEquals(q.held, 2);
      assertEquals(q.appended, 2);
      assertEquals(q.dropped, 0);
      assertEquals(q.rejected, 0);
      assertEquals(q.records.map((r) => [r.seq, r.text, r.source]), [
        [0, "first", fnv1a64("auditor")],
        [1, "second (fire and forget)", fnv1a64("auditor")],
      ]);
      assert(q.records[0].time < q.records[1].time);
    },
  });
  assertEquals(result.lines.filter((l) => l.startsWith("slot-check") || l.includes("ready")), [
    "slot-check: logd all 1 slots ok",
    "logd: ready",
  ]);
});

Deno.test("logd: drops the oldest records beyond the configured bound and counts them", async () => {
  await runService(logd, {
    config: { capacity: 3 },
    client: async (sys, slots) => {
      for (let i = 0; i < 5; i++) await raw(sys, slots, encodeAppend(`r${i}`));
      const q = await logQuery(sys, slots.logd, slots.reply);
      assertEquals([q.held, q.appended, q.dropped], [3, 5, 2]);
      assertEquals(q.records.map((r) => r.text), ["r2", "r3", "r4"]);
      const paged = await logQuery(sys, slots.logd, slots.reply, 3, 1);
      assertEquals(paged.records.map((r) => [r.seq, r.text]), [[3, "r3"]]);
      const none = await logQuery(sys, slots.logd, slots.reply, 0, 0);
      assertEquals(none.records, []);
      assertEquals(none.held, 3);
    },
  });
});

Deno.test("logd: a QUERY reply never exceeds the frame limit; the client pages on", async () => {
  const big = "x".repeat(MAX_RECORD_BYTES);
  await runService(logd, {
    client: async (sys, slots) => {
      for (let i = 0; i < 20; i++) await raw(sys, slots, encodeAppend(big));
      const first = await call(sys, slots.logd, slots.reply, encodeQuery(0, 0xffff));
      assert(first.data.length <= MAX_FRAME);
      const page1 = await logQuery(sys, slots.logd, slots.reply, 0);
      assert(page1.records.length > 0 && page1.records.length < 20);
      const next = page1.records[page1.records.length - 1].seq + 1;
      const page2 = await logQuery(sys, slots.logd, slots.reply, next);
      assertEquals(page2.records[0].seq, next);
    },
  });
});

Deno.test("logd: rejects malformed, unsupported and oversized frames and keeps serving", async () => {
  await runService(logd, {
    client: async (sys, slots) => {
      const status = async (frame: Uint8Array) => {
        const reply = await raw(sys, slots, frame);
        assertEquals([reply[0], reply[1], reply[2]], [0x4c, 0x47, 1]);
        return [reply[3], reply[4]];
      };
      // Wrong magic, too short, truncated body, trailing bytes, invalid UTF-8.
      assertEquals(
        await status(frameWriter("XX", 1, LG_OP_QUERY).u32(0).u16(1).finish()),
        [0x82, LG_MALFORMED],
      );
      assertEquals(await status(new Uint8Array([0x4c, 0x47])), [0x80, LG_MALFORMED]);
      assertEquals(
        await status(frameWriter("LG", 1, LG_OP_APPEND).u16(10).str("abc").finish()),
        [0x81, LG_MALFORMED],
      );
      assertEquals(
        await status(frameWriter("LG", 1, LG_OP_QUERY).u32(0).u16(1).u8(9).finish()),
        [0x82, LG_MALFORMED],
      );
      assertEquals(
        await status(frameWriter("LG", 1, LG_OP_APPEND).u16(2).u8(0xc3).u8(0x28).finish()),
        [0x81, LG_MALFORMED],
      );
      // Wrong version, unknown op.
      assertEquals(
        await status(frameWriter("LG", 2, LG_OP_QUERY).u32(0).u16(1).finish()),
        [0x82, LG_UNSUPPORTED],
      );
      assertEquals(await status(frameWriter("LG", 1, 9).finish()), [0x89, LG_UNSUPPORTED]);
      // A record over the bound.
      const tooBig = frameWriter("LG", 1, LG_OP_APPEND).u16(MAX_RECORD_BYTES + 1)
        .bytes(new Uint8Array(MAX_RECORD_BYTES + 1).fill(0x61)).finish();
      assertEquals(await status(tooBig), [0x81, LG_TOO_LARGE]);
      // A refused fire-and-forget frame is counted too.
      await sys.send(slots.logd, frameWriter("LG", 1, 7).finish());

      const q = await logQuery(sys, slots.logd, slots.reply);
      assertEquals([q.held, q.appended, q.rejected], [0, 0, 9]);
      const err = await assertRejects(
        async () => decodeAppendReply(await raw(sys, slots, tooBig)),
        LogdError,
      );
      assertEquals(err.status, LG_TOO_LARGE);
    },
  });
});

Deno.test("logd: a bad capacity in the config is a startup failure, not a silent default", async () => {
  for (const capacity of [0, -1, 1.5, "10", 65537]) {
    const result = await runService(logd, { config: { capacity } });
    assert(result.lines.includes("slot-check: logd all 1 slots ok"));
    assert(
      result.lines.some((l) => l.startsWith("logd: FAIL config: capacity must be")),
      result.lines.join("\n"),
    );
    assert(!result.lines.includes("logd: ready"));
  }
});

Deno.test("logd: a missing inbox fails the slot check and logd does not serve", async () => {
  const result = await runService(logd, { omit: ["inbox"], slots: { inbox: 9 } });
  assertEquals(result.lines, [
    "SLOT MISSING: logd needs inbox at slot 0x09",
    "slot-check: logd FAIL (1 missing)",
  ]);
});

Deno.test("logd: client codecs refuse what the protocol cannot carry", () => {
  assertThrows(() => encodeAppend("y".repeat(MAX_RECORD_BYTES + 1)), RangeError);
  assertThrows(() => decodeAppendReply(new Uint8Array([0x4c, 0x47, 1, 0x82, 0])), LogdError);
  const short = frameWriter("LG", 1, LG_OP_APPEND | 0x80).u8(0).u16(1).finish();
  assertThrows(() => decodeAppendReply(short), LogdError, "bad logd APPEND reply");
});
