/**
 * keystored's frames, `KS` v1 (FORMATS.md, "IPC frames"), and the client helpers.
 *
 * Request `"KS", 1, op, body`; reply `"KS", 1, op | 0x80, status, body`.
 *
 * | op | request body | reply body |
 * |---|---|---|
 * | 10 DEVICE_KEYGEN | none | `pubkey[32]` with OK (generated now) or KEY_EXISTS (already stored) |
 * | 11 GET_DEVICE_PUBKEY | none | `pubkey[32]` with OK |
 * | 12 DEVICE_SIGN | `message` (the rest of the frame) | `signature[64]` with OK |
 * | 13 GET_DEVICE_PRIVKEY | anything | none: always PRIVATE_EXPORT_DENIED |
 * | 14 DEVICE_RELOAD | none | `pubkey[32]` with OK (the key re-read from statefsd) |
 * | 4 VERIFY | `pubkey[32], signature[64], message` (the rest) | `valid u8` (1 valid, 0 not) with OK |
 *
 * DEVICE_KEYGEN is idempotent and answers KEY_EXISTS (not OK) when a key is already stored, so a
 * caller can tell a fresh key from an existing one; both carry the public key. GET_DEVICE_PUBKEY,
 * DEVICE_SIGN and DEVICE_RELOAD answer KEY_NOT_FOUND when no key is stored. VERIFY answers OK for
 * any well-formed request; `valid` carries the verdict (a public key that is not a curve point is
 * simply not valid).
 *
 * Statuses: 0 OK, 1 NOT_FOUND, 2 MALFORMED (wrong magic, short frame, wrong length, trailing
 * bytes), 3 IO_ERROR (nexus extension: statefsd or rngd failed, or the stored seed is damaged),
 * 4 UNSUPPORTED (wrong version, unknown op), 5 DENY (DEVICE_SIGN from a sender policyd does not
 * grant `keystore.sign`: nothing is signed), 10 KEY_EXISTS, 11 KEY_NOT_FOUND,
 * 12 PRIVATE_EXPORT_DENIED. Error replies carry only the status.
 *
 * The Ed25519 helpers keystored uses are re-exported here, so clients check its answers (and
 * updated signs and checks system-sets) with the same contract.
 *
 * @module
 */

import {
  ByteReader,
  frameWriter,
  headerRefusal,
  isReplyTo,
  REPLY_BIT,
  replyWriter,
} from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from "./ed25519.ts";

export * from "./ed25519.ts";

/** Frame magic of keystored. */
export const KS_MAGIC = "KS";
/** Frame version of keystored. */
export const KS_VERSION = 1;

/** Checks an Ed25519 signature under a given public key. */
export const KS_OP_VERIFY = 4;
/** Generates the device key unless one is stored. */
export const KS_OP_DEVICE_KEYGEN = 10;
/** Returns the device public key. */
export const KS_OP_GET_DEVICE_PUBKEY = 11;
/** Signs a message with the device key. */
export const KS_OP_DEVICE_SIGN = 12;
/** Asks for the private key: always refused. */
export const KS_OP_GET_DEVICE_PRIVKEY = 13;
/** Re-reads the device key from statefsd. */
export const KS_OP_DEVICE_RELOAD = 14;

/** Request handled. */
export const KS_OK = 0;
/** Not found. */
export const KS_NOT_FOUND = 1;
/** Wrong magic, short frame, wrong field length, trailing bytes. */
export const KS_MALFORMED = 2;
/** statefsd or rngd failed, or the stored seed is damaged (nexus extension). */
export const KS_IO_ERROR = 3;
/** Wrong version or unknown op. */
export const KS_UNSUPPORTED = 4;
/** Refused by policy. */
export const KS_DENY = 5;
/** DEVICE_KEYGEN found a key already stored. */
export const KS_KEY_EXISTS = 10;
/** No device key is stored. */
export const KS_KEY_NOT_FOUND = 11;
/** The private key never leaves keystored. */
export const KS_PRIVATE_EXPORT_DENIED = 12;

