/**
 * updated's frames, `UD` v1 (docs/protocols.md, "updated"), and the client helpers.
 *
 * Request `"UD", 1, op, body`; reply `"UD", 1, op | 0x80, status, body`.
 *
 * | op | request body | reply body (OK) |
 * |---|---|---|
 * | 1 STAGE | `len u32, bytes` (a signed system-set, below) | `staged slot u8` |
 * | 2 SWITCH | `tries u8` (1..255; 0 is MALFORMED) | `active slot u8` |
 * | 3 HEALTH_OK | none | none |
 * | 4 GET_STATUS | none | `active u8, pending u8 (0 none), tries_left u8, health_ok u8` |
 * | 5 BOOT_ATTEMPT | none | `slot u8`: the slot rolled back to, or 0 when no rollback happened |
 *
 * Two formats other tasks read belong to the protocol too: the signed system-set a STAGE carries
 * (its builder and verifier) and the bootctl record updated persists at {@link BOOTCTL_KEY}.
 *
 * A FAILED reply carries one `reason u8` ({@link UD_REASON_NAMES}); other error replies carry
 * only the status. Slot ids: 1 = A, 2 = B.
 *
 * Statuses: 0 OK, 1 MALFORMED (wrong magic, short or inconsistent frame, tries 0), 2 UNSUPPORTED
 * (wrong version, unknown op), 3 FAILED (the request was understood and refused or could not be
 * carried out), 4 DENIED (HEALTH_OK from a sender policyd does not grant `update.health`, or
 * BOOT_ATTEMPT without `update.boot_attempt`; init's own messages are trusted; nothing changes).
 *
 * @module
 */

import {
  ByteReader,
  ByteWriter,
  frameWriter,
  fromUtf8,
  headerRefusal,
  isReplyTo,
  REPLY_BIT,
  replyWriter,
  utf8,
} from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import { MAX_FRAME, type Syscalls } from "../../core/kernel/types.ts";
import { SLOT_A, SLOT_B, type SlotId } from "../bundlemgrd/protocol.ts";
import { ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify } from "../keystored/protocol.ts";

/** Frame magic of updated. */
export const UD_MAGIC = "UD";
/** Frame version of updated. */
export const UD_VERSION = 1;

/** Verifies a signed system-set and marks the standby slot staged. */
export const UD_OP_STAGE = 1;
/** Switches to the staged slot with a number of boot tries. */
export const UD_OP_SWITCH = 2;
/** Confirms the active slot healthy. */
export const UD_OP_HEALTH_OK = 3;
/** Reports the boot control state. */
export const UD_OP_GET_STATUS = 4;
/** Counts one boot attempt; rolls back when the tries run out. */
export const UD_OP_BOOT_ATTEMPT = 5;

/** Request handled. */
export const UD_OK = 0;
/** Wrong magic, short or inconsistent frame. */
export const UD_MALFORMED = 1;
/** Wrong version or unknown op. */
export const UD_UNSUPPORTED = 2;
/** Refused or not carried out; the reply carries a reason. */
export const UD_FAILED = 3;
/** Status: the sender lacks the grant the request needs. */
export const UD_DENIED = 4;

/** FAILED reason: the system-set's layout is wrong. */
export const UD_REASON_FORMAT = 1;
/** FAILED reason: the system-set's signature does not verify. */
export const UD_REASON_SIGNATURE = 2;
/** FAILED reason: a bundle does not match its signed digest. */
export const UD_REASON_DIGEST = 3;
/** FAILED reason: a switch is pending. */
export const UD_REASON_SWITCH_PENDING = 4;
/** FAILED reason: nothing is staged. */
export const UD_REASON_NOTHING_STAGED = 5;
/** FAILED reason: statefsd could not persist or read the state. */
export const UD_REASON_STORE = 6;
/** FAILED reason: bundlemgrd could not be routed to or refused the slot. */
export const UD_REASON_BUNDLEMGR = 7;
/** FAILED reason: the signature could not be checked (keystored unreachable or refusing). */
export const UD_REASON_VERIFIER = 8;

