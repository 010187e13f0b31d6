/**
 * samgrd: the service registry. REGISTER stores a name with a send/recv slot pair and LOOKUP
 * gives it back, both in the namespace of the caller's kernel-reported identity.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { type Message, RIGHT_RECV, type Syscalls } from "../../core/kernel/types.ts";
import {
  decodeRequest,
  encodeReply,
  SAMGRD_SELF,
  SM_FULL,
  SM_NOT_FOUND,
  SM_OK,
  SM_OP_LOOKUP,
  SM_OP_REGISTER,
} from "./protocol.ts";
import { Registry } from "./registry.ts";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "register and lookup requests" },
];

/** Answers one samgrd request against `registry`. */
function handleSamgrRequest(registry: Registry, request: Message): Uint8Array {
  const req = decodeRequest(request.data);
  switch (req.kind) {
    case "register": {
      const pair = { send: req.send, recv: req.recv };
      return registry.register(request.senderServiceId, req.name, pair) === "ok"
        ? encodeReply(SM_OP_REGISTER, SM_OK, pair)
        : encodeReply(SM_OP_REGISTER, SM_FULL);
    }
    case "lookup": {
      const pair = registry.lookup(request.senderServiceId, req.name);
      return pair === undefined
        ? encodeReply(SM_OP_LOOKUP, SM_NOT_FOUND)
        : encodeReply(SM_OP_LOOKUP, SM_OK, pair);
    }
    case "error":
      return encodeReply(req.op, req.status);
  }
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  const registry = new Registry();
  // samgrd publishes its own inbox in its own namespace: a name no other caller may look up.
  registry.register(sys.serviceId, SAMGRD_SELF, {
    send: env.slots.inbox,
    recv: env.slots.inbox,
  });
  sys.print("samgrd: ready");
  await serve(sys, env.slots.inbox, (request) => handleSamgrRequest(registry, request));
}

/** The samgrd service module. */
export const samgrd: ServiceModule = { name: "samgrd", requiredSlots: REQUIRED_SLOTS, main };

export default samgrd;
