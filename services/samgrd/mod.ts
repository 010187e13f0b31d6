/**
 * samgrd's public face: the service module, its `SM` v1 frame codecs and client helpers.
 *
 * @module
 */

export * from "./protocol.ts";
export { samgrd } from "./main.ts";
export { Registry } from "./registry.ts";
