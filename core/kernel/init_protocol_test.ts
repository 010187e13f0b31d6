import { assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  decodeHealthOk,
  decodeHealthReply,
  decodeRouteGet,
  decodeRouteReply,
  encodeHealthOk,
  encodeHealthReply,
  encodeRouteGet,
  encodeRouteReply,
  encodeStart,
  isStart,
  RT_DENIED,
  RT_OK,
} from "./init_protocol.ts";

const bytes = (u: Uint8Array) => [...u];

Deno.test("ROUTE_GET golden bytes, with and without nonce", () => {
  assertEquals(bytes(encodeRouteGet("samgrd")), [
    0x52,
    0x54,
    1,
    0x40,
    6,
    0x73,
    0x61,
    0x6d,
    0x67,
    0x72,
    0x64,
  ]);
  assertEquals(bytes(encodeRouteGet("ab", 0x01020304)), [
    0x52,
    0x54,
    1,
    0x40,
    2,
    0x61,
    0x62,
    4,
    3,
    2,
    1,
  ]);
  assertEquals(decodeRouteGet(encodeRouteGet("samgrd")), { kind: "route", name: "samgrd" });
  assertEquals(decodeRouteGet(encodeRouteGet("ab", 0xffffffff)), {
    kind: "route",
    name: "ab",
    nonce: 0xffffffff,
  });
  assertThrows(() => encodeRouteGet(""), RangeError);
  assertThrows(() => encodeRouteGet("x".repeat(256)), RangeError);
});

Deno.test("ROUTE_GET reply is 13 bytes, 17 with the nonce echoed", () => {
  const plain = encodeRouteReply(RT_OK, 5, 3);
  assertEquals(bytes(plain), [0x52, 0x54, 1, 0x41, 0, 5, 0, 0, 0, 3, 0, 0, 0]);
  assertEquals(decodeRouteReply(plain), { status: RT_OK, sendSlot: 5, recvSlot: 3 });
  const nonce = encodeRouteReply(RT_DENIED, 0, 0, 7);
  assertEquals(nonce.length, 17);
  assertEquals(decodeRouteReply(nonce), { status: RT_DENIED, sendSlot: 0, recvSlot: 0, nonce: 7 });
  assertEquals(decodeRouteReply(plain.subarray(0, 12)), null);
  assertEquals(decodeRouteReply(Uint8Array.of(...plain, 0)), null);
  assertEquals(decodeRouteReply(encodeRouteGet("x")), null);
});

Deno.test("malformed ROUTE_GET frames say why", () => {
  const cases: Array<[number[], RegExp]> = [
    [[0x52, 0x54, 1], /short/],
    [[0x52, 0x55, 1, 0x40, 1, 0x61], /magic/],
    [[0x52, 0x54, 2, 0x40, 1, 0x61], /version 2/],
    [[0x52, 0x54, 1, 0x41, 1, 0x61], /op 0x41/],
    [[0x52, 0x54, 1, 0x40, 0], /empty name/],
    [[0x52, 0x54, 1, 0x40], /too short/],
    [[0x52, 0x54, 1, 0x40, 3, 0x61], /too short/],
    [[0x52, 0x54, 1, 0x40, 1, 0x61, 1, 2], /2 trailing bytes/],
    [[0x52, 0x54, 1, 0x40, 1, 0xc0], /UTF-8/],
  ];
  for (const [frame, re] of cases) {
    const r = decodeRouteGet(Uint8Array.from(frame));
    assertEquals(r.kind, "malformed", String(frame));
    if (r.kind === "malformed") assertEquals(re.test(r.reason), true, `${frame}: ${r.reason}`);
  }
});

Deno.test("HEALTH_OK frames, with and without nonce", () => {
  assertEquals(bytes(encodeHealthOk()), [0x49, 0x48, 1, 1]);
  assertEquals(bytes(encodeHealthOk(9)), [0x49, 0x48, 1, 1, 9, 0, 0, 0]);
  assertEquals(decodeHealthOk(encodeHealthOk()), { kind: "health" });
  assertEquals(decodeHealthOk(encodeHealthOk(9)), { kind: "health", nonce: 9 });
  assertEquals(decodeHealthOk(Uint8Array.of(0x49, 0x48, 1, 1, 0)).kind, "malformed");
  assertEquals(decodeHealthOk(Uint8Array.of(0x49, 0x48, 3, 1)).kind, "malformed");
  assertEquals(decodeHealthOk(Uint8Array.of(0x52, 0x54, 1, 1)).kind, "malformed");
  assertEquals(bytes(encodeHealthReply(0)), [0x49, 0x48, 1, 0x81, 0]);
  assertEquals(decodeHealthReply(encodeHealthReply(1, 4)), { status: 1, nonce: 4 });
  assertEquals(decodeHealthReply(encodeHealthReply(0)), { status: 0 });
  assertEquals(decodeHealthReply(encodeHealthOk()), null);
});

Deno.test("START control frame", () => {
  assertEquals(bytes(encodeStart()), [0x49, 0x43, 1, 1]);
  assertEquals(isStart(encodeStart()), true);
  assertEquals(isStart(Uint8Array.of(0x49, 0x43, 1, 2)), false);
  assertEquals(isStart(Uint8Array.of(0x49, 0x43, 1, 1, 0)), false);
});
