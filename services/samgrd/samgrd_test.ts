import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { frameWriter } from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";
import { bootServices, runService } from "../testing/rig.ts";
import { samgrd } from "./main.ts";
import {
  decodeReply,
  encodeLookup,
  encodeRegister,
  MAX_NAME_BYTES,
  MAX_NAMES_PER_CALLER,
  samgrLookup,
  samgrRegister,
  SM_FULL,
  SM_MALFORMED,
  SM_NOT_FOUND,
  SM_OK,
  SM_OP_LOOKUP,
  SM_OP_REGISTER,
  SM_REPLY_LEN,
  SM_UNSUPPORTED,
} from "./protocol.ts";
import { Registry } from "./registry.ts";

type Slots = Readonly<Record<string, number>>;

async function raw(sys: Syscalls, slots: Slots, frame: Uint8Array): Promise<Uint8Array> {
  return (await call(sys, slots.samgrd, slots.reply, frame)).data;
}

Deno.test("samgrd: register then lookup gives the same slots back; unknown is NOT_FOUND", async () => {
  const result = await runService(samgrd, {
    client: async (sys, slots) => {
      const reg = await samgrRegister(sys, slots.samgrd, slots.reply, "keystored", {
        send: 7,
        recv: 4,
      });
      assertEquals(reg, { op: SM_OP_REGISTER, status: SM_OK, send: 7, recv: 4 });
      const found = await samgrLookup(sys, slots.samgrd, slots.reply, "keystored");
      assertEquals(found, { op: SM_OP_LOOKUP, status: SM_OK, send: 7, recv: 4 });
      const unknown = await raw(sys, slots, encodeLookup("nobody"));
      assertEquals(unknown.length, SM_REPLY_LEN);
      assertEquals(decodeReply(unknown), {
        op: SM_OP_LOOKUP,
        status: SM_NOT_FOUND,
        send: 0,
        recv: 0,
      });
      // Registering again replaces the pair.
      await samgrRegister(sys, slots.samgrd, slots.reply, "keystored", { send: 9, recv: 4 });
      assertEquals((await samgrLookup(sys, slots.samgrd, slots.reply, "keystored")).send, 9);
    },
  });
  assertEquals(result.lines, ["slot-check: samgrd all 1 slots ok", "samgrd: ready"]);
});

Deno.test("samgrd: every caller has its own namespace", async () => {
  await bootServices({
    services: [{ module: samgrd }],
    clients: [
      {
        name: "alpha",
        body: async (sys, slots) => {
          await samgrRegister(sys, slots.samgrd, slots.reply, "svc", { send: 10, recv: 11 });
          await sys.sleep(2_000_000);
          assertEquals(
            await samgrLookup(sys, slots.samgrd, slots.reply, "svc"),
            { op: SM_OP_LOOKUP, status: SM_OK, send: 10, recv: 11 },
          );
        },
      },
      {
        name: "beta",
        body: async (sys, slots) => {
          await sys.sleep(1_000_000);
          assertEquals(
            (await samgrLookup(sys, slots.samgrd, slots.reply, "svc")).status,
            SM_NOT_FOUND,
          );
          await samgrRegister(sys, slots.samgrd, slots.reply, "svc", { send: 20, recv: 21 });
          assertEquals((await samgrLookup(sys, slots.samgrd, slots.reply, "svc")).send, 20);
        },
      },
    ],
  });
});

