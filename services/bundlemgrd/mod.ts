/**
 * bundlemgrd's public face: the service module, its `BN` v1 frame codecs and client helpers,
 * and the slot table.
 *
 * @module
 */

export * from "./protocol.ts";
export { bundlemgrd } from "./main.ts";
export { BundleConfigError, DEFAULT_VERSION, MAX_PROPERTIES_BYTES, SlotTable } from "./slots.ts";
