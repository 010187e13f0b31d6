/**
 * The simulated kernel's public surface: the syscall contract and constants, the service
 * contract, frame codec helpers, the request/reply idiom, the startup slot check, and the
 * {@link Kernel} itself with its console, identity hash and a simple guest memory.
 *
 * @module
 */

export * from "./types.ts";
export * from "./schedule.ts";
export * from "./service.ts";
export * from "./frame.ts";
export * from "./rpc.ts";
export * from "./slot_check.ts";
export * from "./init_protocol.ts";
export * from "./fnv.ts";
export * from "./console.ts";
export * from "./memory.ts";
export * from "./kernel.ts";
