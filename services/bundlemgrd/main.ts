/**
 * bundlemgrd: publishes which system slot (a/b) is active and serves the active slot's build
 * properties. Each SET_ACTIVE_SLOT prints `bundlemgrd: slot <a|b> active` once the slot is
 * published.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import { GRANT_BUNDLE_SET_ACTIVE, senderHolds } from "../policyd/protocol.ts";
import {
  BN_DENIED,
  BN_OP_SET_ACTIVE_SLOT,
  decodeRequest,
  encodeFetchImageReply,
  encodeListReply,
  encodeSetActiveReply,
  encodeStatusReply,
  slotLetter,
} from "./protocol.ts";
import { SlotTable } from "./slots.ts";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  {
    name: "inbox",
    kind: "endpoint",
    rights: RIGHT_RECV,
    use: "LIST / FETCH_IMAGE / SET_ACTIVE_SLOT",
  },
  {
    name: "reply",
    kind: "endpoint",
    rights: RIGHT_SEND | RIGHT_RECV,
    use: "reply inbox for grant checks",
  },
  {
    name: "policyd",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "CHECK_CAP bundle.set_active on each SET_ACTIVE_SLOT sender",
    sync: true,
    grants: ["policy.delegate"],
  },
];

/** Answers one bundlemgrd request against `table`; `print` receives the published-slot line. */
function handleBundleRequest(
  table: SlotTable,
  frame: Uint8Array,
  print: (line: string) => void,
): Uint8Array {
  const req = decodeRequest(frame);
  switch (req.kind) {
    case "list":
      return encodeListReply({ active: table.active, slots: table.rows() });
    case "fetch_image":
      return encodeFetchImageReply({
        slot: table.active,
        properties: table.properties(table.active),
      });
    case "set_active":
      table.setActive(req.slot);
      print(`bundlemgrd: slot ${slotLetter(req.slot)} active`);
      return encodeSetActiveReply(table.active);
    case "error":
      return encodeStatusReply(req.op, req.status);
  }
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  let table: SlotTable;
  try {
    table = SlotTable.fromConfig(env.config);
  } catch (err) {
    sys.print(`bundlemgrd: FAIL config: ${(err as Error).message}`);
    return;
  }
  sys.print("bundlemgrd: ready");
  const print = (line: string) => sys.print(line);
  await serve(sys, env.slots.inbox, async (request) => {
    // Only a sender the manifest grants bundle.set_active may change the active slot.
    if (decodeRequest(request.data).kind === "set_active") {
      const sender = request.senderServiceId;
      const granted = await senderHolds(
        sys,
        env.slots.policyd,
        env.slots.reply,
        sender,
        GRANT_BUNDLE_SET_ACTIVE,
      );
      if (!granted) {
        print(
          `bundlemgrd: SET_ACTIVE_SLOT denied sender=0x${sender.toString(16).padStart(16, "0")}`,
        );
        return encodeStatusReply(BN_OP_SET_ACTIVE_SLOT, BN_DENIED);
      }
    }
    return handleBundleRequest(table, request.data, print);
  });
}

/** The bundlemgrd service module. */
export const bundlemgrd: ServiceModule = {
  name: "bundlemgrd",
  requiredSlots: REQUIRED_SLOTS,
  main,
};

export default bundlemgrd;
