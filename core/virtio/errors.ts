/**
 * Typed failures of the virtio-blk driver. A {@link VirtioError} is a {@link BlockDeviceError}
 * with code IO_ERROR, so the StateFS engine and statefsd treat every device failure as an I/O
 * error; `virtioCode` says precisely what went wrong.
 *
 * @module
 */

import { BlockDeviceError } from "../statefs/block_device.ts";

/** Stable codes for virtio driver failures. */
export type VirtioErrorCode =
  /** The window does not hold a virtio-mmio device (MagicValue mismatch). */
  | "BAD_MAGIC"
  /** The device presents the legacy transport (Version 1); only Version 2 is driven. */
  | "LEGACY_UNSUPPORTED"
  /** The device presents an unknown transport version. */
  | "BAD_VERSION"
  /** The device is not a block device (DeviceID != 2). */
  | "NOT_BLOCK"
  /** The device did not complete a reset (status not 0 after writing 0). */
  | "RESET_FAILED"
  /** The device lacks VIRTIO_F_VERSION_1 or VIRTIO_BLK_F_FLUSH. */
  | "MISSING_FEATURE"
  /** The device did not accept FEATURES_OK. */
  | "FEATURES_REJECTED"
  /** The configuration space did not settle (ConfigGeneration kept changing) or is unusable. */
  | "BAD_CONFIG"
  /** The request queue does not exist, is in use, or the device refused its setup. */
  | "QUEUE_SETUP"
  /** The device refused DRIVER_OK. */
  | "DRIVER_OK_REJECTED"
  /** The device set DEVICE_NEEDS_RESET (it found a malformed request or ring). */
  | "DEVICE_NEEDS_RESET"
  /** A request did not complete by its virtual-time deadline. */
  | "TIMEOUT"
  /** The device answered UNSUPP. */
  | "UNSUPPORTED"
  /** The device completed a request with an unknown status, or returned an unknown buffer. */
  | "BAD_COMPLETION"
  /** A syscall failed while a request was in flight. */
  | "KERNEL_ERROR";

/** A virtio driver failure: an I/O error for the block-device contract, with a precise code. */
export class VirtioError extends BlockDeviceError {
  /** Creates an error with a stable `virtioCode` and a human message. */
  constructor(readonly virtioCode: VirtioErrorCode, message: string) {
    super("IO_ERROR", message);
    this.name = "VirtioError";
  }
}
