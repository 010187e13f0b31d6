/**
 * core/virtio: the disk path the simulated OS uses.
 *
 * - {@link GuestMemory}: bounded guest-physical memory with a DMA allocator (the kernel's
 *   `PhysMemory`).
 * - {@link VirtioBlkMmio}: a virtio-blk device on a virtio-mmio window (modern transport),
 *   processing split virtqueues in guest memory exactly as the virtio 1.x spec lays them out.
 * - Backing stores ({@link MemoryStore}, {@link FileRegionStore}) and the fault-injection layer
 *   {@link FaultyStore} (power cuts named by replayable ids, injected sector errors).
 * - {@link VirtioBlkDriver}: the driver a simulated task runs through its syscalls; a StateFS
 *   `BlockDevice` over the whole disk.
 *
 * @example A disk whose third write fails, for a fault-injection run
 * ```ts
 * import { faultOptions, FaultyStore, MemoryStore, parseFaultPlan } from "./mod.ts";
 *
 * const seed = 7;
 * const plan = parseFaultPlan("ioerr@w3");
 * const disk = new FaultyStore(new MemoryStore(2048), faultOptions(plan, seed));
 * // Attach it behind a virtio-blk device (VirtioBlkMmio) at an MMIO window of a kernel.
 * ```
 *
 * @module
 */

export { GuestMemory, GuestMemoryError } from "./guest_memory.ts";
export type { GuestMemoryErrorCode, GuestMemoryOptions } from "./guest_memory.ts";
export * from "./regs.ts";
export { VIRTIO_BLK_FEATURES, VirtioBlkMmio } from "./blk_device.ts";
export type { VirtioBlkOptions, VirtioBlkStats } from "./blk_device.ts";
export { ChainError, SplitQueue } from "./virtqueue.ts";
export type { Chain, QueueLayout, Segment } from "./virtqueue.ts";
export {
  checkSectorRange,
  FileRegionStore,
  MemoryStore,
  sectorCount,
  StoreError,
} from "./store.ts";
export type { BlockStore, StoreErrorCode } from "./store.ts";
export { CUT_MODES, FaultyStore, formatCutId, parseCutId } from "./fault.ts";
export type { CutMode, CutPoint, CutReport, FaultOptions, RequestOp } from "./fault.ts";
export {
  faultOptions,
  type FaultPlan,
  FaultPlanError,
  formatFaultPlan,
  type IoErrorFault,
  isEmptyPlan,
  NO_FAULTS,
  parseFaultPlan,
} from "./fault_plan.ts";
export { VirtioBlkDriver } from "./blk_driver.ts";
export type { DriverStats, ProbeOptions } from "./blk_driver.ts";
export { VirtioError } from "./errors.ts";
export type { VirtioErrorCode } from "./errors.ts";
