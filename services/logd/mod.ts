/**
 * logd's public face: the service module and its `LG` v1 frame codecs and client helpers.
 *
 * @module
 */

export * from "./protocol.ts";
export { logd } from "./main.ts";
export { AuditSink, DEFAULT_CAPACITY, MAX_CAPACITY } from "./sink.ts";
