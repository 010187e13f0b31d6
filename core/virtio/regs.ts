/**
 * virtio-mmio and virtio-blk constants, as docs/architecture.md and the virtio 1.x
 * specification lay them out. Device and driver share these so both sides speak one layout.
 *
 * @module
 */

/** `0x000` MagicValue register. */
export const REG_MAGIC = 0x000;
/** `0x004` Version register (2 = modern, 1 = legacy). */
export const REG_VERSION = 0x004;
/** `0x008` DeviceID register. */
export const REG_DEVICE_ID = 0x008;
/** `0x00c` VendorID register. */
export const REG_VENDOR_ID = 0x00c;
/** `0x010` DeviceFeatures: 32 feature bits selected by DeviceFeaturesSel. */
export const REG_DEVICE_FEATURES = 0x010;
/** `0x014` DeviceFeaturesSel: which 32-bit word of the device features 0x010 shows. */
export const REG_DEVICE_FEATURES_SEL = 0x014;
/** `0x020` DriverFeatures: 32 accepted feature bits selected by DriverFeaturesSel. */
export const REG_DRIVER_FEATURES = 0x020;
/** `0x024` DriverFeaturesSel. */
export const REG_DRIVER_FEATURES_SEL = 0x024;
/** `0x030` QueueSel: the queue the queue registers refer to. */
export const REG_QUEUE_SEL = 0x030;
/** `0x034` QueueNumMax: largest queue size the device supports (0: no such queue). */
export const REG_QUEUE_NUM_MAX = 0x034;
/** `0x038` QueueNum: queue size the driver uses. */
export const REG_QUEUE_NUM = 0x038;
/** `0x044` QueueReady. */
export const REG_QUEUE_READY = 0x044;
/** `0x050` QueueNotify: the driver writes a queue index when it made buffers available. */
export const REG_QUEUE_NOTIFY = 0x050;
/** `0x060` InterruptStatus. */
export const REG_INTERRUPT_STATUS = 0x060;
/** `0x064` InterruptACK. */
export const REG_INTERRUPT_ACK = 0x064;
/** `0x070` Status. */
export const REG_STATUS = 0x070;
/** `0x080` QueueDescLow. */
export const REG_QUEUE_DESC_LOW = 0x080;
/** `0x084` QueueDescHigh. */
export const REG_QUEUE_DESC_HIGH = 0x084;
/** `0x090` QueueDriverLow (avail ring). */
export const REG_QUEUE_DRIVER_LOW = 0x090;
/** `0x094` QueueDriverHigh. */
export const REG_QUEUE_DRIVER_HIGH = 0x094;
/** `0x0a0` QueueDeviceLow (used ring). */
export const REG_QUEUE_DEVICE_LOW = 0x0a0;
/** `0x0a4` QueueDeviceHigh. */
export const REG_QUEUE_DEVICE_HIGH = 0x0a4;
/** `0x0fc` ConfigGeneration. */
export const REG_CONFIG_GENERATION = 0x0fc;
/** `0x100` start of the device-specific configuration space. */
export const REG_CONFIG = 0x100;

/** Offset of virtio-blk `capacity` (u64, 512-byte sectors) in the config space. */
export const BLK_CFG_CAPACITY = 0x00;
/** Offset of virtio-blk `size_max` (u32) in the config space. */
export const BLK_CFG_SIZE_MAX = 0x08;
/** Offset of virtio-blk `seg_max` (u32) in the config space. */
export const BLK_CFG_SEG_MAX = 0x0c;
/** Offset of virtio-blk `blk_size` (u32) in the config space (register 0x114). */
export const BLK_CFG_BLK_SIZE = 0x14;
/** Size of the virtio-blk config structure this device exposes (through `blk_size`, topology). */
export const BLK_CFG_SIZE = 0x24;

