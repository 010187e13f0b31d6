import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { frameWriter } from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import { runService as runBare, type RunServiceOptions } from "../testing/rig.ts";
import type { ServiceModule } from "../../core/kernel/service.ts";
import { fakePolicyd, type PolicyQuestion } from "../testing/statefs.ts";
import { bundlemgrd } from "./main.ts";
import {
  BN_DENIED,
  BN_MALFORMED,
  BN_OP_FETCH_IMAGE,
  BN_OP_LIST,
  BN_OP_SET_ACTIVE_SLOT,
  BN_UNSUPPORTED,
  bundleFetchImage,
  bundleList,
  BundlemgrdError,
  bundleSetActiveSlot,
  decodeFetchImageReply,
  decodeListReply,
  encodeSetActiveSlot,
  parseProperties,
  SLOT_A,
  SLOT_B,
} from "./protocol.ts";
import { BundleConfigError, SlotTable } from "./slots.ts";

/** bundlemgrd with a policyd that grants the test client bundle.set_active. */
function runService(module: ServiceModule, opts: RunServiceOptions = {}) {
  return runBare(module, {
    peers: [fakePolicyd({ client: ["bundle.set_active"] })],
    ...opts,
  });
}

Deno.test("bundlemgrd: LIST, FETCH_IMAGE and SET_ACTIVE_SLOT with its published-slot markers", async () => {
  const result = await runService(bundlemgrd, {
    config: { slots: { b: { version: "0.2.0", channel: "beta" } } },
    client: async (sys, slots) => {
      const list = await bundleList(sys, slots.bundlemgrd, slots.reply);
      assertEquals(list, {
        active: SLOT_A,
        slots: [{ slot: SLOT_A, version: "0.1.0" }, { slot: SLOT_B, version: "0.2.0" }],
      });
      const a = await bundleFetchImage(sys, slots.bundlemgrd, slots.reply);
      assertEquals(a, {
        slot: SLOT_A,
        properties: "build.fingerprint=nexus/a/0.1.0\nbuild.slot=a\nbuild.version=0.1.0\n",
      });
      assertEquals(await bundleSetActiveSlot(sys, slots.bundlemgrd, slots.reply, SLOT_A), SLOT_A);
      assertEquals(await bundleSetActiveSlot(sys, slots.bundlemgrd, slots.reply, SLOT_B), SLOT_B);
      const b = await bundleFetchImage(sys, slots.bundlemgrd, slots.reply);
      assertEquals(b.slot, SLOT_B);
      assertEquals(parseProperties(b.properties), [
        ["build.fingerprint", "nexus/b/0.2.0"],
        ["build.slot", "b"],
        ["build.version", "0.2.0"],
        ["channel", "beta"],
      ]);
      assertEquals((await bundleList(sys, slots.bundlemgrd, slots.reply)).active, SLOT_B);
    },
  });
  assertEquals(result.lines, [
    "slot-check: bundlemgrd all 3 slots ok",
    "bundlemgrd: ready",
    "bundlemgrd: slot a active",
    "bundlemgrd: slot b active",
  ]);
});

Deno.test("bundlemgrd: starts on the configured slot and prints nothing until one is published", async () => {
  const result = await runService(bundlemgrd, {
    config: { active: "b" },
    client: async (sys, slots) => {
      assertEquals((await bundleFetchImage(sys, slots.bundlemgrd, slots.reply)).slot, SLOT_B);
    },
  });
  assert(!result.lines.some((l) => l.includes("active")), result.lines.join("\n"));
});

