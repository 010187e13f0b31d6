import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import fc from "fast-check";
import { MAX_FRAME } from "../../core/kernel/types.ts";
import { StateFsError } from "../../core/statefs/errors.ts";
import { checkKey as checkStoreKey } from "../../core/statefs/journal.ts";
import {
  checkKey,
  decodeGetBody,
  decodeListBody,
  decodeReply,
  decodeRequest,
  decodeStatsBody,
  encodeBatch,
  encodeDelete,
  encodeGet,
  encodeGetReply,
  encodeList,
  encodeListReply,
  encodePut,
  encodeReopen,
  encodeStats,
  encodeStatsReply,
  encodeStatusReply,
  encodeSync,
  MAX_VALUE_BYTES,
  SF_INVALID_KEY,
  SF_KEY_TOO_LONG,
  SF_MALFORMED,
  SF_NOT_FOUND,
  SF_OK,
  SF_OP_GET,
  SF_OP_PUT,
  SF_UNSUPPORTED,
  SF_V2,
  SF_VALUE_TOO_LARGE,
  StatefsdError,
} from "./protocol.ts";

const enc = new TextEncoder();
const V2 = { version: SF_V2, nonce: 0x1122334455667788n } as const;

function hex(b: Uint8Array): string {
  return b.toHex().replace(/(..)(?=.)/g, "$1 ");
}

Deno.test("SF: v1 PUT request bytes", () => {
  assertEquals(
    hex(encodePut("/state/a", enc.encode("x"))),
    "53 46 01 01 08 00 01 00 00 00 2f 73 74 61 74 65 2f 61 78",
  );
});

Deno.test("SF: v2 puts the nonce right after the header", () => {
  const f = encodeGet("/state/a", V2);
  assertEquals(hex(f.subarray(0, 12)), "53 46 02 02 88 77 66 55 44 33 22 11");
  const d = decodeRequest(f);
  assert(d.kind === "request");
  assertEquals(d.nonce, V2.nonce);
  assertEquals(d.body, { op: SF_OP_GET, key: "/state/a" });
});

Deno.test("SF: v2 replies echo the nonce right after the header, then the status", () => {
  const r = encodeStatusReply(V2, SF_OP_PUT, SF_NOT_FOUND);
  assertEquals(hex(r), "53 46 02 81 88 77 66 55 44 33 22 11 01");
  assertEquals(hex(encodeStatusReply({ version: 1 }, SF_OP_PUT, SF_NOT_FOUND)), "53 46 01 81 01");
  const g = encodeGetReply(V2, enc.encode("hi"));
  const d = decodeReply(g);
  assertEquals([d.version, d.nonce, d.op, d.status], [SF_V2, V2.nonce, SF_OP_GET, SF_OK]);
  assertEquals(decodeGetBody(d.body), enc.encode("hi"));
});

Deno.test("SF: every request round-trips through the decoder", () => {
  const cases: Array<[Uint8Array, unknown]> = [
    [encodePut("/state/k", enc.encode("v")), { op: 1, key: "/state/k", value: enc.encode("v") }],
    [encodeGet("/state/k"), { op: 2, key: "/state/k" }],
    [encodeDelete("/state/k"), { op: 3, key: "/state/k" }],
    [encodeList("/state/", 7), { op: 4, prefix: "/state/", limit: 7 }],
    [encodeSync(), { op: 5 }],
    [encodeReopen(), { op: 6 }],
    [encodeStats(), { op: 8 }],
    [
      encodeBatch([{ kind: "put", key: "/state/x", value: enc.encode("1") }, {
        kind: "delete",
        key: "/state/y",
      }], { abort: true }),
      {
        op: 7,
        abort: true,
        entries: [{ kind: "put", key: "/state/x", value: enc.encode("1") }, {
          kind: "delete",
          key: "/state/y",
        }],
      },
    ],
  ];
  for (const [frame, body] of cases) {
    const d = decodeRequest(frame);
    assert(d.kind === "request", `decode ${hex(frame)}`);
    assertEquals(d.body, body);
    assertEquals(d.version, 1);
  }
});

function status(frame: Uint8Array): number {
  const d = decodeRequest(frame);
  assert(d.kind === "error", "expected a refusal");
  return d.status;
}

Deno.test("SF: malformed, unsupported and oversized requests are refused with their status", () => {
  assertEquals(status(Uint8Array.of(0x53, 0x46, 1)), SF_MALFORMED);
  assertEquals(status(Uint8Array.of(0x58, 0x46, 1, 1)), SF_MALFORMED);
  assertEquals(status(Uint8Array.of(0x53, 0x46, 3, 1)), SF_UNSUPPORTED);
  assertEquals(status(Uint8Array.of(0x53, 0x46, 1, 99)), SF_UNSUPPORTED);
  assertEquals(status(Uint8Array.of(0x53, 0x46, 2, 2, 1, 2)), SF_MALFORMED);
  const put = encodePut("/state/k", enc.encode("v"));
  assertEquals(status(put.subarray(0, put.length - 1)), SF_MALFORMED);
  assertEquals(status(Uint8Array.of(...put, 0)), SF_MALFORMED);
  assertEquals(status(Uint8Array.of(...encodeSync(), 0)), SF_MALFORMED);
  // Declares a value one byte over the cap and carries none of it: the cap is checked first.
  const big = new Uint8Array(10);
  big.set([0x53, 0x46, 1, 1, 1, 0]);
  new DataView(big.buffer).setUint32(6, MAX_VALUE_BYTES + 1, true);
  assertEquals(status(big), SF_VALUE_TOO_LARGE);
  const longKey = "/state/" + "k".repeat(249);
  assertEquals(status(encodeGet(longKey)), SF_KEY_TOO_LONG);
  assertEquals(status(encodeGet("/etc/passwd")), SF_INVALID_KEY);
  assertEquals(status(encodeGet("/state/a/../b")), SF_INVALID_KEY);
  const badUtf8 = Uint8Array.of(0x53, 0x46, 1, 2, 8, 0, ...enc.encode("/state/"), 0xff);
  assertEquals(status(badUtf8), SF_INVALID_KEY);
  const badFlags = encodeBatch([]);
  badFlags[4] = 0x80;
  assertEquals(status(badFlags), SF_MALFORMED);
});

