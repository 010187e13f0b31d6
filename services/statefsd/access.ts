/**
 * statefsd's access rules per key prefix: which authority a read or a write of a key needs.
 *
 * - `/state/keystore` and everything under it belongs to keystored alone (no grant opens it to
 *   anyone else, so the device key never leaves keystored through statefsd);
 * - `/state/boot` and everything under it needs the `statefs.boot` capability to write and
 *   `statefs.boot.read` to read or list (a prover may read the boot control record back without
 *   being able to change it);
 * - every other key needs `statefs.write` to put, delete or batch, and `statefs.read` to get or
 *   list.
 *
 * Capabilities are decided by policyd (CHECK_CAP on the kernel-reported sender); the owner rule
 * is decided here on the kernel-reported identity. SYNC and REOPEN touch no key and change no
 * value a client could not already see, so holding a SEND cap to statefsd is enough for them.
 *
 * @module
 */

import { fnv1a64 } from "../../core/kernel/fnv.ts";

/** Namespace owned by keystored. */
export const KEYSTORE_PREFIX = "/state/keystore";
/** Namespace of the boot control state. */
export const BOOT_PREFIX = "/state/boot";
/** The only service that may touch {@link KEYSTORE_PREFIX}. */
export const KEYSTORE_OWNER = "keystored";
/** Capability for {@link BOOT_PREFIX}. */
export const CAP_BOOT = "statefs.boot";
/** Capability for reads of {@link BOOT_PREFIX}. */
export const CAP_BOOT_READ = "statefs.boot.read";
/** Capability for writes elsewhere. */
export const CAP_WRITE = "statefs.write";
/** Capability for reads elsewhere. */
export const CAP_READ = "statefs.read";

/** What an access needs: the owner's identity, or a policyd capability. */
export type AccessRule =
  | { kind: "owner"; owner: string; serviceId: bigint }
  | { kind: "cap"; cap: string };

const OWNER_RULE: AccessRule = {
  kind: "owner",
  owner: KEYSTORE_OWNER,
  serviceId: fnv1a64(KEYSTORE_OWNER),
};

function within(key: string, namespace: string): boolean {
  return key === namespace || key.startsWith(namespace + "/");
}

/** The rule for reading (`write` false) or writing (`write` true) `key`. */
export function accessRule(key: string, write: boolean): AccessRule {
  if (within(key, KEYSTORE_PREFIX)) return OWNER_RULE;
  if (within(key, BOOT_PREFIX)) return { kind: "cap", cap: write ? CAP_BOOT : CAP_BOOT_READ };
  return { kind: "cap", cap: write ? CAP_WRITE : CAP_READ };
}

/**
 * The rule a LIST of `prefix` needs. A prefix inside a guarded namespace needs that namespace's
 * rule; a wider prefix needs `statefs.read`, and each key it finds is then filtered by its own
 * read rule (see {@link accessRule}), so a listing never reveals a guarded key's name.
 */
export function listRule(prefix: string): AccessRule {
  const bare = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return accessRule(bare, false);
}

/** A stable text form of a rule, for caching decisions within one request. */
export function ruleId(rule: AccessRule): string {
  return rule.kind === "owner" ? `owner:${rule.owner}` : `cap:${rule.cap}`;
}
