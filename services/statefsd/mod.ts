/**
 * statefsd, the `/state` authority: the service module, its `SF` frames and client, and the
 * per-prefix access rules.
 *
 * @module
 */

export { DiskError, STATE_PARTITION, statefsd } from "./main.ts";
export { default } from "./main.ts";
export * from "./protocol.ts";
export * from "./access.ts";
export { type Authorizer, StatefsServer } from "./server.ts";
