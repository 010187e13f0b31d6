/**
 * Helpers shared by the kernel's own tests: turning syscall outcomes into comparable codes and
 * wiring endpoints between tasks from the host side.
 *
 * @module
 */

import type { Kernel } from "./kernel.ts";
import { KernelError, RIGHT_RECV, RIGHT_SEND } from "./types.ts";

/** Awaits `p` and returns "ok" or the KernelError code it rejected with (other errors rethrow). */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof KernelError) return err.code;
    throw err;
  }
}

/** Runs `fn` and returns "ok" or the KernelError code it threw (other errors rethrow). */
export function syncOutcome(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    if (err instanceof KernelError) return err.code;
    throw err;
  }
}

/**
 * Creates an endpoint owned by `owner` (which gets RECV at `recvSlot`) and gives `sender` SEND at
 * `sendSlot`. Returns the endpoint id.
 */
export function wire(
  k: Kernel,
  owner: number,
  recvSlot: number,
  sender: number,
  sendSlot: number,
  depth = 4,
): number {
  const id = k.createEndpoint(owner, depth);
  k.placeCap(owner, recvSlot, { kind: "endpoint", endpointId: id, rights: RIGHT_RECV });
  k.placeCap(sender, sendSlot, { kind: "endpoint", endpointId: id, rights: RIGHT_SEND });
  return id;
}

/** Encodes a string as bytes (test frames). */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Decodes bytes as a string (test frames). */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