Deno.test("samgrd: malformed and unsupported frames get a 13-byte reply with a non-zero status", async () => {
  await runService(samgrd, {
    client: async (sys, slots) => {
      const cases: Array<[Uint8Array, number, number]> = [
        [frameWriter("MS", 1, SM_OP_LOOKUP).u8(1).str("a").finish(), 0x82, SM_MALFORMED],
        [new Uint8Array([0x53, 0x4d, 1]), 0x80, SM_MALFORMED],
        [new Uint8Array(0), 0x80, SM_MALFORMED],
        [frameWriter("SM", 1, SM_OP_LOOKUP).u8(5).str("ab").finish(), 0x82, SM_MALFORMED],
        [frameWriter("SM", 1, SM_OP_LOOKUP).u8(1).str("ab").finish(), 0x82, SM_MALFORMED],
        [frameWriter("SM", 1, SM_OP_LOOKUP).u8(0).finish(), 0x82, SM_MALFORMED],
        [encodeLookup("n".repeat(MAX_NAME_BYTES + 1)), 0x82, SM_MALFORMED],
        [frameWriter("SM", 1, SM_OP_LOOKUP).u8(1).u8(0xff).finish(), 0x82, SM_MALFORMED],
        [frameWriter("SM", 1, SM_OP_REGISTER).u8(1).u32(3).finish(), 0x81, SM_MALFORMED],
        [encodeRegister("svc", 96, 4), 0x81, SM_MALFORMED],
        [encodeRegister("svc", 4, 0xffffffff), 0x81, SM_MALFORMED],
        [frameWriter("SM", 2, SM_OP_LOOKUP).u8(1).str("a").finish(), 0x82, SM_UNSUPPORTED],
        [frameWriter("SM", 1, 3).finish(), 0x83, SM_UNSUPPORTED],
        [frameWriter("SM", 1, 0x81).finish(), 0x81, SM_UNSUPPORTED],
      ];
      for (const [frame, op, status] of cases) {
        const reply = await raw(sys, slots, frame);
        assertEquals(reply.length, SM_REPLY_LEN, `reply to ${[...frame]}`);
        assertEquals([reply[3], reply[4]], [op, status], `reply to ${[...frame]}`);
        assertEquals([...reply.subarray(5)], [0, 0, 0, 0, 0, 0, 0, 0]);
      }
      // Nothing was registered by the refused frames, and the server still answers.
      assertEquals((await samgrLookup(sys, slots.samgrd, slots.reply, "svc")).status, SM_NOT_FOUND);
    },
  });
});

Deno.test("samgrd: a caller's namespace is bounded (FULL), replacing a name still works", async () => {
  await runService(samgrd, {
    client: async (sys, slots) => {
      for (let i = 0; i < MAX_NAMES_PER_CALLER; i++) {
        const r = await samgrRegister(sys, slots.samgrd, slots.reply, `s${i}`, {
          send: 3,
          recv: 4,
        });
        assertEquals(r.status, SM_OK);
      }
      const full = await samgrRegister(sys, slots.samgrd, slots.reply, "one-more", {
        send: 3,
        recv: 4,
      });
      assertEquals(full, { op: SM_OP_REGISTER, status: SM_FULL, send: 0, recv: 0 });
      const again = await samgrRegister(sys, slots.samgrd, slots.reply, "s0", { send: 5, recv: 6 });
      assertEquals(again.status, SM_OK);
      assertEquals(
        (await samgrLookup(sys, slots.samgrd, slots.reply, "one-more")).status,
        SM_NOT_FOUND,
      );
    },
  });
});

Deno.test("Registry: bounded in callers; lookups return copies", () => {
  const reg = new Registry(2, 1);
  assertEquals(reg.register(1n, "a", { send: 3, recv: 4 }), "ok");
  assertEquals(reg.register(2n, "a", { send: 5, recv: 6 }), "ok");
  assertEquals(reg.register(3n, "a", { send: 7, recv: 8 }), "full");
  assertEquals(reg.register(1n, "b", { send: 3, recv: 4 }), "full");
  const pair = reg.lookup(1n, "a")!;
  pair.send = 99;
  assertEquals(reg.lookup(1n, "a"), { send: 3, recv: 4 });
  assertEquals(reg.lookup(3n, "a"), undefined);
  assertEquals([reg.count(1n), reg.count(3n)], [1, 0]);
});

Deno.test("samgrd codecs: byte layout and decoding of foreign frames", () => {
  assertEquals(
    [...encodeRegister("ab", 5, 6)],
    [0x53, 0x4d, 1, 1, 2, 5, 0, 0, 0, 6, 0, 0, 0, 0x61, 0x62],
  );
  assertEquals([...encodeLookup("ab")], [0x53, 0x4d, 1, 2, 2, 0x61, 0x62]);
  assertEquals(decodeReply(new Uint8Array(13)), null);
  assertEquals(decodeReply(frameWriter("SM", 1, 0x82).u8(0).u32(1).finish()), null);
  assertEquals(decodeReply(frameWriter("SM", 1, 0x02).u8(0).u32(1).u32(2).finish()), null);
  assertThrows(() => encodeLookup("x".repeat(256)), RangeError);
});
