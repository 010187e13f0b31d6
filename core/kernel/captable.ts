/**
 * Capability tables: each task's 96 slots, lookups that check kind and rights, installing and
 * narrowing caps, privilege (MANAGE on the task's own bootstrap endpoint in slot 0), and the
 * cap syscalls (capQuery, capDerive, capClone, capClose, capTransfer).
 *
 * @module
 */

import { type Cap, type HeldCap, isRights, type KernelState, kerr, liveTask } from "./state.ts";
import type { Task } from "./state.ts";
import {
  CAP_SLOTS,
  type CapInfo,
  type CapKind,
  MMIO_BASE,
  MMIO_WINDOW_SIZE,
  RIGHT_MANAGE,
  SLOT_BOOTSTRAP,
} from "./types.ts";

/** Rejects a slot number outside the table. */
export function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= CAP_SLOTS) {
    throw kerr("INVALID_SLOT", `slot ${slot} out of range 0..${CAP_SLOTS - 1}`);
  }
}

/** The cap in `slot`; INVALID_SLOT or EMPTY_SLOT otherwise. */
export function capAt(task: Task, slot: number): HeldCap {
  checkSlot(slot);
  const cap = task.table[slot];
  if (!cap) throw kerr("EMPTY_SLOT", `slot ${slot} is empty`);
  return cap;
}

/** The cap in `slot`, which must be of `kind` and hold `right`. */
export function capOf<K extends CapKind>(
  task: Task,
  slot: number,
  kind: K,
  right: number,
): Extract<HeldCap, { kind: K }> {
  const cap = capAt(task, slot);
  if (cap.kind !== kind) throw kerr("WRONG_KIND", `slot ${slot} holds ${cap.kind}, not ${kind}`);
  if ((cap.rights & right) !== right) {
    throw kerr("PERMISSION_DENIED", `slot ${slot} lacks right ${right}`);
  }
  return cap as Extract<HeldCap, { kind: K }>;
}

/** The first empty slot, if any. */
export function firstFree(task: Task): number | undefined {
  const i = task.table.indexOf(null);
  return i < 0 ? undefined : i;
}

/** Puts `cap` at `slot` (must be free) or the first free slot; returns the slot. */
export function install(task: Task, cap: HeldCap, slot: number | undefined): number {
  if (slot !== undefined) {
    checkSlot(slot);
    if (task.table[slot]) throw kerr("SLOT_OCCUPIED", `slot ${slot} of ${task.name} is taken`);
  } else {
    slot = firstFree(task);
    if (slot === undefined) throw kerr("NO_FREE_SLOT", `cap table of ${task.name} is full`);
  }
  task.table[slot] = cap;
  return slot;
}

/** A copy of `cap` with `rights`, which must be a subset of the held ones. */
function narrow(cap: HeldCap, rights: number): HeldCap {
  if (!isRights(rights)) throw kerr("INVALID_ARGUMENT", `bad rights ${rights}`);
  if ((rights & ~cap.rights) !== 0) {
    throw kerr("PERMISSION_DENIED", `rights ${rights} exceed the held ${cap.rights}`);
  }
  return { ...cap, rights };
}

/**
 * Privilege is MANAGE on slot 0 holding the task's own bootstrap endpoint. Only a task spawned
 * privileged ever holds such a cap (derivation never adds rights), so a task cannot promote
 * itself by deriving some other MANAGE cap into slot 0.
 */
function privileged(task: Task): boolean {
  const c = task.table[SLOT_BOOTSTRAP];
  return c !== null && c.kind === "endpoint" && c.endpointId === task.bootEndpointId &&
    (c.rights & RIGHT_MANAGE) !== 0;
}

/** PERMISSION_DENIED unless `task` is privileged. */
export function requirePrivilege(task: Task, op: string): void {
  if (!privileged(task)) {
    throw kerr("PERMISSION_DENIED", `${op} needs MANAGE on slot 0`);
  }
}

/** A copy of a host-supplied cap, validated (the host is trusted with rights, not with ids). */
export function hostCap(k: KernelState, cap: Cap): Cap {
  if (!isRights(cap.rights)) throw kerr("INVALID_ARGUMENT", `bad rights ${cap.rights}`);
  if (cap.kind === "endpoint") {
    if (!k.endpoints.has(cap.endpointId)) {
      throw kerr("INVALID_ARGUMENT", `no endpoint ${cap.endpointId}`);
    }
    return { kind: "endpoint", endpointId: cap.endpointId, rights: cap.rights };
  }
  if (cap.kind === "mmio") {
    if (!Number.isInteger(cap.window) || cap.window < 0) {
      throw kerr("INVALID_ARGUMENT", `bad MMIO window ${cap.window}`);
    }
    return { kind: "mmio", window: cap.window, rights: cap.rights };
  }
  if (cap.kind === "endpoint-factory") return { kind: "endpoint-factory", rights: cap.rights };
  throw kerr("INVALID_ARGUMENT", `unknown cap kind ${(cap as { kind: string }).kind}`);
}

function describe(k: KernelState, slot: number, cap: HeldCap): CapInfo {
  const info: CapInfo = { slot, kind: cap.kind, rights: cap.rights };
  if (cap.kind === "endpoint") {
    const ep = k.endpoints.get(cap.endpointId)!;
    info.endpoint = {
      id: ep.id,
      ownerPid: ep.owner.pid,
      ownerName: ep.owner.name,
      depth: ep.depth,
      queued: ep.queue.length,
      closed: ep.closed,
    };
  } else if (cap.kind === "mmio") {
    info.mmio = { window: cap.window, base: MMIO_BASE + cap.window * MMIO_WINDOW_SIZE };
  }
  return info;
}

/** Every filled slot of `task`'s table, described as capQuery would (the host's task view). */
export function capRows(k: KernelState, task: Task): CapInfo[] {
  const rows: CapInfo[] = [];
  task.table.forEach((cap, slot) => {
    if (cap) rows.push(describe(k, slot, cap));
  });
  return rows;
}

// ---- the cap syscalls ----

/** capQuery: describes the cap in `slot`, or null when empty. */
export function sysCapQuery(k: KernelState, task: Task, slot: number): CapInfo | null {
  checkSlot(slot);
  const cap = task.table[slot];
  return cap ? describe(k, slot, cap) : null;
}

/** capDerive: a narrowed copy within the table. */
export function sysCapDerive(task: Task, slot: number, rights: number, toSlot?: number): number {
  return install(task, narrow(capAt(task, slot), rights), toSlot);
}

/** capClone: a same-rights copy at the first free slot. */
export function sysCapClone(task: Task, slot: number): number {
  return install(task, { ...capAt(task, slot) }, undefined);
}

/** capClose: empties `slot`. */
export function sysCapClose(task: Task, slot: number): void {
  capAt(task, slot);
  task.table[slot] = null;
}

/** capTransfer: a narrowed copy into another task's table (privileged). */
export function sysCapTransfer(
  k: KernelState,
  task: Task,
  slot: number,
  pid: number,
  rights: number,
  toSlot?: number,
): number {
  requirePrivilege(task, "capTransfer");
  const cap = narrow(capAt(task, slot), rights);
  const target = liveTask(k, pid);
  return install(target, cap, toSlot);
}
