/**
 * The simulated kernel's public surface: the syscall contract and constants, the service
 * contract, frame codec helpers, the request/reply idiom, the startup slot check, and the
 * {@link Kernel} itself with its console, identity hash and a simple guest memory.
 *
 * @example Two tasks: a request and its reply
 * ```ts
 * import { call, Kernel, RIGHT_RECV, RIGHT_SEND, serve } from "./mod.ts";
 *
 * const kernel = new Kernel();
 * const echo = kernel.spawn("echo", (sys) => serve(sys, 3, (req) => req.data.slice().reverse()));
 * const inbox = kernel.createEndpoint(echo, 4);
 * kernel.placeCap(echo, 3, { kind: "endpoint", endpointId: inbox, rights: RIGHT_RECV });
 *
 * const client = kernel.spawn("client", async (sys) => {
 *   const reply = await call(sys, 3, 4, Uint8Array.of(1, 2, 3));
 *   sys.print(`reply ${[...reply.data]}`);
 * });
 * kernel.placeCap(client, 3, { kind: "endpoint", endpointId: inbox, rights: RIGHT_SEND });
 * const own = kernel.createEndpoint(client, 4);
 * const both = RIGHT_SEND | RIGHT_RECV;
 * kernel.placeCap(client, 4, { kind: "endpoint", endpointId: own, rights: both });
 *
 * await kernel.run({ shouldStop: () => kernel.console.lines().length > 0, maxSteps: 1_000 });
 * kernel.console.lines()[0].text; // "reply 3,2,1"
 * ```
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
