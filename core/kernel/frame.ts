/**
 * Byte-level helpers shared by every frame codec: a little-endian writer and a bounds-checked
 * reader, and the common frame header (two magic bytes, version, op; replies add a status byte).
 * Each service's `protocol.ts` builds its own frames on these.
 *
 * @module
 */

import { allocBytes, copyBytes } from "./alloc.ts";

/** Bit set in the op byte of every reply. */
export const REPLY_BIT = 0x80;

/** Thrown by {@link ByteReader} when a frame is shorter than its fields claim. */
export class FrameError extends Error {
  /** Creates a frame decoding error. */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a string as UTF-8. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes strict UTF-8; throws {@link FrameError} on invalid input. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new FrameError("invalid UTF-8");
  }
}

/**
 * Appends little-endian fields to a growing buffer. {@link ByteWriter.finish} hands the buffer
 * over (no copy): a writer builds one frame, and any use after `finish` throws.
 */
export class ByteWriter {
  #buf = allocBytes(64);
  #len = 0;
  /** Over `#buf`, made on the first u64 (the other fields are written byte by byte). */
  #view?: DataView;
  #finished = false;

  /** Makes room for `n` more bytes and returns the offset to write them at. */
  #reserve(n: number): number {
    if (this.#finished) throw new Error("ByteWriter used after finish()");
    const at = this.#len;
    if (at + n > this.#buf.length) {
      const next = allocBytes(Math.max(this.#buf.length * 2, at + n));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
      this.#view = undefined;
    }
    this.#len = at + n;
    return at;
  }

  /** Appends a u8. */
  u8(v: number): this {
    const at = this.#reserve(1);
    this.#buf[at] = v;
    return this;
  }
  /** Appends a little-endian u16. */
  u16(v: number): this {
    const at = this.#reserve(2);
    const b = this.#buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
    return this;
  }
  /** Appends a little-endian u32. */
  u32(v: number): this {
    const at = this.#reserve(4);
    const b = this.#buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
    b[at + 2] = v >>> 16;
    b[at + 3] = v >>> 24;
    return this;
  }
  /** Appends a little-endian u64. */
  u64(v: bigint): this {
    const at = this.#reserve(8);
    const b = this.#buf;
    this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.#view.setBigUint64(at, v, true);
    return this;
  }
  /** Appends raw bytes. */
  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
    return this;
  }
  /** Appends a string as UTF-8 (no length prefix). */
  str(s: string): this {
    return this.bytes(utf8(s));
  }
  /** The bytes written: the writer's own buffer, handed over; the writer is done. */
  finish(): Uint8Array {
    if (this.#finished) throw new Error("ByteWriter used after finish()");
    this.#finished = true;
    return this.#buf.subarray(0, this.#len);
  }
}

/** Reads little-endian fields from a frame; every read is bounds-checked. */
export class ByteReader {
  /** Made on the first u64 (the other fields are read byte by byte). */
  #view?: DataView;
  #pos = 0;

  /** Starts reading `bytes` at offset 0. */
  constructor(readonly frame: Uint8Array) {}

  /** Current offset. */
  get offset(): number {
    return this.#pos;
  }
  /** Bytes left to read. */
  get remaining(): number {
    return this.frame.length - this.#pos;
  }

  #take(n: number): number {
    if (n < 0 || this.#pos + n > this.frame.length) {
      throw new FrameError(`frame too short: need ${n} bytes at offset ${this.#pos}`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** Reads a u8. */
  u8(): number {
    return this.frame[this.#take(1)];
  }
  /** Reads a little-endian u16. */
  u16(): number {
    const at = this.#take(2);
    const f = this.frame;
    return f[at] | (f[at + 1] << 8);
  }
  /** Reads a little-endian u32. */
  u32(): number {
    const at = this.#take(4);
    const f = this.frame;
    return (f[at] | (f[at + 1] << 8) | (f[at + 2] << 16) | (f[at + 3] << 24)) >>> 0;
  }
  /** Reads a little-endian u64. */
  u64(): bigint {
    const at = this.#take(8);
    const f = this.frame;
    this.#view ??= new DataView(f.buffer, f.byteOffset, f.byteLength);
    return this.#view.getBigUint64(at, true);
  }
  /** Reads `n` raw bytes (a copy). */
  bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return copyBytes(this.frame.subarray(at, at + n));
  }
  /**
   * Reads `n` raw bytes as a view into the frame, without a copy: for a reader that owns the
   * frame (a received message is the receiver's own copy) and never writes to it afterwards.
   * Large values take this path so that they are copied once, where they are kept.
   */
  view(n: number): Uint8Array {
    const at = this.#take(n);
    return this.frame.subarray(at, at + n);
  }
  /** Steps over `n` bytes. */
  skip(n: number): void {
    this.#take(n);
  }
  /** Reads `n` bytes as strict UTF-8. */
  str(n: number): string {
    const at = this.#take(n);
    return fromUtf8(this.frame.subarray(at, at + n));
  }
  /** Reads everything left. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) throw new FrameError(`${this.remaining} trailing bytes`);
  }
}

/** The four-byte header every frame starts with. */
export interface FrameHeader {
  /** Two ASCII magic characters, e.g. "SF". */
  magic: string;
  /** Protocol version byte. */
  version: number;
  /** Operation byte; replies set bit 7. */
  op: number;
}

/** Starts a request frame: magic (2 ASCII bytes), version, op. */
export function frameWriter(magic: string, version: number, op: number): ByteWriter {
  if (magic.length !== 2) throw new RangeError(`frame magic must be two characters: ${magic}`);
  return new ByteWriter().u8(magic.charCodeAt(0)).u8(magic.charCodeAt(1)).u8(version).u8(op);
}

/** Starts a reply frame: magic, version, `op | 0x80`, status. */
export function replyWriter(
  magic: string,
  version: number,
  op: number,
  status: number,
): ByteWriter {
  return frameWriter(magic, version, (op | REPLY_BIT) & 0xff).u8(status);
}

/**
 * Reads the 4-byte header. Returns null when the frame is shorter than 4 bytes; the caller
 * decides between MALFORMED (wrong magic, short frame) and UNSUPPORTED (wrong version).
 */
export function readHeader(frame: Uint8Array): FrameHeader | null {
  if (frame.length < 4) return null;
  return {
    magic: String.fromCharCode(frame[0], frame[1]),
    version: frame[2],
    op: frame[3],
  };
}

/**
 * The status a server answers a request with when its header alone rules it out, or null when
 * the header is its own: a frame shorter than 4 bytes or with another magic is `malformed`, one
 * with another version `unsupported` (docs/protocols.md). Servers pass their own status
 * codes for the two cases.
 */
export function headerRefusal(
  frame: Uint8Array,
  magic: string,
  version: number,
  malformed: number,
  unsupported: number,
): number | null {
  const header = readHeader(frame);
  if (header === null || header.magic !== magic) return malformed;
  return header.version === version ? null : unsupported;
}

/**
 * True when `frame` is a reply in `magic`/`version` carrying a status byte, to `op` when given
 * (any reply op otherwise).
 */
export function isReplyTo(frame: Uint8Array, magic: string, version: number, op?: number): boolean {
  const header = readHeader(frame);
  if (header === null || frame.length < 5) return false;
  if (header.magic !== magic || header.version !== version) return false;
  return op === undefined ? (header.op & REPLY_BIT) !== 0 : header.op === ((op | REPLY_BIT) & 0xff);
}
