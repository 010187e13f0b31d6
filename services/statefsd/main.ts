/**
 * statefsd: the `/state` authority. At start it checks its slots, probes the virtio-blk device
 * behind its `blk` MMIO cap (the driver prints the `virtio-blk:` / `blk:` markers), reads the
 * disk's GPT through the driver, opens the StateFS engine on the `nexus-state` partition
 * (formatting it first when the area is blank), and only then prints `statefsd: ready` and
 * serves: the disk backend is settled before the first request is read, so no request ever sees
 * an empty in-memory store. When the disk cannot be brought up it prints a FAIL line and exits,
 * which closes its endpoint: clients see CLOSED instead of a store that is not the disk.
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
import { type GptPartition, readGpt } from "../../core/statefs/gpt.ts";
import { logAppend } from "../logd/protocol.ts";
import { PO_ALLOW, policyCheckCap } from "../policyd/protocol.ts";
import { type Authorizer, StatefsServer } from "./server.ts";
import { ReadCounter } from "./read_counter.ts";

/** GPT partition name of the StateFS area (overridable with `config.partition`). */
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
  constructor(readonly step: "probe" | "gpt" | "partition" | "format" | "open", message: string) {
    super(message);
    this.name = "DiskError";
  }
}

/** A name table of service identities, from `config.services` plus init. */
export function senderNames(config: Readonly<Record<string, unknown>>): Map<bigint, string> {
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

/** Finds the partition named `name`; throws {@link DiskError}. */
export async function findPartition(disk: BlockDevice, name: string): Promise<GptPartition> {
  let partitions: GptPartition[];
  try {
    const gpt = await readGpt((lba, count) => disk.read(lba, count), disk.blockCount);
    partitions = gpt.table.partitions;
  } catch (err) {
    throw new DiskError("gpt", (err as Error).message);
  }
  const found = partitions.filter((p) => p.name === name);
  if (found.length !== 1) {
    throw new DiskError(
      "partition",
      found.length === 0
        ? `no partition named ${name}`
        : `${found.length} partitions named ${name}`,
    );
  }
  return found[0];
}

/**
 * Opens the StateFS on `area`, formatting it first when its first block is all zeros (a blank
 * area; a legacy journal starts with a record, so it is never mistaken for one). Returns the
 * engine and whether it was formatted.
 */
export async function openStateArea(
  area: BlockDevice,
): Promise<{ fs: StateFs; formatted: boolean }> {
  let formatted = false;
  try {
    const first = await area.read(0, 1);
    if (first.every((b) => b === 0)) {
      await StateFs.format(area);
      formatted = true;
    }
  } catch (err) {
    throw new DiskError("format", (err as Error).message);
  }
  try {
    return { fs: await StateFs.open(area), formatted };
  } catch (err) {
    throw new DiskError("open", (err as Error).message);
  }
}

/** The authorizer over policyd (CHECK_CAP) and logd (audit), through the slots in `env`. */
export function ipcAuthorizer(sys: Syscalls, env: ServiceEnv): Authorizer {
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
  const name = typeof env.config.partition === "string" ? env.config.partition : STATE_PARTITION;
  const part = await findPartition(driver, name);
  const blocks = part.lastLba - part.firstLba + 1;
  const area = new SubBlockDevice(driver, part.firstLba, blocks);
  const { fs, formatted } = await openStateArea(counted(area));
  const s = fs.stats();
  sys.print(
    `statefsd: ${
      formatted ? "formatted and mounted" : "mounted"
    } ${name} (lba ${part.firstLba}, ${blocks} blocks, gen ${s.generation}, ${s.liveKeys} keys)`,
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
  await serve(sys, env.slots.inbox, (req) => server.handle(req.data, req.senderServiceId));
}

/** The statefsd service module. */
export const statefsd: ServiceModule = { name: "statefsd", requiredSlots: REQUIRED_SLOTS, main };

export default statefsd;