/** Names of the FAILED reasons. */
export const UD_REASON_NAMES: Readonly<Record<number, string>> = {
  [UD_REASON_FORMAT]: "format",
  [UD_REASON_SIGNATURE]: "signature",
  [UD_REASON_DIGEST]: "digest",
  [UD_REASON_SWITCH_PENDING]: "switch-pending",
  [UD_REASON_NOTHING_STAGED]: "nothing-staged",
  [UD_REASON_STORE]: "store",
  [UD_REASON_BUNDLEMGR]: "bundlemgr",
  [UD_REASON_VERIFIER]: "verifier",
};

/** Bytes of a STAGE request before the set. */
const STAGE_OVERHEAD = 4 + 4;
/** Largest system-set one STAGE frame carries. */
export const MAX_STAGE_BYTES = MAX_FRAME - STAGE_OVERHEAD;

/** A decoded request, or the status refusing it. */
export type UdRequest =
  | { kind: "stage"; set: Uint8Array }
  | { kind: "switch"; tries: number }
  | { kind: "health-ok" }
  | { kind: "status" }
  | { kind: "boot-attempt" }
  | { kind: "error"; op: number; status: number };

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): UdRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, UD_MAGIC, UD_VERSION, UD_MALFORMED, UD_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const body = frame.subarray(4);
  const malformed: UdRequest = { kind: "error", op, status: UD_MALFORMED };
  switch (op) {
    case UD_OP_STAGE: {
      if (body.length < 4) return malformed;
      const r = new ByteReader(body);
      const len = r.u32();
      if (len !== r.remaining) return malformed;
      return { kind: "stage", set: r.rest() };
    }
    case UD_OP_SWITCH:
      if (body.length !== 1 || body[0] === 0) return malformed;
      return { kind: "switch", tries: body[0] };
    case UD_OP_HEALTH_OK:
      return body.length === 0 ? { kind: "health-ok" } : malformed;
    case UD_OP_GET_STATUS:
      return body.length === 0 ? { kind: "status" } : malformed;
    case UD_OP_BOOT_ATTEMPT:
      return body.length === 0 ? { kind: "boot-attempt" } : malformed;
    default:
      return { kind: "error", op, status: UD_UNSUPPORTED };
  }
}

/** Encodes a reply: `status` and an optional body. */
export function encodeReply(op: number, status: number, body?: Uint8Array): Uint8Array {
  const w = replyWriter(UD_MAGIC, UD_VERSION, op & ~REPLY_BIT, status);
  if (body) w.bytes(body);
  return w.finish();
}

/** Encodes a FAILED reply with `reason`. */
export function encodeFailed(op: number, reason: number): Uint8Array {
  return encodeReply(op, UD_FAILED, Uint8Array.of(reason));
}

/** Encodes a STAGE request. Throws RangeError when the set cannot fit in one frame. */
export function encodeStage(set: Uint8Array): Uint8Array {
  if (set.length > MAX_STAGE_BYTES) {
    throw new RangeError(`system-set of ${set.length} bytes exceeds ${MAX_STAGE_BYTES}`);
  }
  return frameWriter(UD_MAGIC, UD_VERSION, UD_OP_STAGE).u32(set.length).bytes(set).finish();
}

/** Encodes a SWITCH request. */
export function encodeSwitch(tries: number): Uint8Array {
  return frameWriter(UD_MAGIC, UD_VERSION, UD_OP_SWITCH).u8(tries).finish();
}

/** Encodes a request without a body (HEALTH_OK, GET_STATUS, BOOT_ATTEMPT). */
export function encodeSimple(op: number): Uint8Array {
  return frameWriter(UD_MAGIC, UD_VERSION, op).finish();
}

/** The state GET_STATUS reports. */
export interface UpdateStatus {
  /** Active slot (1 = A, 2 = B). */
  active: number;
  /** Pending slot, 0 when none. */
  pending: number;
  triesLeft: number;
  healthOk: boolean;
}

/** Encodes a GET_STATUS reply body. */
export function encodeStatusBody(s: UpdateStatus): Uint8Array {
  return Uint8Array.of(s.active, s.pending, s.triesLeft, s.healthOk ? 1 : 0);
}

