/**
 * StateFS: the crash-safe key/value journal behind `/state` — block devices, the journal and
 * superblock codecs (docs/formats.md), the engine, fsck, and the CRCs the disk formats use.
 *
 * @module
 */

export { BLOCK_SIZE, type BlockDevice, BlockDeviceError } from "./block_device.ts";
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
