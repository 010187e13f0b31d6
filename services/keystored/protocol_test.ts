import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import {
  decodeReply,
  decodeRequest,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  encodeReply,
  encodeRequest,
  encodeVerify,
  KeystoredError,
  KS_DENY,
  KS_IO_ERROR,
  KS_MALFORMED,
  KS_OK,
  KS_OP_DEVICE_KEYGEN,
  KS_OP_DEVICE_SIGN,
  KS_OP_GET_DEVICE_PRIVKEY,
  KS_OP_VERIFY,
  KS_UNSUPPORTED,
} from "./protocol.ts";

// RFC 8032, section 7.1, TEST 2.
const SEED = Uint8Array.fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
const PUB = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const SIG = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

Deno.test("ed25519: RFC 8032 test 2 through the PKCS#8 seed import", async () => {
  assertEquals((await ed25519PublicKey(SEED)).toHex(), PUB);
  const sig = await ed25519Sign(SEED, Uint8Array.of(0x72));
  assertEquals(sig.toHex(), SIG);
  assert(await ed25519Verify(Uint8Array.fromHex(PUB), sig, Uint8Array.of(0x72)));
  assert(!(await ed25519Verify(Uint8Array.fromHex(PUB), sig, Uint8Array.of(0x73))));
  const bad = sig.slice();
  bad[0] ^= 1;
  assert(!(await ed25519Verify(Uint8Array.fromHex(PUB), bad, Uint8Array.of(0x72))));
  await assertRejects(() => ed25519Verify(new Uint8Array(31), sig, new Uint8Array(0)), RangeError);
  await assertRejects(() => ed25519PublicKey(new Uint8Array(16)), RangeError);
});

Deno.test("KS: requests decode, malformed and unsupported frames are refused", () => {
  assertEquals(decodeRequest(encodeRequest(KS_OP_DEVICE_KEYGEN)), { kind: "keygen" });
  assertEquals(decodeRequest(encodeRequest(KS_OP_DEVICE_SIGN, Uint8Array.of(1, 2))), {
    kind: "sign",
    message: Uint8Array.of(1, 2),
  });
  assertEquals(decodeRequest(encodeRequest(KS_OP_GET_DEVICE_PRIVKEY, Uint8Array.of(9))), {
    kind: "privkey",
  });
  const v = decodeRequest(
    encodeVerify(new Uint8Array(32).fill(1), new Uint8Array(64).fill(2), Uint8Array.of(3)),
  );
  assert(v.kind === "verify");
  assertEquals([v.publicKey[0], v.signature[63], Array.from(v.message)], [1, 2, [3]]);
  const status = (f: Uint8Array) => {
    const d = decodeRequest(f);
    return d.kind === "error" ? d.status : -1;
  };
  assertEquals(status(Uint8Array.of(0x4b, 0x53, 1)), KS_MALFORMED);
  assertEquals(status(Uint8Array.of(0x4b, 0x58, 1, 10)), KS_MALFORMED);
  assertEquals(status(Uint8Array.of(0x4b, 0x53, 2, 10)), KS_UNSUPPORTED);
  assertEquals(status(Uint8Array.of(0x4b, 0x53, 1, 99)), KS_UNSUPPORTED);
  assertEquals(status(encodeRequest(KS_OP_DEVICE_KEYGEN, Uint8Array.of(0))), KS_MALFORMED);
  assertEquals(status(encodeRequest(KS_OP_VERIFY, new Uint8Array(95))), KS_MALFORMED);
});

Deno.test("KS: replies decode and refuse foreign frames", () => {
  const r = decodeReply(
    encodeReply(KS_OP_DEVICE_KEYGEN, KS_OK, Uint8Array.of(7)),
    KS_OP_DEVICE_KEYGEN,
  );
  assertEquals(r, { status: KS_OK, body: Uint8Array.of(7) });
  assertThrows(
    () => decodeReply(encodeReply(KS_OP_DEVICE_SIGN, KS_OK), KS_OP_DEVICE_KEYGEN),
    KeystoredError,
  );
  assertThrows(
    () => decodeReply(Uint8Array.of(0x4b, 0x53, 1, 0x8a), KS_OP_DEVICE_KEYGEN),
    KeystoredError,
  );
});

Deno.test("KS: an error names its status, or BAD_REPLY for an undecodable reply", () => {
  assertEquals(new KeystoredError(KS_IO_ERROR, "x").statusName, "IO_ERROR");
  assertEquals(new KeystoredError(KS_DENY, "x").statusName, "DENY");
  assertEquals(new KeystoredError(-1, "x").statusName, "BAD_REPLY");
});
