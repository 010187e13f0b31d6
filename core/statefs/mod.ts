/**
 * StateFS: the crash-safe key/value journal behind `/state` — block devices, the journal and
 * superblock codecs (docs/formats.md), the engine, fsck, and the CRCs the disk formats use.
 *
 * @example A store on a memory device: write, sync, check
 * ```ts
 * import { fsck, MemoryBlockDevice, StateFs } from "./mod.ts";
 *
 * const dev = new MemoryBlockDevice(1024); // 512 KiB of 512-byte blocks
 * await StateFs.format(dev);
 * const fs = await StateFs.open(dev);
 * await fs.put("/state/demo/greeting", new TextEncoder().encode("hello"));
 * await fs.sync(); // durable from here on
 * (await fsck(dev)).status; // "clean"
 * ```
 *
 * @module
 */

export { BLOCK_SIZE, type BlockDevice, BlockDeviceError, readBlocksInto } from "./block_device.ts";
export type { BlockDeviceErrorCode } from "./block_device.ts";
export { crc32, crc32c } from "./crc.ts";
export {
  FileBlockDevice,
  type FileBlockDeviceOptions,
  MemoryBlockDevice,
  SubBlockDevice,
} from "./devices.ts";
export { StateFsError, type StateFsErrorCode } from "./errors.ts";
export * from "./journal.ts";
export {
  type BatchOp,
  type CompactionInfo,
  DEFAULT_MAX_REPLAY_RECORDS,
  StateFs,
  type StateFsOptions,
  type StateFsStats,
} from "./engine.ts";
export {
  fsck,
  type FsckOptions,
  type FsckProblem,
  type FsckReport,
  type FsckStatus,
} from "./fsck.ts";
export { CrashBlockDevice } from "./crash_device.ts";
export {
  type Backup,
  BackupDevice,
  type BackupSink,
  encodeBackupEntry,
  encodeBackupHeader,
  parseBackup,
  restoreBackup,
} from "./backup.ts";
export { probeZeroedDevice, type ZeroedDevice } from "./probe.ts";
