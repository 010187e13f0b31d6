/**
 * Ed25519 over WebCrypto, keyed by a 32-byte seed (docs/protocols.md, "Device key"): a seed imports as
 * PKCS#8 behind a fixed 16-byte prefix, and the public key is the `x` of the exported JWK.
 * Ed25519 signatures are deterministic (RFC 8032), so simulated runs stay byte-identical.
 *
 * @module
 */

/** Bytes of an Ed25519 seed (the private key as stored). */
export const ED25519_SEED_BYTES = 32;
/** Bytes of an Ed25519 public key. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;
/** The PKCS#8 prefix that turns a 32-byte seed into an importable private key. */
export const ED25519_PKCS8_PREFIX: Uint8Array = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
);

/** A copy backed by a plain ArrayBuffer, as WebCrypto's typings require. */
function plain(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function checkLength(bytes: Uint8Array, len: number, what: string): void {
  if (bytes.length !== len) {
    throw new RangeError(`${what} must be ${len} bytes, got ${bytes.length}`);
  }
}

/** Imports `seed` as a signing key (extractable, so the public key can be exported). */
export function importSigningKey(seed: Uint8Array): Promise<CryptoKey> {
  checkLength(seed, ED25519_SEED_BYTES, "Ed25519 seed");
  const pkcs8 = new Uint8Array(ED25519_PKCS8_PREFIX.length + seed.length);
  pkcs8.set(ED25519_PKCS8_PREFIX);
  pkcs8.set(seed, ED25519_PKCS8_PREFIX.length);
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The 32-byte public key of a signing key made by {@link importSigningKey}. */
export async function publicKeyOf(key: CryptoKey): Promise<Uint8Array> {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  if (typeof jwk.x !== "string") throw new Error("Ed25519 JWK export without x");
  const pub = fromBase64Url(jwk.x);
  checkLength(pub, ED25519_PUBLIC_KEY_BYTES, "Ed25519 public key");
  return pub;
}

/** The 32-byte public key of `seed`. */
export async function ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array> {
  return publicKeyOf(await importSigningKey(seed));
}

/** Signs `message` with `seed`; returns the 64-byte signature. */
export async function ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const key = await importSigningKey(seed);
  return new Uint8Array(await crypto.subtle.sign("Ed25519", key, plain(message)));
}

/**
 * Checks `signature` over `message` under `publicKey`. Returns false for a wrong signature and
 * for a public key that is not a valid curve point; throws RangeError only for wrong lengths.
 */
export async function ed25519Verify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  checkLength(publicKey, ED25519_PUBLIC_KEY_BYTES, "Ed25519 public key");
  checkLength(signature, ED25519_SIGNATURE_BYTES, "Ed25519 signature");
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", plain(publicKey), { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch {
    return false;
  }
  try {
    return await crypto.subtle.verify("Ed25519", key, plain(signature), plain(message));
  } catch {
    return false;
  }
}
