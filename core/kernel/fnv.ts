/**
 * Service identity: `service_id = FNV-1a-64(name)` over the UTF-8 bytes of the name
 * (docs/protocols.md: the sender is FNV-1a-64 of the task name).
 *
 * @module
 */

/** FNV-1a-64 offset basis. */
export const FNV64_OFFSET_BASIS = 0xcbf29ce484222325n;
/** FNV-1a-64 prime. */
export const FNV64_PRIME = 0x100000001b3n;

const MASK64 = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/** FNV-1a-64 of `bytes`. */
export function fnv1a64Bytes(bytes: Uint8Array): bigint {
  let h = FNV64_OFFSET_BASIS;
  for (const b of bytes) {
    h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  }
  return h;
}

/** Names hashed so far: services hash the same few names on every request, a BigInt per byte. */
const known = new Map<string, bigint>();
/** Most names {@link known} keeps, so a stream of distinct names cannot grow it without end. */
const KNOWN_MAX = 4096;

/** FNV-1a-64 of the UTF-8 encoding of `name`: the service identity the kernel reports. */
export function fnv1a64(name: string): bigint {
  let h = known.get(name);
  if (h === undefined) {
    h = fnv1a64Bytes(encoder.encode(name));
    if (known.size < KNOWN_MAX) known.set(name, h);
  }
  return h;
}