/** Thrown by the client helpers: updated refused a request or answered a bad frame. */
export class UpdatedError extends Error {
  /**
   * Creates an error for `status` (a UD_* status, or -1 for an undecodable reply) and, for
   * FAILED, its `reason`.
   */
  constructor(readonly status: number, readonly reason: number | null, message: string) {
    super(message);
    this.name = "UpdatedError";
  }
  /** The FAILED reason's name (`signature`, `digest`, ...), or null. */
  get reasonName(): string | null {
    return this.reason === null ? null : UD_REASON_NAMES[this.reason] ?? `reason ${this.reason}`;
  }
}

/** Decodes a reply to `op` into its status and body; throws {@link UpdatedError}. */
export function decodeReply(frame: Uint8Array, op: number): { status: number; body: Uint8Array } {
  if (
    !isReplyTo(frame, UD_MAGIC, UD_VERSION, op)
  ) {
    throw new UpdatedError(-1, null, `not an updated reply to op ${op}`);
  }
  return { status: frame[4], body: frame.slice(5) };
}

function okBody(frame: Uint8Array, op: number, len: number): Uint8Array {
  const { status, body } = decodeReply(frame, op);
  if (status === UD_FAILED) {
    const reason = body.length === 1 ? body[0] : null;
    const name = reason === null ? "?" : UD_REASON_NAMES[reason] ?? String(reason);
    throw new UpdatedError(status, reason, `updated refused op ${op}: FAILED (${name})`);
  }
  if (status !== UD_OK) throw new UpdatedError(status, null, `updated refused op ${op}: ${status}`);
  if (body.length !== len) {
    throw new UpdatedError(-1, null, `updated op ${op} reply body is ${body.length} bytes`);
  }
  return body;
}

/** An updated client over `call`; methods throw {@link UpdatedError} on refusals. */
export class UpdateClient {
  /** A client sending on `sendSlot` with its reply inbox in `replySlot`. */
  constructor(readonly sys: Syscalls, readonly sendSlot: number, readonly replySlot: number) {}

