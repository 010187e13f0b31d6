/**
 * The contract between a service module and the init that spawns it. Each
 * `services/<name>/main.ts` exports a {@link ServiceModule}; init wires its slots from the system
 * manifest and hands it a {@link ServiceEnv}; `nexus slots validate` checks the module's declared
 * {@link SlotNeed}s against the manifest before anything boots.
 *
 * @module
 */

import type { CapKind, Syscalls } from "./types.ts";

/** One capability slot a service requires, declared by the service module itself. */
export interface SlotNeed {
  /** Slot name as the manifest spells it (e.g. "statefs", "reply", "blk"). */
  name: string;
  /** Kind of capability expected in the slot. */
  kind: CapKind;
  /** Rights the service needs on it (RIGHT_* mask); holding fewer is an error. */
  rights: number;
  /** What the service uses it for (shown in diagnostics and fix hints). */
  use: string;
  /**
   * True when the service sends a request on this slot and blocks for the reply: the
   * validator builds its deadlock (synchronous call cycle) graph from these.
   */
  sync?: boolean;
  /**
   * Policy grants the service must hold for what it does over this slot (the peer checks them
   * on the kernel-reported sender); the validator reports a grant the manifest does not give.
   */
  grants?: readonly string[];
}

/** What init hands a service at spawn. */
export interface ServiceEnv {
  /** Slot numbers by slot name, from the manifest: the only source of slot numbers. */
  readonly slots: Readonly<Record<string, number>>;
  /** Boot seed (deterministic randomness). */
  readonly seed: number;
  /**
   * Per-service settings from the manifest's `[service.config]` table (policyd also receives the
   * manifest's policy grants here as `grants`).
   */
  readonly config: Readonly<Record<string, unknown>>;
}

/** A service as a module exports it. */
export interface ServiceModule {
  /** Service name; equals its manifest name and gives its identity (FNV-1a-64). */
  readonly name: string;
  /** Every slot the service requires. */
  readonly requiredSlots: readonly SlotNeed[];
  /** The task body. */
  main(sys: Syscalls, env: ServiceEnv): Promise<void>;
}
