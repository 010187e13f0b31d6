/**
 * updated, A/B over-the-air updates: the service module, its `UD` frames and client, the bootctl
 * state machine and the signed system-set format with its builder.
 *
 * @module
 */

export { UPDATE_PUBKEY_CONFIG, updated, UpdatedConfigError, updatePublicKey } from "./main.ts";
export { default } from "./main.ts";
export * from "./protocol.ts";
export * from "./bootctl.ts";
export { type Handled, Updater, type UpdaterBackend } from "./updater.ts";