/** Names of the statuses, for messages. */
export const KS_STATUS_NAMES: Readonly<Record<number, string>> = {
  [KS_OK]: "OK",
  [KS_NOT_FOUND]: "NOT_FOUND",
  [KS_MALFORMED]: "MALFORMED",
  [KS_IO_ERROR]: "IO_ERROR",
  [KS_UNSUPPORTED]: "UNSUPPORTED",
  [KS_DENY]: "DENY",
  [KS_KEY_EXISTS]: "KEY_EXISTS",
  [KS_KEY_NOT_FOUND]: "KEY_NOT_FOUND",
  [KS_PRIVATE_EXPORT_DENIED]: "PRIVATE_EXPORT_DENIED",
};

/** A decoded keystored request, or the status refusing it. */
export type KsRequest =
  | { kind: "keygen" }
  | { kind: "pubkey" }
  | { kind: "sign"; message: Uint8Array }
  | { kind: "privkey" }
  | { kind: "reload" }
  | { kind: "verify"; publicKey: Uint8Array; signature: Uint8Array; message: Uint8Array }
  | { kind: "error"; op: number; status: number };

/** Decodes a request frame; never throws. */
export function decodeRequest(frame: Uint8Array): KsRequest {
  const op = frame.length >= 4 ? frame[3] : 0;
  const refusal = headerRefusal(frame, KS_MAGIC, KS_VERSION, KS_MALFORMED, KS_UNSUPPORTED);
  if (refusal !== null) return { kind: "error", op, status: refusal };
  const body = frame.subarray(4);
  const empty = (kind: "keygen" | "pubkey" | "reload"): KsRequest =>
    body.length === 0 ? { kind } : { kind: "error", op, status: KS_MALFORMED };
  switch (op) {
    case KS_OP_DEVICE_KEYGEN:
      return empty("keygen");
    case KS_OP_GET_DEVICE_PUBKEY:
      return empty("pubkey");
    case KS_OP_DEVICE_RELOAD:
      return empty("reload");
    case KS_OP_DEVICE_SIGN:
      return { kind: "sign", message: body.slice() };
    case KS_OP_GET_DEVICE_PRIVKEY:
      return { kind: "privkey" };
    case KS_OP_VERIFY: {
      if (body.length < ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES) {
        return { kind: "error", op, status: KS_MALFORMED };
      }
      const r = new ByteReader(body);
      return {
        kind: "verify",
        publicKey: r.bytes(ED25519_PUBLIC_KEY_BYTES),
        signature: r.bytes(ED25519_SIGNATURE_BYTES),
        message: r.rest(),
      };
    }
    default:
      return { kind: "error", op, status: KS_UNSUPPORTED };
  }
}

/** Encodes a reply: `status` and an optional body. */
export function encodeReply(op: number, status: number, body?: Uint8Array): Uint8Array {
  const w = replyWriter(KS_MAGIC, KS_VERSION, op & ~REPLY_BIT, status);
  if (body) w.bytes(body);
  return w.finish();
}

/** Encodes a request with `body`. */
export function encodeRequest(op: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  return frameWriter(KS_MAGIC, KS_VERSION, op).bytes(body).finish();
}

/** Encodes a VERIFY request. */
export function encodeVerify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  return frameWriter(KS_MAGIC, KS_VERSION, KS_OP_VERIFY).bytes(publicKey).bytes(signature)
    .bytes(message).finish();
}

/** Thrown by the client helpers: keystored refused a request or answered a bad frame. */
export class KeystoredError extends Error {
  /** Creates an error for `status` (a KS_* status, or -1 for an undecodable reply). */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "KeystoredError";
  }
  /** The status name, or `BAD_REPLY`. */
  get statusName(): string {
    return KS_STATUS_NAMES[this.status] ?? "BAD_REPLY";
  }
}

/** A decoded reply: status and body. */
export interface KsReply {
  status: number;
  body: Uint8Array;
}