Deno.test("SF: a v2 error keeps the nonce it could read", () => {
  const f = Uint8Array.of(...encodeGet("/nope", V2));
  const d = decodeRequest(f);
  assert(d.kind === "error");
  assertEquals([d.status, d.nonce, d.version], [SF_INVALID_KEY, V2.nonce, SF_V2]);
});

Deno.test("SF: key rules", () => {
  assertEquals(checkKey("/state/a"), null);
  assertEquals(checkKey("/state/a/b.c"), null);
  assertEquals(checkKey("/state/"), SF_INVALID_KEY);
  assertEquals(checkKey("/state/", { prefix: true }), null);
  assertEquals(checkKey("/state/boot/", { prefix: true }), null);
  assertEquals(checkKey("/state/boot/"), SF_INVALID_KEY);
  assertEquals(checkKey("/state//a"), SF_INVALID_KEY);
  assertEquals(checkKey("/state/./a"), SF_INVALID_KEY);
  assertEquals(checkKey("/state/.."), SF_INVALID_KEY);
  assertEquals(checkKey("state/a"), SF_INVALID_KEY);
  assertEquals(checkKey("/state/" + "é".repeat(125)), SF_KEY_TOO_LONG);
});

Deno.test("SF: every key the IPC accepts, the store accepts too (same length and root rules)", () => {
  // statefsd's rules are the store's plus its own (no empty component): a key statefsd accepts
  // must never be one the engine refuses, and the limits must agree to the byte.
  const part = fc.oneof(
    fc.constantFrom("", ".", "..", "a", "é", "boot", "k".repeat(120)),
    fc.string({ maxLength: 8 }),
  );
  fc.assert(
    fc.property(fc.array(part, { maxLength: 5 }), fc.boolean(), (parts, prefix) => {
      const key = "/state/" + parts.join("/");
      const status = checkKey(key, { prefix });
      let store: string | null = null;
      try {
        checkStoreKey(key);
      } catch (err) {
        if (!(err instanceof StateFsError)) throw err;
        store = err.code;
      }
      if (status === null) assertEquals(store, null, key);
      if (store === "KEY_TOO_LONG") assertEquals(status, SF_KEY_TOO_LONG, key);
      if (status === SF_KEY_TOO_LONG) assertEquals(store, "KEY_TOO_LONG", key);
    }),
    { seed: 16, numRuns: 400 },
  );
});

Deno.test("SF: LIST replies stop at the frame limit", () => {
  const keys = Array.from({ length: 100 }, (_, i) => `/state/${"k".repeat(200)}${i}`);
  const r = encodeListReply({ version: 1 }, keys);
  assert(r.length <= MAX_FRAME);
  const got = decodeListBody(decodeReply(r).body);
  assert(got.length > 10 && got.length < 100);
  assertEquals(got, keys.slice(0, got.length));
});

Deno.test("SF: the client encoders refuse frames over the limit", () => {
  const err = assertThrows(
    () => encodePut("/state/k", new Uint8Array(MAX_FRAME)),
    StatefsdError,
  );
  assertEquals(err.status, SF_VALUE_TOO_LARGE);
  assertThrows(() => decodeReply(Uint8Array.of(0x53, 0x46, 1, 1)), StatefsdError);
});

Deno.test("SF: STATS replies round-trip", () => {
  const stats = {
    generation: 3,
    liveKeys: 4,
    records: 5,
    bytesUsed: 600,
    regionBytes: 70000,
    compactions: 2,
  };
  const d = decodeReply(encodeStatsReply(V2, stats));
  assertEquals([d.op, d.status, d.nonce], [8, SF_OK, V2.nonce]);
  assertEquals(decodeStatsBody(d.body), stats);
  assertThrows(() => decodeStatsBody(new Uint8Array(23)), StatefsdError);
});

Deno.test("SF: both magic bytes are checked", () => {
  // "SX" and "XF": a frame for another protocol is MALFORMED whichever magic byte differs.
  for (const [a, b] of [[0x53, 0x58], [0x58, 0x46]]) {
    const d = decodeRequest(Uint8Array.of(a, b, 1, SF_OP_GET, 8, 0, ...enc.encode("/state/k")));
    assert(d.kind === "error");
    assertEquals(d.status, SF_MALFORMED);
  }
});