  async #call(op: number, frame: Uint8Array, len: number): Promise<Uint8Array> {
    const msg = await call(this.sys, this.sendSlot, this.replySlot, frame);
    return okBody(msg.data, op, len);
  }

  /** Stages a signed system-set; returns the staged slot. */
  async stage(set: Uint8Array): Promise<number> {
    return (await this.#call(UD_OP_STAGE, encodeStage(set), 1))[0];
  }

  /** Switches to the staged slot with `tries` boot tries; returns the new active slot. */
  async switchTo(tries: number): Promise<number> {
    return (await this.#call(UD_OP_SWITCH, encodeSwitch(tries), 1))[0];
  }

  /** Confirms the active slot healthy. */
  async healthOk(): Promise<void> {
    await this.#call(UD_OP_HEALTH_OK, encodeSimple(UD_OP_HEALTH_OK), 0);
  }

  /** The boot control state. */
  async status(): Promise<UpdateStatus> {
    const b = await this.#call(UD_OP_GET_STATUS, encodeSimple(UD_OP_GET_STATUS), 4);
    return { active: b[0], pending: b[1], triesLeft: b[2], healthOk: b[3] === 1 };
  }

  /** Counts a boot attempt; returns the slot rolled back to, or 0. */
  async bootAttempt(): Promise<number> {
    return (await this.#call(UD_OP_BOOT_ATTEMPT, encodeSimple(UD_OP_BOOT_ATTEMPT), 1))[0];
  }
}

// ---- the signed system-set (the STAGE payload) ----
//
// The signed system-set: the archive updated stages into the standby slot. It carries the
// bundles of one system release and an index naming each bundle with its SHA-256; the index is
// signed with Ed25519 by the update key, whose public key updated takes from its manifest
// config (`update_pubkey`, 64 hex digits).
//
// Layout (little-endian):
//
// | offset | size | field |
// |---|---|---|
// | 0 | 4 | ASCII `NXSS` |
// | 4 | 1 | format version = 1 |
// | 5 | 1 | flags, 0 |
// | 6 | 4 | `index_len` u32 |
// | 10 | index_len | index |
// | .. | 64 | Ed25519 signature over bytes `0 .. 10 + index_len` (header and index) |
// | .. | .. | the bundles' bytes, back to back in index order; nothing after the last |
//
// Index: `label_len u8, label (UTF-8, 1..64 bytes), count u16 (1..64), count x (name_len u8,
// name (UTF-8, 1..64 bytes, unique), size u32, sha256[32])`, with no bytes left over.
//
// Verification order: the layout is parsed first (`format`), then the signature is checked over
// header and index (`signature`), and only a signed index is trusted to check each bundle's
// length and SHA-256 (`digest`). Signing the header too binds the format version and flags.
//

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

// ---- the bootctl record (docs/protocols.md, "bootctl") ----
//
// Record at BOOTCTL_KEY: `version = 1, active (1|2), pending (1|2|0xFF), staged (1|2|0xFF),
// tries_left, health_ok (0|1)`. updated writes it; selftest-client and the host read it back.

/** Key of the record in statefsd. */
export const BOOTCTL_KEY = "/state/boot/bootctl.v1";
/** Record version. */
export const BOOTCTL_VERSION = 1;
/** Record size in bytes. */
export const BOOTCTL_SIZE = 6;
/** "No slot" in the record's pending and staged fields. */
export const SLOT_NONE = 0xff;

/** The boot control state. */
export interface BootCtl {
  active: SlotId;
  pending: SlotId | null;
  staged: SlotId | null;
  triesLeft: number;
  healthOk: boolean;
}

/** Why a record or a transition is refused (stable codes). */
export type BootCtlErrorCode =
  | "BAD_RECORD"
  | "BAD_TRIES"
  | "NOTHING_STAGED"
  | "SWITCH_PENDING";

/** A refused transition or an undecodable record. */
export class BootCtlError extends Error {
  /** Creates an error with a stable `code`. */
  constructor(readonly code: BootCtlErrorCode, message: string) {
    super(message);
    this.name = "BootCtlError";
  }
}

/** Encodes the 6-byte record. */
export function encodeBootCtl(s: BootCtl): Uint8Array {
  return Uint8Array.of(
    BOOTCTL_VERSION,
    s.active,
    s.pending ?? SLOT_NONE,
    s.staged ?? SLOT_NONE,
    s.triesLeft & 0xff,
    s.healthOk ? 1 : 0,
  );
}

function slotOrNone(byte: number, field: string): SlotId | null {
  if (byte === SLOT_NONE) return null;
  if (byte === SLOT_A || byte === SLOT_B) return byte;
  throw new BootCtlError("BAD_RECORD", `bootctl ${field} is ${byte}, expected 1, 2 or 0xFF`);
}

/**
 * Decodes a record; throws {@link BootCtlError} (BAD_RECORD) for a wrong size, version or field
 * value, and for a combination the transitions never produce (pending other than active, staged
 * equal to active).
 */
export function decodeBootCtl(bytes: Uint8Array): BootCtl {
  if (bytes.length !== BOOTCTL_SIZE) {
    throw new BootCtlError("BAD_RECORD", `bootctl record is ${bytes.length} bytes, expected 6`);
  }
  if (bytes[0] !== BOOTCTL_VERSION) {
    throw new BootCtlError("BAD_RECORD", `bootctl version ${bytes[0]}, expected 1`);
  }
  const active = slotOrNone(bytes[1], "active");
  if (active === null) throw new BootCtlError("BAD_RECORD", "bootctl has no active slot");
  const pending = slotOrNone(bytes[2], "pending");
  const staged = slotOrNone(bytes[3], "staged");
  if (bytes[5] > 1) throw new BootCtlError("BAD_RECORD", `bootctl health_ok is ${bytes[5]}`);
  if (pending !== null && pending !== active) {
    throw new BootCtlError("BAD_RECORD", "bootctl pending slot is not the active slot");
  }
  if (staged !== null && staged === active) {
    throw new BootCtlError("BAD_RECORD", "bootctl staged slot is the active slot");
  }
  return { active, pending, staged, triesLeft: bytes[4], healthOk: bytes[5] === 1 };
}
