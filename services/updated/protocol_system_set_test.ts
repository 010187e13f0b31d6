import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { ed25519PublicKey } from "../keystored/protocol.ts";
import {
  buildSystemSet,
  localVerifier,
  sha256,
  SYSTEM_SET_HEADER_BYTES,
  SystemSetError,
  verifySystemSet,
} from "./protocol.ts";

const SEED = new Uint8Array(32).map((_, i) => i + 1);
const OTHER_SEED = new Uint8Array(32).map((_, i) => 200 - i);
const enc = new TextEncoder();
const BUNDLES = [
  { name: "kernel", bytes: enc.encode("kernel image v2") },
  { name: "services", bytes: enc.encode("services bundle v2 with more bytes") },
];

async function verifier() {
  return localVerifier(await ed25519PublicKey(SEED));
}

async function rejectCode(bytes: Uint8Array): Promise<string> {
  const err = await assertRejects(
    async () => verifySystemSet(bytes, await verifier()),
    SystemSetError,
  );
  return err.code;
}

Deno.test("system-set: a built set verifies and yields its bundles", async () => {
  const set = await buildSystemSet("2.0.0", BUNDLES, SEED);
  const v = await verifySystemSet(set, await verifier());
  assertEquals(v.label, "2.0.0");
  assertEquals(v.entries.map((e) => e.name), ["kernel", "services"]);
  assertEquals(v.bundles, BUNDLES.map((b) => b.bytes));
  assertEquals(v.entries[0].sha256, await sha256(BUNDLES[0].bytes));
  assertEquals(new TextDecoder().decode(set.subarray(0, 4)), "NXSS");
});

Deno.test("system-set: building is deterministic", async () => {
  assertEquals(
    await buildSystemSet("2.0.0", BUNDLES, SEED),
    await buildSystemSet("2.0.0", BUNDLES, SEED),
  );
});

Deno.test("system-set: a set signed by another key is refused (signature)", async () => {
  assertEquals(await rejectCode(await buildSystemSet("2.0.0", BUNDLES, OTHER_SEED)), "signature");
});

Deno.test("system-set: a flipped index byte is refused (signature)", async () => {
  const set = await buildSystemSet("2.0.0", BUNDLES, SEED);
  const bad = set.slice();
  bad[SYSTEM_SET_HEADER_BYTES + 2] ^= 0x01; // inside the label
  assertEquals(await rejectCode(bad), "signature");
  const badSig = set.slice();
  const indexLen = new DataView(set.buffer, set.byteOffset).getUint32(6, true);
  badSig[SYSTEM_SET_HEADER_BYTES + indexLen + 5] ^= 0x80;
  assertEquals(await rejectCode(badSig), "signature");
});

Deno.test("system-set: a flipped bundle byte is refused (digest)", async () => {
  const set = await buildSystemSet("2.0.0", BUNDLES, SEED);
  const bad = set.slice();
  bad[bad.length - 1] ^= 0x01;
  assertEquals(await rejectCode(bad), "digest");
});

Deno.test("system-set: missing or extra bundle bytes are refused (digest)", async () => {
  const set = await buildSystemSet("2.0.0", BUNDLES, SEED);
  assertEquals(await rejectCode(set.slice(0, set.length - 1)), "digest");
  const longer = new Uint8Array(set.length + 1);
  longer.set(set);
  assertEquals(await rejectCode(longer), "digest");
});

Deno.test("system-set: layout errors are refused (format)", async () => {
  const set = await buildSystemSet("2.0.0", BUNDLES, SEED);
  const badMagic = set.slice();
  badMagic[0] = 0x41;
  assertEquals(await rejectCode(badMagic), "format");
  const badVersion = set.slice();
  badVersion[4] = 2;
  assertEquals(await rejectCode(badVersion), "format");
  const badFlags = set.slice();
  badFlags[5] = 1;
  assertEquals(await rejectCode(badFlags), "format");
  assertEquals(await rejectCode(set.slice(0, 20)), "format");
  assertEquals(await rejectCode(new Uint8Array(0)), "format");
  const hugeIndex = set.slice();
  new DataView(hugeIndex.buffer).setUint32(6, 0xfffffff0, true);
  assertEquals(await rejectCode(hugeIndex), "format");
});

Deno.test("system-set: the builder refuses what the format cannot hold", async () => {
  await assertRejects(() => buildSystemSet("x", [], SEED), RangeError);
  await assertRejects(
    () => buildSystemSet("x", [BUNDLES[0], { ...BUNDLES[0] }], SEED),
    RangeError,
    "duplicate",
  );
  await assertRejects(() => buildSystemSet("", BUNDLES, SEED), RangeError);
  await assertRejects(() => buildSystemSet("x".repeat(65), BUNDLES, SEED), RangeError);
});

Deno.test("system-set: the verifier is consulted with header and index", async () => {
  const set = await buildSystemSet("l", BUNDLES, SEED);
  let seen: Uint8Array | null = null;
  await verifySystemSet(set, (msg) => {
    seen = msg;
    return Promise.resolve(true);
  });
  assert(seen !== null);
  const indexLen = new DataView(set.buffer, set.byteOffset).getUint32(6, true);
  assertEquals(seen, set.slice(0, SYSTEM_SET_HEADER_BYTES + indexLen));
});