Deno.test("bundlemgrd: bad slot ids, malformed and unsupported frames are refused; the slot stays", async () => {
  const result = await runService(bundlemgrd, {
    client: async (sys, slots) => {
      const status = async (frame: Uint8Array) => {
        const reply = (await call(sys, slots.bundlemgrd, slots.reply, frame)).data;
        assertEquals(reply.length, 5, `reply to ${[...frame]}`);
        return [reply[3], reply[4]];
      };
      for (const bad of [0, 3, 0xff]) {
        assertEquals(await status(encodeSetActiveSlot(bad)), [0x84, BN_MALFORMED]);
      }
      assertEquals(await status(frameWriter("BN", 1, BN_OP_SET_ACTIVE_SLOT).finish()), [
        0x84,
        BN_MALFORMED,
      ]);
      assertEquals(
        await status(frameWriter("BN", 1, BN_OP_SET_ACTIVE_SLOT).u8(2).u8(0).finish()),
        [0x84, BN_MALFORMED],
      );
      assertEquals(await status(frameWriter("BN", 1, BN_OP_LIST).u8(0).finish()), [
        0x81,
        BN_MALFORMED,
      ]);
      assertEquals(await status(frameWriter("BN", 1, BN_OP_FETCH_IMAGE).u8(1).finish()), [
        0x83,
        BN_MALFORMED,
      ]);
      assertEquals(await status(frameWriter("NB", 1, BN_OP_LIST).finish()), [0x81, BN_MALFORMED]);
      assertEquals(await status(new Uint8Array([0x42, 0x4e, 1])), [0x80, BN_MALFORMED]);
      assertEquals(await status(frameWriter("BN", 0, BN_OP_LIST).finish()), [0x81, BN_UNSUPPORTED]);
      assertEquals(await status(frameWriter("BN", 1, 2).finish()), [0x82, BN_UNSUPPORTED]);
      assertEquals(await status(frameWriter("BN", 1, 0x84).u8(2).finish()), [0x84, BN_UNSUPPORTED]);
      const err = await assertRejects(
        () => bundleSetActiveSlot(sys, slots.bundlemgrd, slots.reply, 3 as 1),
        BundlemgrdError,
      );
      assertEquals(err.status, BN_MALFORMED);
      assertEquals((await bundleList(sys, slots.bundlemgrd, slots.reply)).active, SLOT_A);
    },
  });
  assert(!result.lines.some((l) => l.includes("active")));
});

Deno.test("bundlemgrd: a bad configuration is a startup failure", async () => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ active: "c" }, `active must be "a" or "b"`],
    [{ slots: [] }, "slots must be a table"],
    [{ slots: { c: {} } }, `unknown slot "c"`],
    [{ slots: { a: { "bad key": "x" } } }, `slots.a: bad property name "bad key"`],
    [{ slots: { a: { k: ["x"] } } }, "slots.a.k must be a string, number or boolean"],
    [{ slots: { b: { k: "two\nlines" } } }, "slots.b.k must be one line of at most 255 bytes"],
    [{ slots: { a: { version: "" } } }, "slots.a.version must not be empty"],
  ];
  for (const [config, why] of bad) {
    const result = await runService(bundlemgrd, { config });
    assertEquals(result.lines.slice(1), [`bundlemgrd: FAIL config: ${why}`]);
  }
  const many: Record<string, string> = {};
  for (let i = 0; i < 40; i++) many[`key${i}`] = "v".repeat(200);
  assertThrows(() => SlotTable.fromConfig({ slots: { a: many } }), BundleConfigError, "exceed");
});

Deno.test("bundlemgrd: a missing inbox fails the slot check", async () => {
  const result = await runService(bundlemgrd, { omit: ["inbox"] });
  assertEquals(result.lines, [
    "SLOT MISSING: bundlemgrd needs inbox at slot 0x03",
    "slot-check: bundlemgrd FAIL (1 missing)",
  ]);
});

Deno.test("bundlemgrd codecs: replies decode strictly", () => {
  assertThrows(
    () => decodeListReply(frameWriter("BN", 1, 0x81).u8(0).u8(3).u8(0).finish()),
    BundlemgrdError,
  );
  assertThrows(
    () => decodeListReply(frameWriter("BN", 1, 0x81).u8(0).u8(1).u8(1).finish()),
    BundlemgrdError,
    "bad bundlemgrd reply",
  );
  assertThrows(
    () => decodeFetchImageReply(frameWriter("BN", 1, 0x81).u8(0).finish()),
    BundlemgrdError,
  );
  assertEquals(
    decodeFetchImageReply(frameWriter("BN", 1, 0x83).u8(0).u8(2).u16(3).str("k=v").finish()),
    { slot: SLOT_B, properties: "k=v" },
  );
  assertThrows(() => parseProperties("novalue\n"), BundlemgrdError);
});

Deno.test("bundlemgrd: SET_ACTIVE_SLOT from a sender without bundle.set_active is DENIED and changes nothing", async () => {
  const asked: PolicyQuestion[] = [];
  const result = await runBare(bundlemgrd, {
    peers: [fakePolicyd({ updated: ["bundle.set_active"] }, asked)],
    client: async (sys, slots) => {
      const err = await assertRejects(
        () => bundleSetActiveSlot(sys, slots.bundlemgrd, slots.reply, SLOT_B),
        BundlemgrdError,
      );
      assertEquals(err.status, BN_DENIED);
      assertEquals((await bundleList(sys, slots.bundlemgrd, slots.reply)).active, SLOT_A);
    },
  });
  assertEquals(asked.map((q) => [q.cap, q.allowed]), [["bundle.set_active", false]]);
  assert(result.lines.some((l) => l.startsWith("bundlemgrd: SET_ACTIVE_SLOT denied sender=")));
  assert(!result.lines.includes("bundlemgrd: slot b active"));
});
