/**
 * The signed system-set: the archive updated stages into the standby slot. It carries the
 * bundles of one system release and an index naming each bundle with its SHA-256; the index is
 * signed with Ed25519 by the update key, whose public key updated takes from its manifest
 * config (`update_pubkey`, 64 hex digits).
 *
 * Layout (little-endian):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | ASCII `NXSS` |
 * | 4 | 1 | format version = 1 |
 * | 5 | 1 | flags, 0 |
 * | 6 | 4 | `index_len` u32 |
 * | 10 | index_len | index |
 * | .. | 64 | Ed25519 signature over bytes `0 .. 10 + index_len` (header and index) |
 * | .. | .. | the bundles' bytes, back to back in index order; nothing after the last |
 *
 * Index: `label_len u8, label (UTF-8, 1..64 bytes), count u16 (1..64), count x (name_len u8,
 * name (UTF-8, 1..64 bytes, unique), size u32, sha256[32])`, with no bytes left over.
 *
 * Verification order: the layout is parsed first (`format`), then the signature is checked over
 * header and index (`signature`), and only a signed index is trusted to check each bundle's
 * length and SHA-256 (`digest`). Signing the header too binds the format version and flags.
 *
 * @module
 */

import { ByteReader, ByteWriter, fromUtf8, utf8 } from "../../core/kernel/frame.ts";
import { ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify } from "../keystored/protocol.ts";

/** First bytes of every system-set. */
export const SYSTEM_SET_MAGIC = "NXSS";
/** Format version. */
export const SYSTEM_SET_VERSION = 1;
/** Bytes before the index. */
export const SYSTEM_SET_HEADER_BYTES = 10;
/** Most bundles in one set. */
export const MAX_BUNDLES = 64;
/** Longest label or bundle name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 64;
/** Bytes of a SHA-256 digest. */
export const SHA256_BYTES = 32;

/** One bundle as the index names it. */
export interface BundleEntry {
  name: string;
  size: number;
  sha256: Uint8Array;
}

/** A verified system-set. */
export interface SystemSet {
  /** Release label (e.g. a version string). */
  label: string;
  /** The index entries, in order. */
  entries: BundleEntry[];
  /** Each bundle's bytes, in index order. */
  bundles: Uint8Array[];
}

/** Why a set is refused: its layout, its signature, or a bundle's digest (stable codes). */
export type SystemSetErrorCode = "format" | "signature" | "digest";

/** A refused system-set. */
export class SystemSetError extends Error {
  /** Creates an error with a stable `code`. */
  constructor(readonly code: SystemSetErrorCode, message: string) {
    super(message);
    this.name = "SystemSetError";
  }
}

/** Checks a signature over a message under the update key; true when it is valid. */
export type SignatureVerifier = (message: Uint8Array, signature: Uint8Array) => Promise<boolean>;

/** A {@link SignatureVerifier} that checks locally with WebCrypto under `publicKey`. */
export function localVerifier(publicKey: Uint8Array): SignatureVerifier {
  return (message, signature) => ed25519Verify(publicKey, signature, message);
}

/** SHA-256 of `bytes` (WebCrypto). */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
}

function checkName(name: string, what: string): Uint8Array {
  const bytes = utf8(name);
  if (bytes.length < 1 || bytes.length > MAX_NAME_BYTES) {
    throw new RangeError(`${what} must be 1..${MAX_NAME_BYTES} UTF-8 bytes: ${name}`);
  }
  return bytes;
}

/** A bundle to put in a set. */
export interface BundleInput {
  name: string;
  bytes: Uint8Array;
}

/**
 * Builds a system-set of `bundles` labelled `label` and signs it with the update key `seed`
 * (32 bytes). Throws RangeError for names or counts the format cannot hold.
 */
