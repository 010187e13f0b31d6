import { assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  decodeReply,
  decodeRequest,
  encodeFailed,
  encodeSimple,
  encodeStage,
  encodeSwitch,
  MAX_STAGE_BYTES,
  UD_FAILED,
  UD_MALFORMED,
  UD_OP_BOOT_ATTEMPT,
  UD_OP_GET_STATUS,
  UD_OP_HEALTH_OK,
  UD_OP_STAGE,
  UD_REASON_DIGEST,
  UD_UNSUPPORTED,
  UpdatedError,
} from "./protocol.ts";

Deno.test("UD: requests decode", () => {
  assertEquals(decodeRequest(encodeStage(Uint8Array.of(1, 2, 3))), {
    kind: "stage",
    set: Uint8Array.of(1, 2, 3),
  });
  assertEquals(decodeRequest(encodeSwitch(3)), { kind: "switch", tries: 3 });
  assertEquals(decodeRequest(encodeSimple(UD_OP_HEALTH_OK)), { kind: "health-ok" });
  assertEquals(decodeRequest(encodeSimple(UD_OP_GET_STATUS)), { kind: "status" });
  assertEquals(decodeRequest(encodeSimple(UD_OP_BOOT_ATTEMPT)), { kind: "boot-attempt" });
});

Deno.test("UD: malformed and unsupported requests are refused", () => {
  const status = (f: Uint8Array) => {
    const d = decodeRequest(f);
    return d.kind === "error" ? d.status : -1;
  };
  assertEquals(status(encodeSwitch(0)), UD_MALFORMED);
  assertEquals(status(Uint8Array.of(0x55, 0x44, 1)), UD_MALFORMED);
  assertEquals(status(Uint8Array.of(0x55, 0x45, 1, 1)), UD_MALFORMED);
  assertEquals(status(Uint8Array.of(0x55, 0x44, 9, 1)), UD_UNSUPPORTED);
  assertEquals(status(Uint8Array.of(0x55, 0x44, 1, 77)), UD_UNSUPPORTED);
  const stage = encodeStage(Uint8Array.of(1, 2, 3));
  assertEquals(status(stage.subarray(0, stage.length - 1)), UD_MALFORMED);
  assertEquals(status(Uint8Array.of(0x55, 0x44, 1, UD_OP_STAGE, 1)), UD_MALFORMED);
  assertEquals(status(Uint8Array.of(...encodeSimple(UD_OP_HEALTH_OK), 0)), UD_MALFORMED);
  assertThrows(() => encodeStage(new Uint8Array(MAX_STAGE_BYTES + 1)), RangeError);
});

Deno.test("UD: FAILED replies carry a reason", () => {
  const r = decodeReply(encodeFailed(UD_OP_STAGE, UD_REASON_DIGEST), UD_OP_STAGE);
  assertEquals(r, { status: UD_FAILED, body: Uint8Array.of(UD_REASON_DIGEST) });
  assertThrows(() => decodeReply(encodeFailed(UD_OP_STAGE, 1), UD_OP_HEALTH_OK), UpdatedError);
});
