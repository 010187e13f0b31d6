/**
 * The boot entry point: one call that boots the simulated system against a disk image and runs
 * it until it is done, stopped, or stuck.
 *
 * It loads the system manifest, creates a kernel with guest memory, attaches a virtio-blk device
 * backed by the whole image file at each MMIO window the manifest declares for `virtio-blk`
 * (statefsd finds its partition itself by reading the GPT through the driver), hands init a MAP
 * cap for each window, spawns init privileged, and runs the scheduler, streaming every console
 * line to the caller as it is printed.
 *
 * @module
 */

import {
  CrashPoint,
  Kernel,
  type RunResult,
  type SimSchedule,
  type TaskCounts,
} from "../core/kernel/kernel.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
import { type CapInfo, RIGHT_MAP, type TaskInfo, type Tracer } from "../core/kernel/types.ts";
import { GuestMemory } from "../core/virtio/guest_memory.ts";
import { VirtioBlkMmio } from "../core/virtio/blk_device.ts";
import { type CutMode, type CutReport, FaultyStore } from "../core/virtio/fault.ts";
import {
  faultOptions,
  type FaultPlan,
  formatFaultPlan,
  hasDiskFaults,
  isEmptyPlan,
} from "../core/virtio/fault_plan.ts";
import { type BlockStore, FileRegionStore, StoreError } from "../core/virtio/store.ts";
import { SeededSchedule } from "../core/simulation/schedule.ts";
import { SERVICES } from "../services/mod.ts";
import { createInit, type WatchdogReport } from "./init.ts";
import {
  DEFAULT_MANIFEST_PATH,
  INIT_NAME,
  loadManifest,
  requireLoadable,
  type SystemManifest,
} from "./manifest.ts";

/** Guest-physical memory of a booted system (virtqueues and DMA buffers), 8 MiB. */
export const BOOT_MEMORY_BYTES = 8 * 1024 * 1024;
/** The device model name the manifest's `[[mmio]]` entries use for the disk. */
export const VIRTIO_BLK_DEVICE = "virtio-blk";

/** What to boot and how to watch it. */
export interface BootOptions {
  /** Disk image (raw: GPT, whole-device StateFS or blank); the whole file backs the disk. */
  imagePath: string;
  /**
   * A medium to boot on instead of opening `imagePath` (which then only names it in messages):
   * campaigns boot many times on in-memory images behind fault injection. The caller owns it.
   */
  store?: BlockStore;
  /**
   * The kernel's schedule instead of the seed's own (campaigns vary only the order of tasks, or
   * only the latencies); the seed still goes to the services and the fault plan.
   */
  schedule?: SimSchedule;
  /**
   * Run seed: drives every choice the simulation may vary (which ready task runs, delivery and
   * device latencies, what a power cut keeps) and is handed to every service. Seed 0 keeps the
   * canonical schedule: the longest-waiting task runs next and nothing takes extra time.
   */
  seed: number;
  /** Disk faults and a service crash to inject (default none). */
  faults?: FaultPlan;
  /**
   * Counts every task's blocking syscalls and injects its crash (core/kernel/crash.ts), instead of
   * a crash the plan names: campaigns measure where crashes can land and read whether one struck.
   */
  crashPoint?: CrashPoint;
  /** init's watchdog: responder-loop iterations allowed; unset = no watchdog. */
  watchdogTicks?: number;
  /** System manifest (default images/system.toml); unused when {@link manifest} is given. */
  manifestPath?: string;
  /**
   * The system manifest, already loaded (and checked) by the caller, so a boot reads it once;
   * it must have no loading errors.
   */
  manifest?: SystemManifest;
  /** Service modules by manifest `module` key (default services/mod.ts SERVICES). */
  services?: Record<string, ServiceModule>;
  /** Called with every console line as it is printed, with its virtual time. */
  onLine(line: string, timeNs: number): void;
  /** Polled between scheduler steps; true stops the run ("stopped"). */
  shouldStop(): boolean;
  /** Receives every syscall. */
  tracer?: Tracer;
  /**
   * Called once if init's watchdog fires, at that tick, with the task table init prints and
   * every task's slots as of the same moment (what `nexus ps` and `nexus caps` then show).
   */
  onWatchdog?: (at: WatchdogSnapshot) => void;
  /**
   * Cut power at the end of the boot: the disk runs through a volatile write cache and whatever
   * no completed FLUSH covered survives as `mode` decides (drawn from the run seed), instead of
   * reaching the image when the run ends. A plan's own earlier cut takes precedence.
   */
  powerCutAtEnd?: CutMode;
}

/**
 * The system as init's watchdog saw it: its report plus every task's filled slots and counts, by
 * pid, all as of that tick.
 */
export interface WatchdogSnapshot extends WatchdogReport {
  /** Every task's filled slots at the tick, by pid. */
  caps: Map<number, CapInfo[]>;
  /** Every task's syscall and message counts at the tick, by pid. */
  counts: Map<number, TaskCounts>;
}

