/**
 * rngd: entropy for the system, drawn from one deterministic stream keyed by the boot seed
 * (see stream.ts), so two boots with the same seed hand out the same bytes in the same order.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { RIGHT_RECV, type Syscalls } from "../../core/kernel/types.ts";
import { decodeRequest, encodeGetReply, encodeStatusReply } from "./protocol.ts";
import { EntropyStream } from "./stream.ts";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "entropy requests" },
];

/** Answers one rngd request frame from `stream`. */
function handleRngRequest(stream: EntropyStream, frame: Uint8Array): Uint8Array {
  const req = decodeRequest(frame);
  if (req.kind === "error") return encodeStatusReply(req.op, req.status);
  return encodeGetReply(stream.next(req.len));
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  let stream: EntropyStream;
  try {
    stream = new EntropyStream(env.seed);
  } catch (err) {
    sys.print(`rngd: FAIL boot seed: ${(err as Error).message}`);
    return;
  }
  sys.print("rngd: ready");
  await serve(sys, env.slots.inbox, (request) => handleRngRequest(stream, request.data));
}

/** The rngd service module. */
export const rngd: ServiceModule = { name: "rngd", requiredSlots: REQUIRED_SLOTS, main };

export default rngd;
