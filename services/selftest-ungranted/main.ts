/**
 * selftest-ungranted: a task the manifest gives SEND caps to keystored, updated and (like every
 * task) init, but none of the grants those requests need. On selftest-client's PROBE it sends
 * DEVICE_SIGN, BOOT_ATTEMPT and `IH` HEALTH_OK as itself and answers with the statuses it got,
 * so the selftest proves the refusal of a real ungranted sender (the kernel reports this task's
 * identity; nothing is forged). It prints no verdict itself: selftest-client judges the answers.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { call, serve } from "../../core/kernel/rpc.ts";
import { reportHealth } from "../../core/kernel/init_protocol.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import {
  decodeReply as decodeKsReply,
  encodeRequest as encodeKsRequest,
  KS_OP_DEVICE_SIGN,
} from "../keystored/protocol.ts";
import {
  decodeReply as decodeUdReply,
  encodeSimple,
  UD_OP_BOOT_ATTEMPT,
} from "../updated/protocol.ts";
import { encodeMalformed, encodeProbeReply, isProbe, UG_NO_ANSWER } from "./protocol.ts";

const NAME = "selftest-ungranted";
/** Virtual time one request may wait for its reply. */
const CALL_BUDGET_NS = 2_000_000_000;

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "PROBE requests from the selftest" },
  { name: "reply", kind: "endpoint", rights: RIGHT_SEND | RIGHT_RECV, use: "reply inbox" },
  // No grants on purpose: these requests must be refused.
  { name: "keystored", kind: "endpoint", rights: RIGHT_SEND, use: "DEVICE_SIGN", sync: true },
  { name: "updated", kind: "endpoint", rights: RIGHT_SEND, use: "BOOT_ATTEMPT", sync: true },
];

/** The status byte of one request's reply, or UG_NO_ANSWER when there was none to read. */
async function statusOf(request: () => Promise<number>): Promise<number> {
  try {
    return await request();
  } catch {
    return UG_NO_ANSWER;
  }
}

async function probe(sys: Syscalls, env: ServiceEnv): Promise<Uint8Array> {
  const { keystored, updated, reply } = env.slots;
  const deadline = () => sys.now() + CALL_BUDGET_NS;
  const sign = await statusOf(async () => {
    const frame = encodeKsRequest(KS_OP_DEVICE_SIGN, new TextEncoder().encode("not granted"));
    const msg = await call(sys, keystored, reply, frame, { deadline: deadline() });
    return decodeKsReply(msg.data, KS_OP_DEVICE_SIGN).status;
  });
  const bootAttempt = await statusOf(async () => {
    const frame = encodeSimple(UD_OP_BOOT_ATTEMPT);
    const msg = await call(sys, updated, reply, frame, { deadline: deadline() });
    return decodeUdReply(msg.data, UD_OP_BOOT_ATTEMPT).status;
  });
  const health = await statusOf(() =>
    reportHealth(sys, reply, { nonce: 0x06a70001, deadline: deadline() })
  );
  return encodeProbeReply({ sign, bootAttempt, health });
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  sys.print(`${NAME}: ready`);
  await serve(
    sys,
    env.slots.inbox,
    async (request) => isProbe(request.data) ? await probe(sys, env) : encodeMalformed(),
  );
}

/** The selftest-ungranted service module. */
export const selftestUngranted: ServiceModule = {
  name: NAME,
  requiredSlots: REQUIRED_SLOTS,
  main,
};

export default selftestUngranted;
