import { assertEquals, assertNotEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { frameWriter } from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import { runService } from "../testing/rig.ts";
import { rngd } from "./main.ts";
import {
  decodeGetReply,
  encodeGet,
  MAX_GET,
  RN_MALFORMED,
  RN_OP_GET,
  RN_TOO_LARGE,
  RN_UNSUPPORTED,
  RngdError,
  rngGet,
} from "./protocol.ts";
import { EntropyStream, seedBytes } from "./stream.ts";

Deno.test("EntropyStream: deterministic per seed, independent of how it is chunked", async () => {
  const whole = new EntropyStream(42).next(200);
  const chunked = new EntropyStream(42);
  const parts = [
    chunked.next(1),
    chunked.next(31),
    chunked.next(0),
    chunked.next(33),
    chunked.next(135),
  ];
  assertEquals(Uint8Array.from(parts.flatMap((p) => [...p])), whole);
  assertEquals(chunked.produced, 200);
  assertNotEquals(new EntropyStream(43).next(32), whole.subarray(0, 32));
  assertNotEquals(new EntropyStream(-42).next(32), whole.subarray(0, 32));
  // Block 0 is SHA-256 of the documented input.
  const input = new Uint8Array([
    ...new TextEncoder().encode("nexus.rngd.v1"),
    ...seedBytes(42),
    ...new Uint8Array(8),
  ]);
  assertEquals(
    whole.subarray(0, 32),
    new Uint8Array(await crypto.subtle.digest("SHA-256", input)),
  );
});

Deno.test("seedBytes: little-endian u64, two's complement, safe integers only", () => {
  assertEquals([...seedBytes(0x0102)], [2, 1, 0, 0, 0, 0, 0, 0]);
  assertEquals([...seedBytes(-1)], [255, 255, 255, 255, 255, 255, 255, 255]);
  for (const bad of [1.5, Number.NaN, 2 ** 60]) assertThrows(() => seedBytes(bad), RangeError);
});

Deno.test("rngd: GET hands out the boot seed's stream in order", async () => {
  const expected = new EntropyStream(7).next(4096 + 100);
  const result = await runService(rngd, {
    seed: 7,
    client: async (sys, slots) => {
      const a = await rngGet(sys, slots.rngd, slots.reply, 100);
      const b = await rngGet(sys, slots.rngd, slots.reply, MAX_GET);
      const empty = await rngGet(sys, slots.rngd, slots.reply, 0);
      assertEquals(a, expected.subarray(0, 100));
      assertEquals(b, expected.subarray(100));
      assertEquals(empty.length, 0);
    },
  });
  assertEquals(result.lines, ["slot-check: rngd all 1 slots ok", "rngd: ready"]);
});

Deno.test("rngd: two boots with the same seed answer the same bytes; another seed differs", async () => {
  const draw = async (seed: number) => {
    let out: Uint8Array = new Uint8Array();
    await runService(rngd, {
      seed,
      client: async (sys, slots) => void (out = await rngGet(sys, slots.rngd, slots.reply, 64)),
    });
    return out;
  };
  assertEquals(await draw(99), await draw(99));
  assertNotEquals(await draw(99), await draw(100));
});

Deno.test("rngd: rejects malformed, unsupported and oversized requests and keeps serving", async () => {
  await runService(rngd, {
    client: async (sys, slots) => {
      const status = async (frame: Uint8Array) => {
        const reply = (await call(sys, slots.rngd, slots.reply, frame)).data;
        assertEquals(reply.length, 5);
        return [reply[3], reply[4]];
      };
      assertEquals(await status(frameWriter("NR", 1, RN_OP_GET).u16(4).finish()), [
        0x81,
        RN_MALFORMED,
      ]);
      assertEquals(await status(new Uint8Array([0x52])), [0x80, RN_MALFORMED]);
      assertEquals(await status(frameWriter("RN", 1, RN_OP_GET).u8(4).finish()), [
        0x81,
        RN_MALFORMED,
      ]);
      assertEquals(await status(frameWriter("RN", 1, RN_OP_GET).u16(4).u8(0).finish()), [
        0x81,
        RN_MALFORMED,
      ]);
      assertEquals(await status(frameWriter("RN", 9, RN_OP_GET).u16(4).finish()), [
        0x81,
        RN_UNSUPPORTED,
      ]);
      assertEquals(await status(frameWriter("RN", 1, 2).u16(4).finish()), [0x82, RN_UNSUPPORTED]);
      assertEquals(await status(encodeGet(MAX_GET + 1)), [0x81, RN_TOO_LARGE]);
      const err = await assertRejects(
        () => rngGet(sys, slots.rngd, slots.reply, 0xffff),
        RngdError,
      );
      assertEquals(err.status, RN_TOO_LARGE);
      // Refused requests consumed nothing: the next bytes are the stream's first.
      assertEquals(await rngGet(sys, slots.rngd, slots.reply, 16), new EntropyStream(1).next(16));
    },
  });
});

Deno.test("rngd: an unusable boot seed is a startup failure", async () => {
  const result = await runService(rngd, { seed: 0.5 });
  assertEquals(result.lines, [
    "slot-check: rngd all 1 slots ok",
    "rngd: FAIL boot seed: seed must be a safe integer, got 0.5",
  ]);
});

Deno.test("rngd: reply decoding refuses foreign or inconsistent frames", () => {
  const bad = [
    frameWriter("RN", 1, 0x82).u8(0).u16(0).finish(),
    frameWriter("RN", 1, 0x81).u8(0).u16(3).u8(1).finish(),
    frameWriter("XX", 1, 0x81).u8(0).u16(0).finish(),
  ];
  for (const frame of bad) {
    assertEquals(assertThrows(() => decodeGetReply(frame), RngdError).status, -1);
  }
});
