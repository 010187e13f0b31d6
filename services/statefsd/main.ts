/**
 * statefsd: the `/state` authority. At start it checks its slots, probes the virtio-blk device
 * behind its `blk` MMIO cap (the driver prints the `virtio-blk:` / `blk:` markers), finds its
 * StateFS through the driver (core/disk/discover.ts: the GPT partition of the StateFS type, else
 * named `nexus-state` or `state`, read from the valid GPT copy with a printed warning; or, with
 * no GPT, the whole disk, as the original OS uses it), opens the engine there (formatting it first
 * only when the area is provably blank), and only then prints `statefsd: ready` and serves: the
 * disk backend is settled before the first request is read, so no request ever sees an empty
 * in-memory store. When the disk cannot be brought up it prints a FAIL line and exits, which
 * closes its endpoint: clients see CLOSED instead of a store that is not the disk.
 *
 * Access (access.ts): `/state/keystore/*` is keystored's alone; other rules are asked of policyd
 * with CHECK_CAP on the kernel-reported sender (statefsd asks on behalf of its client). A denial
 * prints `statefsd: access denied path=<p> sender=<svc>` and is audited to logd. Sender names come
 * from `config.services` (the manifest's service names); an unknown sender prints as its identity
 * in hex.
 *
 * @module
 */

import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { checkSlots } from "../../core/kernel/slot_check.ts";
import { RIGHT_MAP, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import { type BlockDevice, StateFs, SubBlockDevice } from "../../core/statefs/mod.ts";
import { VirtioBlkDriver } from "../../core/virtio/blk_driver.ts";
import { discoverDisk, DiskLayoutError, scanBlank } from "../../core/disk/discover.ts";
import { logAppend } from "../logd/protocol.ts";
import { PO_ALLOW, policyCheckCap } from "../policyd/protocol.ts";
import { type Authorizer, StatefsServer } from "./server.ts";
import { ReadCounter } from "./read_counter.ts";

/**
 * GPT partition name nexus gives the StateFS area. statefsd finds the partition by its type
 * first; `config.partition` names one exactly instead.
 */
export const STATE_PARTITION = "nexus-state";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "SF requests" },
  {
    name: "reply",
    kind: "endpoint",
    rights: RIGHT_SEND | RIGHT_RECV,
    use: "reply inbox for policy checks",
  },
  {
    name: "policyd",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "CHECK_CAP per key prefix",
    sync: true,
    grants: ["policy.delegate"],
  },
  { name: "logd", kind: "endpoint", rights: RIGHT_SEND, use: "audit of denials" },
  { name: "blk", kind: "mmio", rights: RIGHT_MAP, use: "virtio-blk disk (MMIO window)" },
];

/** Why the disk could not be brought up. */
export class DiskError extends Error {
  /** Creates an error naming the step that failed. */
  constructor(
    readonly step: "probe" | "layout" | "gpt" | "partition" | "format" | "open",
    message: string,
  ) {
    super(message);
    this.name = "DiskError";
  }
}

/** A name table of service identities, from `config.services` plus init. */
function senderNames(config: Readonly<Record<string, unknown>>): Map<bigint, string> {
  const names = new Map<bigint, string>([[fnv1a64("init"), "init"]]);
  const list = config.services;
  if (Array.isArray(list)) {
    for (const entry of list) {
      const name = typeof entry === "string"
        ? entry
        : typeof entry === "object" && entry !== null &&
            typeof (entry as { name?: unknown }).name === "string"
        ? (entry as { name: string }).name
        : undefined;
      if (name !== undefined) names.set(fnv1a64(name), name);
    }
  }
  return names;
}

const LAYOUT_STEP: Record<DiskLayoutError["code"], DiskError["step"]> = {
  TOO_SMALL: "gpt",
  BAD_GPT: "gpt",
  NO_PARTITION: "partition",
  AMBIGUOUS_PARTITION: "partition",
  NOT_AN_IMAGE: "layout",
  NOT_BLANK: "layout",
};

/** Where the StateFS is on the disk, as {@link locateStateArea} found it. */
interface StateArea {
  /** The StateFS area: a partition of the disk, or the whole disk. */
  area: BlockDevice;
  /** How the mount line names it: `nexus-state (lba 2048, 61440 blocks` or `whole disk (...`. */
  label: string;
  /** The area was proven blank while it was located (no need to prove it again). */
  provenBlank: boolean;
  /** GPT problems tolerated, one line each. */
  warnings: string[];
}

/** Finds the StateFS area of `disk` (core/disk/discover.ts's rules); throws {@link DiskError}. */
async function locateStateArea(disk: BlockDevice, name?: string): Promise<StateArea> {
  let shape;
  try {
    shape = await discoverDisk((lba, count) => disk.read(lba, count), disk.blockCount, {
      partition: name,
    });
  } catch (err) {
    if (err instanceof DiskLayoutError) throw new DiskError(LAYOUT_STEP[err.code], err.message);
    throw new DiskError("gpt", (err as Error).message);
  }
  if (shape.kind === "whole-device") {
    return {
      area: disk,
      label: `whole disk (${disk.blockCount} blocks`,
      provenBlank: shape.content === "blank",
      warnings: [],
    };
  }
  const p = shape.partition;
  const blocks = p.lastLba - p.firstLba + 1;
  return {
    area: new SubBlockDevice(disk, p.firstLba, blocks),
    label: `${p.name || `partition ${p.index}`} (lba ${p.firstLba}, ${blocks} blocks`,
    provenBlank: false,
    warnings: shape.warnings,
  };
}

