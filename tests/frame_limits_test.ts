/**
 * The largest payloads the updated and statefsd frames admit fill one kernel frame exactly: a
 * limit that is too small refuses data that fits, one that is too large builds frames the kernel
 * refuses.
 */

import { assertEquals, assertThrows } from "./assert.ts";
import { MAX_FRAME } from "../core/kernel/types.ts";
import { encodeStage, MAX_STAGE_BYTES } from "../services/updated/protocol.ts";
import { encodeGetReply, MAX_VALUE_BYTES, SF_V2 } from "../services/statefsd/protocol.ts";

Deno.test("updated: the largest STAGE set fills one frame exactly", () => {
  assertEquals(encodeStage(new Uint8Array(MAX_STAGE_BYTES)).length, MAX_FRAME);
  assertThrows(() => encodeStage(new Uint8Array(MAX_STAGE_BYTES + 1)), RangeError);
});

Deno.test("statefsd: a v2 GET reply of the largest value fills one frame exactly", () => {
  const reply = encodeGetReply({ version: SF_V2, nonce: 7n }, new Uint8Array(MAX_VALUE_BYTES));
  assertEquals(reply.length, MAX_FRAME);
});
