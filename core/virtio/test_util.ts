/**
 * Shared by the virtio tests and benchmark: a kernel with guest memory and a virtio-blk device on
 * an MMIO window, and a way to run a body inside a simulated task holding the MMIO cap.
 *
 * @module
 */

import { Kernel } from "../kernel/kernel.ts";
import {
  type MmioDevice,
  RIGHT_MAP,
  type SimSchedule,
  type Syscalls,
  type Tracer,
} from "../kernel/mod.ts";
import { VirtioBlkMmio, type VirtioBlkOptions } from "./blk_device.ts";
import { GuestMemory } from "./guest_memory.ts";
import type { BlockStore } from "./store.ts";

/** Slot where the test task finds its MMIO cap. */
export const TEST_MMIO_SLOT = 5;

/** A kernel with a virtio-blk device attached at window 0. */
export interface VirtioRig {
  kernel: Kernel;
  memory: GuestMemory;
  /** The device model (unwrapped). */
  device: VirtioBlkMmio;
}

/** Options for {@link virtioRig}. */
export interface RigOptions {
  /** Device options. */
  device?: VirtioBlkOptions;
  /** Guest memory size (default 4 MiB). */
  memorySize?: number;
  /** Wraps the device before it is attached (to misbehave in a test). */
  wrap?: (dev: VirtioBlkMmio) => MmioDevice;
  /** The kernel's tracer. */
  tracer?: Tracer;
  /** The kernel's simulation schedule. */
  schedule?: SimSchedule;
}

/** Builds a kernel with guest memory and a virtio-blk device over `store` at MMIO window 0. */
export function virtioRig(store: BlockStore, opts: RigOptions = {}): VirtioRig {
  const memory = new GuestMemory(opts.memorySize ?? 4 * 1024 * 1024);
  const kernel = new Kernel({ memory, tracer: opts.tracer, schedule: opts.schedule });
  const device = new VirtioBlkMmio(store, opts.device);
  kernel.attachMmio(0, opts.wrap ? opts.wrap(device) : device);
  return { kernel, memory, device };
}

/**
 * Spawns a task named `name` holding the MMIO cap (MAP) at {@link TEST_MMIO_SLOT}, runs the
 * kernel until every task exited, and returns what `body` returned. A body that throws rejects
 * with that error; a run that ends without the body finishing rejects with the run's reason.
 */
export async function runInTask<T>(
  rig: VirtioRig,
  body: (sys: Syscalls, slot: number) => Promise<T>,
  name = "statefsd",
): Promise<T> {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  const pid = rig.kernel.spawn(name, async (sys) => {
    try {
      result = { ok: true, value: await body(sys, TEST_MMIO_SLOT) };
    } catch (error) {
      result = { ok: false, error };
    }
  });
  rig.kernel.placeCap(pid, TEST_MMIO_SLOT, { kind: "mmio", window: 0, rights: RIGHT_MAP });
  const run = await rig.kernel.run();
  if (!result) throw new Error(`task ${name} did not finish: run ended ${run.reason}`);
  if (!result.ok) throw result.error;
  return result.value;
}

/** Console lines of the rig's kernel, text only. */
export function consoleText(rig: VirtioRig): string[] {
  return rig.kernel.console.lines().map((l) => l.text);
}
