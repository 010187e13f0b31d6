/**
 * keystored, the device identity key: the service module, its `KS` frames and client, and the
 * Ed25519 helpers of the device-key contract.
 *
 * @module
 */

export { DEVICE_KEY_PATH, Keystore, type KeystoreBackend, keystored } from "./main.ts";
export { default } from "./main.ts";
export * from "./protocol.ts";