/** The MagicValue: "virt" in little-endian. */
export const VIRTIO_MAGIC = 0x74726976;
/** Version of the modern (virtio 1.x) MMIO transport. */
export const VIRTIO_VERSION_MODERN = 2;
/** Version of the legacy MMIO transport. */
export const VIRTIO_VERSION_LEGACY = 1;
/** DeviceID of a block device. */
export const VIRTIO_ID_BLOCK = 2;
/** VendorID this device model reports ("NXUS" read as little-endian bytes). */
export const NEXUS_VENDOR_ID = 0x5355584e;

/** Status bit: the guest found the device. */
export const STATUS_ACKNOWLEDGE = 1;
/** Status bit: the guest has a driver for it. */
export const STATUS_DRIVER = 2;
/** Status bit: the driver is set up and ready. */
export const STATUS_DRIVER_OK = 4;
/** Status bit: feature negotiation is complete. */
export const STATUS_FEATURES_OK = 8;
/** Status bit (device-set): the device hit an error it cannot recover from without a reset. */
export const STATUS_DEVICE_NEEDS_RESET = 64;
/** Status bit: the driver gave up on the device. */
export const STATUS_FAILED = 128;

/** Feature bit: VIRTIO_BLK_F_SIZE_MAX (not offered). */
export const F_BLK_SIZE_MAX = 1;
/** Feature bit: VIRTIO_BLK_F_SEG_MAX (not offered). */
export const F_BLK_SEG_MAX = 2;
/** Feature bit: VIRTIO_BLK_F_BLK_SIZE, `blk_size` in the config is valid. */
export const F_BLK_BLK_SIZE = 6;
/** Feature bit: VIRTIO_BLK_F_FLUSH, the device has a write cache and honours FLUSH. */
export const F_BLK_FLUSH = 9;
/** Feature bit: VIRTIO_F_INDIRECT_DESC (not offered). */
export const F_INDIRECT_DESC = 28;
/** Feature bit: VIRTIO_F_VERSION_1, the device complies with virtio 1.x (must be accepted). */
export const F_VERSION_1 = 32;

/** Interrupt status bit: the device used a buffer. */
export const INT_USED_BUFFER = 1;
/** Interrupt status bit: the configuration (or device status) changed. */
export const INT_CONFIG_CHANGE = 2;

/** Descriptor flag: the chain continues at `next`. */
export const VIRTQ_DESC_F_NEXT = 1;
/** Descriptor flag: the buffer is device-writable. */
export const VIRTQ_DESC_F_WRITE = 2;
/** Descriptor flag: the buffer holds a table of indirect descriptors. */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Avail ring flag: the driver does not want interrupts for used buffers. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Size of one split-ring descriptor. */
export const VIRTQ_DESC_SIZE = 16;
/** Largest queue size a split virtqueue may have. */
export const VIRTQ_MAX_SIZE = 32768;

/** Bytes of a split-ring descriptor table of `num` entries. */
export function descTableSize(num: number): number {
  return VIRTQ_DESC_SIZE * num;
}
/** Bytes of a split-ring avail ring of `num` entries (flags, idx, ring, used_event). */
export function availRingSize(num: number): number {
  return 6 + 2 * num;
}
/** Bytes of a split-ring used ring of `num` entries (flags, idx, ring, avail_event). */
export function usedRingSize(num: number): number {
  return 6 + 8 * num;
}

/** virtio-blk request type: read. */
export const BLK_T_IN = 0;
/** virtio-blk request type: write. */
export const BLK_T_OUT = 1;
/** virtio-blk request type: flush the write cache. */
export const BLK_T_FLUSH = 4;
/** virtio-blk request type: device id string. */
export const BLK_T_GET_ID = 8;
/** Size of the virtio-blk request header (`type u32, reserved u32, sector u64`). */
export const BLK_REQ_HEADER_SIZE = 16;
/** Length of the GET_ID answer. */
export const BLK_ID_BYTES = 20;
/** virtio-blk sector size; request sectors are always in these units. */
export const BLK_SECTOR_SIZE = 512;

/** virtio-blk request status: success. */
export const BLK_S_OK = 0;
/** virtio-blk request status: I/O error. */
export const BLK_S_IOERR = 1;
/** virtio-blk request status: unsupported request. */
export const BLK_S_UNSUPP = 2;
