/**
 * Test support for init and the validator: service modules whose declared needs follow the
 * system wiring plan (the same slot names, kinds, rights and synchronous calls the real services
 * declare), so init and `slots validate` can be exercised without the real services.
 *
 * @module
 */

import type { ServiceEnv, ServiceModule, SlotNeed } from "../core/kernel/service.ts";
import { RIGHT_MAP, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../core/kernel/types.ts";

const inbox = (use: string): SlotNeed => ({
  name: "inbox",
  kind: "endpoint",
  rights: RIGHT_RECV,
  use,
});
const reply: SlotNeed = {
  name: "reply",
  kind: "endpoint",
  rights: RIGHT_SEND | RIGHT_RECV,
  use: "reply inbox",
};
const peer = (name: string, sync: boolean, use: string): SlotNeed => ({
  name,
  kind: "endpoint",
  rights: RIGHT_SEND,
  use,
  ...(sync ? { sync: true } : {}),
});

/** The needs of every service in the wiring plan, in start order. */
export const PLAN_NEEDS: Readonly<Record<string, readonly SlotNeed[]>> = {
  logd: [inbox("audit records")],
  policyd: [inbox("policy checks"), peer("logd", false, "audit records (nonblock)")],
  samgrd: [inbox("register / lookup")],
  rngd: [inbox("entropy")],
  statefsd: [
    inbox("SF requests"),
    reply,
    peer("policyd", true, "access checks"),
    peer("logd", false, "audit records"),
    { name: "blk", kind: "mmio", rights: RIGHT_MAP, use: "virtio-blk window" },
  ],
  keystored: [
    inbox("KS requests"),
    reply,
    peer("statefsd", true, "device key store"),
    peer("rngd", true, "key seed"),
  ],
  bundlemgrd: [inbox("BN requests")],
  updated: [
    inbox("UD requests"),
    reply,
    peer("statefsd", true, "bootctl"),
    peer("keystored", true, "VERIFY"),
    peer("bundlemgrd", true, "SET_ACTIVE_SLOT (routed)"),
  ],
  "selftest-client": [
    reply,
    ...["statefsd", "keystored", "samgrd", "policyd", "bundlemgrd", "updated"].map((p) =>
      peer(p, true, `proofs against ${p}`)
    ),
  ],
};

/** A service body for tests. */
export type FakeMain = (sys: Syscalls, env: ServiceEnv) => Promise<void>;

/** A module named `name` declaring `needs`, running `main` (by default: return at once). */
export function fakeModule(
  name: string,
  needs: readonly SlotNeed[],
  main: FakeMain = () => Promise.resolve(),
): ServiceModule {
  return { name, requiredSlots: needs, main };
}

/**
 * A registry with one fake module per service of the wiring plan; `mains` overrides the body of
 * some of them.
 */
export function planRegistry(
  mains: Readonly<Record<string, FakeMain>> = {},
): Record<string, ServiceModule> {
  const out: Record<string, ServiceModule> = {};
  for (const [name, needs] of Object.entries(PLAN_NEEDS)) {
    out[name] = fakeModule(name, needs, mains[name]);
  }
  return out;
}
