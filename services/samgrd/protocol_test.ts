import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { bootServices } from "../testing/rig.ts";
import {
  decodeRequest,
  encodeLookup,
  encodeRegister,
  encodeReply,
  MAX_NAME_BYTES,
  SamgrdError,
  samgrLookup,
  samgrRegister,
  SM_MALFORMED,
  SM_OK,
  SM_OP_LOOKUP,
  SM_OP_REGISTER,
} from "./protocol.ts";

// The edges of the samgrd frame codec: each length limit is tested on both sides of the line,
// because an off-by-one there changes which names a service can register.

Deno.test("samgrd codec: a name of 255 bytes encodes, one of 256 is refused", () => {
  const name255 = "n".repeat(255);
  assertEquals(encodeLookup(name255)[4], 255);
  assertEquals(encodeRegister(name255, 1, 2)[4], 255);
  assertThrows(() => encodeLookup("n".repeat(256)), RangeError);
  assertThrows(() => encodeRegister("n".repeat(256), 1, 2), RangeError);
});

Deno.test("samgrd codec: names of 1 and of MAX_NAME_BYTES decode; 0 and one more are malformed", () => {
  for (const len of [1, MAX_NAME_BYTES]) {
    const name = "k".repeat(len);
    assertEquals(decodeRequest(encodeLookup(name)), { kind: "lookup", name });
    assertEquals(decodeRequest(encodeRegister(name, 3, 4)), {
      kind: "register",
      name,
      send: 3,
      recv: 4,
    });
  }
  for (const len of [0, MAX_NAME_BYTES + 1]) {
    const name = "k".repeat(len);
    assertEquals(decodeRequest(encodeLookup(name)), {
      kind: "error",
      op: SM_OP_LOOKUP,
      status: SM_MALFORMED,
    });
    assertEquals(decodeRequest(encodeRegister(name, 3, 4)), {
      kind: "error",
      op: SM_OP_REGISTER,
      status: SM_MALFORMED,
    });
  }
});

Deno.test("samgrd codec: a frame too short to carry an op is malformed with op 0", () => {
  for (const frame of [new Uint8Array(), Uint8Array.of(0x53), Uint8Array.of(0x53, 0x4d, 1)]) {
    assertEquals(decodeRequest(frame), { kind: "error", op: 0, status: SM_MALFORMED });
  }
});

Deno.test("samgrd client: SamgrdError carries its message and name", () => {
  const err = new SamgrdError("not a samgrd reply");
  assertEquals([err.name, err.message], ["SamgrdError", "not a samgrd reply"]);
});

Deno.test("samgrd client: an answer to another op, or not a samgrd reply, is an error", async () => {
  const answers = [
    encodeReply(SM_OP_LOOKUP, SM_OK, { send: 1, recv: 2 }), // to REGISTER: wrong op
    encodeReply(SM_OP_REGISTER, SM_OK, { send: 1, recv: 2 }), // to LOOKUP: wrong op
    Uint8Array.of(1, 2, 3), // not a samgrd frame at all
  ];
  const seen: string[] = [];
  await bootServices({
    services: [{ name: "samgrd", handler: () => answers.shift() ?? null }],
    clients: [{
      body: async (sys, slots) => {
        for (
          const ask of [
            () => samgrRegister(sys, slots.samgrd, slots.reply, "svc", { send: 1, recv: 2 }),
            () => samgrLookup(sys, slots.samgrd, slots.reply, "svc"),
            () => samgrLookup(sys, slots.samgrd, slots.reply, "svc"),
          ]
        ) {
          try {
            await ask();
            seen.push("accepted");
          } catch (err) {
            seen.push(err instanceof SamgrdError ? err.message : `other: ${err}`);
          }
        }
      },
    }],
  });
  assertEquals(seen, ["not a samgrd reply", "not a samgrd reply", "not a samgrd reply"]);
});