/** What the disk saw in a boot that ended in a power cut (see {@link BootOptions.powerCutAtEnd}). */
export interface DiskReport {
  /** Completed writes. */
  writes: number;
  /** Completed FLUSH requests. */
  flushes: number;
  /** The power cut: writes in the cache and what of them reached the image. */
  cut: CutReport;
}

/** How a boot ended. */
export interface BootOutcome {
  /** Why the scheduler returned (see the kernel's RunResult). */
  reason: RunResult["reason"];
  /** Virtual time at the end, in ns. */
  virtualNs: number;
  /** The task table at the end. */
  tasks: TaskInfo[];
  /** Every task's filled slots at the end, by pid (what `nexus caps` shows). */
  caps: Map<number, CapInfo[]>;
  /** Every task's syscall and message counts at the end, by pid (what `nexus ps` shows). */
  counts: Map<number, TaskCounts>;
  /**
   * With a fault plan: the plan, the I/O errors injected, the power cut when it came, and the
   * blocking syscall the planned crash struck (absent when the service never made that many).
   */
  faults?: { plan: string; injected: number; cut?: CutReport; crashed?: string };
  /** With {@link BootOptions.powerCutAtEnd}: the disk's writes, flushes and the cut. */
  disk?: DiskReport;
}

/** Why a boot could not start. Manifest problems are {@link ManifestError}s instead. */
export type BootErrorCode = "IMAGE_UNREADABLE" | "BAD_IMAGE" | "BAD_DEVICE" | "BAD_OPTION";

/** A boot that could not start: an unusable image, a device nexus cannot model, a bad option. */
export class BootError extends Error {
  /** Creates an error with a stable code. */
  constructor(readonly code: BootErrorCode, message: string) {
    super(message);
    this.name = "BootError";
  }
}

function openImage(path: string): FileRegionStore {
  let store: FileRegionStore;
  try {
    store = FileRegionStore.open(path);
  } catch (err) {
    if (err instanceof StoreError) {
      throw new BootError("BAD_IMAGE", `${path}: not a disk image: ${err.message}`);
    }
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new BootError("IMAGE_UNREADABLE", `cannot open image ${path}: ${why}`);
  }
  if (store.sectors === 0) {
    store.close();
    throw new BootError("BAD_IMAGE", `${path}: the image is empty`);
  }
  return store;
}

/** Every task's syscall and message counts, by pid. */
function taskCounts(kernel: Kernel, tasks: readonly TaskInfo[]): Map<number, TaskCounts> {
  return new Map(tasks.map((t) => [t.pid, kernel.taskCounts(t.pid)]));
}

/** Every task's filled slots, by pid. */
function capTables(kernel: Kernel, tasks: readonly TaskInfo[]): Map<number, CapInfo[]> {
  return new Map(tasks.map((t) => [t.pid, kernel.capTable(t.pid)]));
}

/**
 * Boots the system and runs it until it goes idle, every task exits, or `shouldStop()` says so.
 * Throws {@link ManifestError} for an unreadable or invalid manifest and {@link BootError} for an
 * unusable image, an MMIO device nexus cannot model, or a bad option; the run itself never
 * throws for what the simulated system does (failures are console lines).
 *
 * @example
 * ```ts
 * import { bootSystem } from "./boot.ts";
 *
 * const outcome = await bootSystem({
 *   imagePath: "build/blk.img",
 *   seed: 1,
 *   watchdogTicks: 800,
 *   onLine: (line) => console.log(line),
 *   shouldStop: () => false,
 * });
 * console.log(outcome.reason, outcome.virtualNs);
 * ```
 */
export async function bootSystem(opts: BootOptions): Promise<BootOutcome> {
  checkOptions(opts);
  const manifest = opts.manifest ??
    requireLoadable(await loadManifest(opts.manifestPath ?? DEFAULT_MANIFEST_PATH));
  checkDevices(manifest);
  const plan = opts.faults !== undefined && !isEmptyPlan(opts.faults) ? opts.faults : undefined;
  checkCrash(manifest, plan);
  const crash = opts.crashPoint ?? (plan?.crash ? new CrashPoint(plan.crash) : undefined);
  const store: BlockStore = opts.store ?? openImage(opts.imagePath);
  const diskFaults = plan !== undefined && hasDiskFaults(plan);
  // The cache sits between the device model and the image, so the driver's FLUSH is what decides
  // durability, as on real hardware with a volatile write cache.
  const faulty = diskFaults || opts.powerCutAtEnd !== undefined
    ? new FaultyStore(store, diskFaults ? faultOptions(plan!, opts.seed) : {})
    : undefined;
  try {
    const kernel = newKernel(opts, crash);
    const unsubscribe = kernel.console.subscribe((l) => opts.onLine(l.text, l.time));
    try {
      const initPid = spawnInit(kernel, manifest, opts);
      for (const w of manifest.mmio) {
        kernel.attachMmio(w.window, new VirtioBlkMmio(faulty ?? store));
        kernel.placeCap(initPid, undefined, { kind: "mmio", window: w.window, rights: RIGHT_MAP });
      }
      const result = await kernel.run({ shouldStop: opts.shouldStop });
      const outcome: BootOutcome = {
        reason: result.reason,
        virtualNs: result.time,
        tasks: kernel.taskList(),
        caps: capTables(kernel, kernel.taskList()),
        counts: taskCounts(kernel, kernel.taskList()),
      };
      if (faulty) settleDisk(outcome, faulty, diskFaults, opts);
      if (plan !== undefined) {
        outcome.faults = {
          plan: formatFaultPlan(plan),
          injected: faulty && diskFaults ? faulty.injectedErrors : 0,
          ...(faulty?.cut ? { cut: faulty.cut } : {}),
          ...(crash?.fired ? { crashed: crash.fired } : {}),
        };
      }
      return outcome;
    } finally {
      unsubscribe();
    }
  } finally {
    if (opts.store === undefined) (store as FileRegionStore).close();
  }
}

