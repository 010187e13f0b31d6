/**
 * Fixtures and file helpers shared by tests across folders.
 *
 * @module
 */

import { crc32c } from "../core/statefs/crc.ts";
import { readUpTo } from "../images/image.ts";

/** docs/formats.md's golden vector: the 24-byte journal record of `Put("/state/a", "x")`. */
export const GOLDEN_PUT_RECORD: Uint8Array = Uint8Array.fromHex(
  "46 53 58 4e 01 08 00 01 00 00 00 2f 73 74 61 74 65 2f 61 78 99 3f d6 e3".replaceAll(" ", ""),
);

/** Runs `fn` with a fresh temporary directory (named with `prefix`) and removes it afterwards. */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const DIGEST_CHUNK = 1024 * 1024;

/**
 * A digest of a file's bytes, as lower-case hex, for telling whether two files (or one file
 * before and after) hold the same bytes: the SHA-256 of the SHA-256s of its 1 MiB chunks. It
 * reads through one reused buffer, because reading a 64 MiB image whole costs ten times more CPU
 * (fresh pages) than hashing it.
 */
export async function fileDigest(path: string): Promise<string> {
  const file = await Deno.open(path);
  try {
    const buf = new Uint8Array(DIGEST_CHUNK);
    const digests: Uint8Array[] = [];
    for (;;) {
      // Fill the whole chunk (a read may return less), so chunking never depends on the reads.
      let n = 0;
      while (n < buf.length) {
        const got = await file.read(buf.subarray(n));
        if (got === null) break;
        n += got;
      }
      if (n === 0) break;
      digests.push(new Uint8Array(await crypto.subtle.digest("SHA-256", buf.subarray(0, n))));
      if (n < buf.length) break;
    }
    const all = new Uint8Array(digests.length * 32);
    digests.forEach((d, i) => all.set(d, i * 32));
    return new Uint8Array(await crypto.subtle.digest("SHA-256", all)).toHex();
  } finally {
    file.close();
  }
}

/**
 * Frames any opcode, key and value as a v1 journal record with a valid CRC32-C, bypassing the
 * encoder's checks, so tests can build records the engine must refuse (bad shape, bad key).
 */
export function rawJournalRecord(op: number, key: Uint8Array, value: Uint8Array): Uint8Array {
  const b = new Uint8Array(15 + key.length + value.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x4e585346, true);
  b[4] = op;
  v.setUint16(5, key.length, true);
  v.setUint32(7, value.length, true);
  b.set(key, 11);
  b.set(value, 11 + key.length);
  v.setUint32(b.length - 4, crc32c(b.subarray(0, b.length - 4)), true);
  return b;
}

/** Up to `length` bytes of the file at `path` from `offset` (fewer at its end), without reading the rest. */
export async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const f = await Deno.open(path);
  try {
    return await readUpTo(f, offset, length);
  } finally {
    f.close();
  }
}

/** Overwrites `bytes` at `offset` of the file at `path` in place (to damage images on purpose). */
export async function patchFile(path: string, offset: number, bytes: number[]): Promise<void> {
  const f = await Deno.open(path, { read: true, write: true });
  try {
    await f.seek(offset, Deno.SeekMode.Start);
    await f.write(new Uint8Array(bytes));
  } finally {
    f.close();
  }
}
