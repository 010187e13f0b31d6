/**
 * rngd's public face: the service module, its `RN` v1 frame codecs and client helper, and the
 * deterministic generator.
 *
 * @module
 */

export * from "./protocol.ts";
export { rngd } from "./main.ts";
export { EntropyStream, seedBytes } from "./stream.ts";
