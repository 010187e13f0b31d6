/**
 * Test support for init and the validator: service modules whose declared needs follow the
 * system wiring plan (the same slot names, kinds, rights and synchronous calls the real services
 * declare), so init and `slots validate` can be exercised without the real services.
 *
 * @module
 */

import { Kernel, type RunResult } from "../../core/kernel/kernel.ts";
import type { ConsoleLine } from "../../core/kernel/console.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import {
  type MmioDevice,
  RIGHT_MAP,
  RIGHT_RECV,
  RIGHT_SEND,
  type SyscallEvent,
  type Syscalls,
} from "../../core/kernel/types.ts";
import { createInit, type InitOptions } from "../init.ts";
import { INIT_NAME, parseManifest, requireLoadable } from "../manifest.ts";

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
const peer = (name: string, sync: boolean, use: string, grants?: string[]): SlotNeed => ({
  name,
  kind: "endpoint",
  rights: RIGHT_SEND,
  use,
  ...(sync ? { sync: true } : {}),
  ...(grants ? { grants } : {}),
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
    peer("policyd", true, "access checks", ["policy.delegate"]),
    peer("logd", false, "audit records"),
    { name: "blk", kind: "mmio", rights: RIGHT_MAP, use: "virtio-blk window" },
  ],
  keystored: [
    inbox("KS requests"),
    reply,
    peer("statefsd", true, "device key store"),
    peer("rngd", true, "key seed"),
    peer("policyd", true, "DEVICE_SIGN grant checks", ["policy.delegate"]),
  ],
  bundlemgrd: [
    inbox("BN requests"),
    reply,
    peer("policyd", true, "SET_ACTIVE_SLOT grant checks", ["policy.delegate"]),
  ],
  updated: [
    inbox("UD requests"),
    reply,
    peer("statefsd", true, "bootctl"),
    peer("keystored", true, "VERIFY"),
    peer("bundlemgrd", true, "SET_ACTIVE_SLOT (routed)", ["bundle.set_active"]),
    peer("policyd", true, "HEALTH_OK / BOOT_ATTEMPT grant checks", ["policy.delegate"]),
  ],
  "selftest-ungranted": [
    inbox("PROBE requests"),
    reply,
    peer("keystored", true, "DEVICE_SIGN (not granted)"),
    peer("updated", true, "BOOT_ATTEMPT (not granted)"),
  ],
  "selftest-client": [
    reply,
    ...["statefsd", "samgrd", "policyd", "bundlemgrd"].map((p) =>
      peer(p, true, `proofs against ${p}`)
    ),
    peer("keystored", true, "proofs against keystored", ["keystore.sign"]),
    peer("updated", true, "proofs against updated", ["update.boot_attempt"]),
    peer("selftest-ungranted", true, "PROBE"),
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

/** Options for {@link runInit}. */
export interface RunInitOptions extends Omit<InitOptions, "manifest" | "seed"> {
  /** Manifest TOML text. */
  manifest: string;
  seed?: number;
  /** MMIO windows to attach a device to and hand init a MAP cap for. */
  mmio?: Array<{ window: number; device: MmioDevice }>;
  /** Spawn init without privilege (to test that it refuses to run). */
  unprivileged?: boolean;
  /** Scheduling steps allowed (default 100,000). */
  maxSteps?: number;
}

/** What {@link runInit} saw. */
export interface InitRun {
  kernel: Kernel;
  result: RunResult;
  /** Console lines with time and pid. */
  console: ConsoleLine[];
  /** Console texts only. */
  lines: string[];
  /** Console lines and syscalls interleaved in the order they happened. */
  events: Array<
    { kind: "line"; pid: number; text: string } | { kind: "call"; event: SyscallEvent }
  >;
  initPid: number;
}

/** Boots init with `opts` on a fresh kernel and runs until nothing can progress. */
export async function runInit(opts: RunInitOptions): Promise<InitRun> {
  const events: InitRun["events"] = [];
  const kernel = new Kernel({
    tracer: (event) => event.kind === "syscall" && events.push({ kind: "call", event }),
  });
  kernel.console.subscribe((l) => events.push({ kind: "line", pid: l.pid, text: l.text }));
  const manifest = requireLoadable(parseManifest(opts.manifest, "test.toml"));
  const initPid = kernel.spawn(
    INIT_NAME,
    createInit({ ...opts, manifest, seed: opts.seed ?? 1 }),
    { privileged: !opts.unprivileged },
  );
  for (const { window, device } of opts.mmio ?? []) {
    kernel.attachMmio(window, device);
    kernel.placeCap(initPid, undefined, { kind: "mmio", window, rights: RIGHT_MAP });
  }
  const result = await kernel.run({ maxSteps: opts.maxSteps ?? 100_000 });
  const console = kernel.console.lines();
  return { kernel, result, console, lines: console.map((l) => l.text), events, initPid };
}