/** Decodes a reply to `op`; throws {@link KeystoredError} (-1) when it is not one. */
export function decodeReply(frame: Uint8Array, op: number): KsReply {
  if (
    !isReplyTo(frame, KS_MAGIC, KS_VERSION, op)
  ) {
    throw new KeystoredError(-1, `not a keystored reply to op ${op}`);
  }
  return { status: frame[4], body: frame.slice(5) };
}

function expect(reply: KsReply, op: number, ok: readonly number[], bodyLen: number): Uint8Array {
  if (!ok.includes(reply.status)) {
    throw new KeystoredError(
      reply.status,
      `keystored refused op ${op}: ${KS_STATUS_NAMES[reply.status] ?? reply.status}`,
    );
  }
  if (reply.body.length !== bodyLen) {
    throw new KeystoredError(-1, `keystored op ${op} reply body is ${reply.body.length} bytes`);
  }
  return reply.body;
}

/** Result of {@link KeystoreClient.keygen}. */
export interface KeygenResult {
  /** True when the key was generated by this call, false when one was already stored. */
  created: boolean;
  publicKey: Uint8Array;
}

/**
 * A keystored client over `call`. Methods throw {@link KeystoredError} on a refusal and let a
 * KernelError from the IPC through.
 */
export class KeystoreClient {
  /** A client sending on `sendSlot` with its reply inbox in `replySlot`. */
  constructor(
    readonly sys: Syscalls,
    readonly sendSlot: number,
    readonly replySlot: number,
  ) {}

  /** Sends a raw frame and decodes the reply to `op` (status not checked). */
  async raw(op: number, frame: Uint8Array): Promise<KsReply> {
    const msg = await call(this.sys, this.sendSlot, this.replySlot, frame);
    return decodeReply(msg.data, op);
  }

  /** Generates the device key, or reports the stored one. */
  async keygen(): Promise<KeygenResult> {
    const op = KS_OP_DEVICE_KEYGEN;
    const reply = await this.raw(op, encodeRequest(op));
    const publicKey = expect(reply, op, [KS_OK, KS_KEY_EXISTS], ED25519_PUBLIC_KEY_BYTES);
    return { created: reply.status === KS_OK, publicKey };
  }

  /** The device public key. */
  async publicKey(): Promise<Uint8Array> {
    const op = KS_OP_GET_DEVICE_PUBKEY;
    return expect(await this.raw(op, encodeRequest(op)), op, [KS_OK], ED25519_PUBLIC_KEY_BYTES);
  }

  /** Signs `message` with the device key. */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const op = KS_OP_DEVICE_SIGN;
    return expect(
      await this.raw(op, encodeRequest(op, message)),
      op,
      [KS_OK],
      ED25519_SIGNATURE_BYTES,
    );
  }

  /** Asks for the private key; returns the status keystored answered (never the key). */
  async requestPrivateKey(): Promise<number> {
    const op = KS_OP_GET_DEVICE_PRIVKEY;
    const reply = await this.raw(op, encodeRequest(op));
    if (reply.body.length !== 0) throw new KeystoredError(-1, "private export reply has a body");
    return reply.status;
  }

  /** Re-reads the device key from statefsd; returns its public key. */
  async reload(): Promise<Uint8Array> {
    const op = KS_OP_DEVICE_RELOAD;
    return expect(await this.raw(op, encodeRequest(op)), op, [KS_OK], ED25519_PUBLIC_KEY_BYTES);
  }

  /** Checks `signature` over `message` under `publicKey`. */
  async verify(
    publicKey: Uint8Array,
    signature: Uint8Array,
    message: Uint8Array,
  ): Promise<boolean> {
    const op = KS_OP_VERIFY;
    const body = expect(
      await this.raw(op, encodeVerify(publicKey, signature, message)),
      op,
      [KS_OK],
      1,
    );
    if (body[0] > 1) throw new KeystoredError(-1, `VERIFY verdict byte ${body[0]}`);
    return body[0] === 1;
  }
}