export async function buildSystemSet(
  label: string,
  bundles: readonly BundleInput[],
  seed: Uint8Array,
): Promise<Uint8Array> {
  if (bundles.length < 1 || bundles.length > MAX_BUNDLES) {
    throw new RangeError(`a system-set holds 1..${MAX_BUNDLES} bundles, got ${bundles.length}`);
  }
  const names = new Set<string>();
  const index = new ByteWriter();
  const labelBytes = checkName(label, "label");
  index.u8(labelBytes.length).bytes(labelBytes).u16(bundles.length);
  for (const b of bundles) {
    const name = checkName(b.name, "bundle name");
    if (names.has(b.name)) throw new RangeError(`duplicate bundle name: ${b.name}`);
    names.add(b.name);
    index.u8(name.length).bytes(name).u32(b.bytes.length).bytes(await sha256(b.bytes));
  }
  const indexBytes = index.finish();
  const signed = new ByteWriter().str(SYSTEM_SET_MAGIC).u8(SYSTEM_SET_VERSION).u8(0)
    .u32(indexBytes.length).bytes(indexBytes).finish();
  const out = new ByteWriter().bytes(signed).bytes(await ed25519Sign(seed, signed));
  for (const b of bundles) out.bytes(b.bytes);
  return out.finish();
}

interface Parsed {
  signed: Uint8Array;
  signature: Uint8Array;
  label: string;
  entries: BundleEntry[];
  payload: Uint8Array;
}

function fail(message: string): never {
  throw new SystemSetError("format", message);
}

function parse(bytes: Uint8Array): Parsed {
  try {
    const r = new ByteReader(bytes);
    if (fromUtf8(r.bytes(4)) !== SYSTEM_SET_MAGIC) fail("not a system-set (magic)");
    const version = r.u8();
    if (version !== SYSTEM_SET_VERSION) fail(`system-set version ${version}`);
    if (r.u8() !== 0) fail("system-set flags are not zero");
    const indexLen = r.u32();
    const index = new ByteReader(r.bytes(indexLen));
    const signed = bytes.slice(0, SYSTEM_SET_HEADER_BYTES + indexLen);
    const signature = r.bytes(ED25519_SIGNATURE_BYTES);
    const payload = r.rest();
    const labelLen = index.u8();
    if (labelLen < 1 || labelLen > MAX_NAME_BYTES) fail(`label length ${labelLen}`);
    const label = index.str(labelLen);
    const count = index.u16();
    if (count < 1 || count > MAX_BUNDLES) fail(`bundle count ${count}`);
    const entries: BundleEntry[] = [];
    const names = new Set<string>();
    for (let i = 0; i < count; i++) {
      const nameLen = index.u8();
      if (nameLen < 1 || nameLen > MAX_NAME_BYTES) fail(`bundle name length ${nameLen}`);
      const name = index.str(nameLen);
      if (names.has(name)) fail(`duplicate bundle name ${name}`);
      names.add(name);
      entries.push({ name, size: index.u32(), sha256: index.bytes(SHA256_BYTES) });
    }
    index.end();
    return { signed, signature, label, entries, payload };
  } catch (err) {
    if (err instanceof SystemSetError) throw err;
    fail(`malformed system-set: ${(err as Error).message}`);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Parses and verifies a system-set: layout, then the index signature through `verify`, then each
 * bundle's size and SHA-256 against the signed index. Throws {@link SystemSetError} with the
 * first failing check.
 */
export async function verifySystemSet(
  bytes: Uint8Array,
  verify: SignatureVerifier,
): Promise<SystemSet> {
  const p = parse(bytes);
  if (!(await verify(p.signed, p.signature))) {
    throw new SystemSetError("signature", "system-set index signature does not verify");
  }
  const total = p.entries.reduce((n, e) => n + e.size, 0);
  if (total !== p.payload.length) {
    throw new SystemSetError(
      "digest",
      `bundles hold ${p.payload.length} bytes, the signed index names ${total}`,
    );
  }
  const bundles: Uint8Array[] = [];
  let at = 0;
  for (const e of p.entries) {
    const data = p.payload.slice(at, at + e.size);
    at += e.size;
    if (!equalBytes(await sha256(data), e.sha256)) {
      throw new SystemSetError("digest", `bundle ${e.name} does not match its SHA-256`);
    }
    bundles.push(data);
  }
  return { label: p.label, entries: p.entries, bundles };
}