/** BAD_OPTION for a seed or a watchdog limit the boot cannot use. */
function checkOptions(opts: BootOptions): void {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) {
    throw new BootError("BAD_OPTION", `seed must be a non-negative integer, got ${opts.seed}`);
  }
  if (
    opts.watchdogTicks !== undefined &&
    (!Number.isSafeInteger(opts.watchdogTicks) || opts.watchdogTicks < 1)
  ) {
    throw new BootError(
      "BAD_OPTION",
      `watchdog ticks must be a positive integer, got ${opts.watchdogTicks}`,
    );
  }
}

/** BAD_DEVICE unless the manifest asks for at most one device, and that one a virtio-blk. */
function checkDevices(manifest: SystemManifest): void {
  for (const w of manifest.mmio) {
    if (w.device !== VIRTIO_BLK_DEVICE) {
      throw new BootError(
        "BAD_DEVICE",
        `${manifest.file}: MMIO window ${w.window} asks for device "${w.device}"; nexus models only "${VIRTIO_BLK_DEVICE}"`,
      );
    }
  }
  if (manifest.mmio.length > 1) {
    // One image, one disk: two devices writing the same file would corrupt it.
    throw new BootError(
      "BAD_DEVICE",
      `${manifest.file}: ${manifest.mmio.length} MMIO windows ask for ${VIRTIO_BLK_DEVICE}; the image backs one disk`,
    );
  }
}

/** BAD_OPTION for a planned crash of a service the manifest does not declare. */
function checkCrash(manifest: SystemManifest, plan: FaultPlan | undefined): void {
  const crash = plan?.crash;
  if (crash && !manifest.services.some((s) => s.name === crash.task)) {
    throw new BootError(
      "BAD_OPTION",
      `fault crash@${crash.task}:${crash.syscall}: ${manifest.file} has no service "${crash.task}"`,
    );
  }
}

/** The kernel of a boot: guest memory, the tracer, the crash to inject, the seed's schedule. */
function newKernel(opts: BootOptions, crash: CrashPoint | undefined): Kernel {
  return new Kernel({
    memory: new GuestMemory(BOOT_MEMORY_BYTES),
    tracer: opts.tracer,
    ...(crash ? { crash } : {}),
    // Seed 0 is the canonical schedule (FIFO, no latencies): the reference every seed varies.
    ...(opts.schedule
      ? { schedule: opts.schedule }
      : opts.seed === 0
      ? {}
      : { schedule: new SeededSchedule(opts.seed) }),
  });
}

/** Spawns init, privileged, over `manifest`; returns its pid. */
function spawnInit(kernel: Kernel, manifest: SystemManifest, opts: BootOptions): number {
  const onWatchdog = opts.onWatchdog;
  return kernel.spawn(
    INIT_NAME,
    createInit({
      manifest,
      services: opts.services ?? SERVICES,
      seed: opts.seed,
      watchdogTicks: opts.watchdogTicks,
      ...(onWatchdog !== undefined
        ? {
          onWatchdog: (r: WatchdogReport) =>
            onWatchdog({
              ...r,
              caps: capTables(kernel, r.tasks),
              counts: taskCounts(kernel, r.tasks),
            }),
        }
        : {}),
    }),
    { privileged: true },
  );
}

/** What happens to the disk's write cache when the run ends; the cut is recorded in `outcome`. */
function settleDisk(
  outcome: BootOutcome,
  faulty: FaultyStore,
  diskFaults: boolean,
  opts: BootOptions,
): void {
  if (opts.powerCutAtEnd !== undefined) {
    // The boot ends in a power cut: only what a FLUSH covered is sure to be on the image.
    const cut = faulty.cut ?? faulty.powerCut(opts.powerCutAtEnd, opts.seed >>> 0);
    outcome.disk = { writes: faulty.writes, flushes: faulty.flushes, cut };
  }
  // Power stays on after the run (unless the plan cut it): the write cache reaches the image.
  if (diskFaults && !faulty.powerLost) faulty.drain();
}