/**
 * Opens the StateFS on `area`, formatting it first when it is provably blank: block 0 zero and
 * every other block zero too (or holding only what a format cut short leaves), which
 * `provenBlank` says was already checked. An area whose block 0 is zero but that holds data
 * anywhere else may be a StateFS that lost its superblock: it is refused, never formatted.
 * A legacy journal starts with a record, so it is never mistaken for a blank area. Returns the
 * engine and whether it was formatted.
 */
async function openStateArea(
  area: BlockDevice,
  provenBlank = false,
): Promise<{ fs: StateFs; formatted: boolean }> {
  let formatted = false;
  try {
    const first = await area.read(0, 1);
    if (first.every((b) => b === 0)) {
      if (!provenBlank) {
        const scan = await scanBlank((lba, count) => area.read(lba, count), 0, area.blockCount);
        if (!scan.blank) {
          throw new DiskError(
            "format",
            `block 0 is zero but block ${scan.firstDataBlock} holds data: not blank, not formatted (a StateFS that lost its superblock?)`,
          );
        }
      }
      // Proven all zeros: nothing to read or zero while formatting.
      await StateFs.format(area, { zeroed: true });
      formatted = true;
    }
  } catch (err) {
    if (err instanceof DiskError) throw err;
    throw new DiskError("format", (err as Error).message);
  }
  try {
    return { fs: await StateFs.open(area), formatted };
  } catch (err) {
    throw new DiskError("open", (err as Error).message);
  }
}

/** The authorizer over policyd (CHECK_CAP) and logd (audit), through the slots in `env`. */
function ipcAuthorizer(sys: Syscalls, env: ServiceEnv): Authorizer {
  const names = senderNames(env.config);
  return {
    allows: async (sender, rule) => {
      if (rule.kind === "owner") return sender === rule.serviceId;
      try {
        const status = await policyCheckCap(
          sys,
          env.slots.policyd,
          env.slots.reply,
          sender,
          rule.cap,
        );
        return status === PO_ALLOW;
      } catch (err) {
        // Fail closed: no answer from policyd is no grant.
        sys.print(`statefsd: policy check error (${(err as Error).message})`);
        return false;
      }
    },
    nameOf: (sender) => names.get(sender) ?? `0x${sender.toString(16).padStart(16, "0")}`,
    audit: async (text) => {
      await logAppend(sys, env.slots.logd, text);
    },
  };
}

async function bringUpDisk(
  sys: Syscalls,
  env: ServiceEnv,
  counted: (area: BlockDevice) => BlockDevice,
): Promise<StateFs> {
  let driver: VirtioBlkDriver;
  try {
    driver = await VirtioBlkDriver.probe(sys, env.slots.blk);
  } catch (err) {
    throw new DiskError("probe", (err as Error).message);
  }
  const name = typeof env.config.partition === "string" ? env.config.partition : undefined;
  const where = await locateStateArea(driver, name);
  for (const w of where.warnings) sys.print(`statefsd: warning: ${w}`);
  const { fs, formatted } = await openStateArea(counted(where.area), where.provenBlank);
  const s = fs.stats();
  sys.print(
    `statefsd: ${
      formatted ? "formatted and mounted" : "mounted"
    } ${where.label}, gen ${s.generation}, ${s.liveKeys} keys)`,
  );
  return fs;
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  let fs: StateFs;
  let reads: ReadCounter | undefined;
  try {
    fs = await bringUpDisk(sys, env, (area) => reads = new ReadCounter(area));
  } catch (err) {
    const step = err instanceof DiskError ? err.step : "disk";
    sys.print(`statefsd: FAIL disk ${step} (${(err as Error).message})`);
    return;
  }
  const server = new StatefsServer(
    fs,
    ipcAuthorizer(sys, env),
    (line) => sys.print(line),
    () => reads?.sectorsRead ?? 0,
  );
  fs.onCompaction = (info) => {
    // A compaction syncs the whole state before it returns.
    server.synced();
    sys.print(`statefsd: compaction done (gen=${info.generation}, entries=${info.entries})`);
  };
  sys.print("statefsd: ready");
  const sample = journalCounters(sys, fs);
  sample();
  await serve(sys, env.slots.inbox, async (req) => {
    const answer = await server.handle(req.data, req.senderServiceId);
    sample();
    return answer;
  });
}

/**
 * Records the journal's size and the live keys as trace counters whenever they changed, so a
 * timeline shows the journal grow with each write and drop at each compaction.
 */
function journalCounters(sys: Syscalls, fs: StateFs): () => void {
  let bytes = -1;
  let keys = -1;
  return () => {
    const s = fs.stats();
    if (s.bytesUsed !== bytes) sys.traceCounter("statefs journal bytes", bytes = s.bytesUsed);
    if (s.liveKeys !== keys) sys.traceCounter("statefs live keys", keys = s.liveKeys);
  };
}

/** The statefsd service module. */
export const statefsd: ServiceModule = { name: "statefsd", requiredSlots: REQUIRED_SLOTS, main };

export default statefsd;
