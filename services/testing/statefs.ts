/**
 * Test support for statefsd and the services that store through it (keystored, updated): a small
 * GPT disk in memory with a `nexus-state` partition, the virtio-blk device and guest memory the
 * harness attaches, and a stand-in policyd that answers CHECK_CAP from a grant table.
 *
 * The stand-in answers CHECK_CAP about any subject from any sender: that is the delegated check
 * statefsd makes on behalf of its client (statefsd asks "may <sender> hold <cap>?"). It records
 * every question so tests can see what statefsd asked.
 *
 * @module
 */

import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { GuestMemory } from "../../core/virtio/guest_memory.ts";
import { VirtioBlkMmio } from "../../core/virtio/blk_device.ts";
import { MemoryStore } from "../../core/virtio/store.ts";
import {
  encodeGpt,
  type GptPartition,
  gptUsableRange,
  LINUX_DATA_TYPE_GUID,
} from "../../core/statefs/gpt.ts";
import {
  decodeRequest as decodePolicy,
  encodeReply as encodePolicyReply,
  PO_ALLOW,
  PO_DENY,
} from "../policyd/protocol.ts";
import type { FakePeer, RigOptions } from "./rig.ts";
import { STATE_PARTITION } from "../statefsd/main.ts";

/** Sectors of the default test disk (4 MiB). */
export const TEST_DISK_SECTORS = 8192;
/** First sector of the default state partition. */
export const TEST_STATE_FIRST_LBA = 2048;
/** Sectors of the default state partition (1 MiB). */
export const TEST_STATE_SECTORS = 2048;

/** Options for {@link makeDisk}. */
export interface DiskOptions {
  /** Disk size in sectors. */
  sectors?: number;
  /** Partitions as `[name, firstLba, sectors, typeGuid?]`; default one `nexus-state`. */
  partitions?: Array<[string, number, number, string?]>;
}

/** A zeroed in-memory disk with a GPT (default: one blank `nexus-state` partition). */
export function makeDisk(opts: DiskOptions = {}): MemoryStore {
  const sectors = opts.sectors ?? TEST_DISK_SECTORS;
  const parts = opts.partitions ?? [[STATE_PARTITION, TEST_STATE_FIRST_LBA, TEST_STATE_SECTORS]];
  const partitions: GptPartition[] = parts.map(([name, first, count, type], i) => ({
    index: i + 1,
    typeGuid: type ?? LINUX_DATA_TYPE_GUID,
    uniqueGuid: `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, "0")}`,
    firstLba: first,
    lastLba: first + count - 1,
    attributes: 0n,
    name,
  }));
  const gpt = encodeGpt({
    totalSectors: sectors,
    diskGuid: "6E657875-7300-4000-8000-000000000001",
    ...gptUsableRange(sectors),
    partitions,
  });
  const store = new MemoryStore(sectors);
  store.bytes.set(gpt.head, 0);
  store.bytes.set(gpt.tail, gpt.tailLba * 512);
  return store;
}

/** The harness options that attach `store` as the virtio-blk disk on window 0. */
export function diskOptions(
  store: MemoryStore,
  opts: { legacy?: boolean } = {},
): Pick<RigOptions, "mmio" | "memory"> {
  return {
    memory: new GuestMemory(2 * 1024 * 1024),
    mmio: [{ window: 0, device: new VirtioBlkMmio(store, { legacy: opts.legacy }) }],
  };
}

/** One question the stand-in policyd was asked. */
export interface PolicyQuestion {
  subject: bigint;
  cap: string;
  allowed: boolean;
}

/**
 * A stand-in policyd answering CHECK_CAP from `grants` (service name -> capabilities); every
 * other request is DENY. Questions are appended to `log` when given.
 */
export function fakePolicyd(
  grants: Record<string, readonly string[]>,
  log: PolicyQuestion[] = [],
): FakePeer {
  const table = new Map<bigint, Set<string>>();
  for (const [name, caps] of Object.entries(grants)) table.set(fnv1a64(name), new Set(caps));
  return {
    name: "policyd",
    handler: (req) => {
      const d = decodePolicy(req.data);
      if (d.kind === "error") return encodePolicyReply(d.op, d.status);
      if (d.kind !== "check_cap") return encodePolicyReply(req.data[3], PO_DENY);
      const allowed = table.get(d.subject)?.has(d.cap) ?? false;
      log.push({ subject: d.subject, cap: d.cap, allowed });
      return encodePolicyReply(req.data[3], allowed ? PO_ALLOW : PO_DENY);
    },
  };
}
