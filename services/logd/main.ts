/**
 * logd: the audit sink. Holds the last `capacity` records (manifest `[service.config]`, default
 * {@link DEFAULT_CAPACITY}) tagged with the kernel-reported identity of their sender, drops the
 * oldest beyond the bound and counts the drops; QUERY reads them back for tests and diagnostics.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { type Message, RIGHT_RECV, type Syscalls } from "../../core/kernel/types.ts";
import {
  decodeRequest,
  encodeAppendReply,
  encodeQueryReply,
  encodeStatusReply,
} from "./protocol.ts";
import { AuditSink, DEFAULT_CAPACITY, MAX_CAPACITY } from "./sink.ts";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "audit records and queries" },
];

/** Reads the sink bound from the service config; throws RangeError with a readable reason. */
function capacityFromConfig(config: Readonly<Record<string, unknown>>): number {
  const value = config.capacity;
  if (value === undefined) return DEFAULT_CAPACITY;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_CAPACITY) {
    throw new RangeError(`capacity must be an integer in 1..${MAX_CAPACITY}`);
  }
  return value;
}

/** Answers one logd request against `sink` (exported for the service's tests). */
function handleLogRequest(sink: AuditSink, request: Message, now: number): Uint8Array {
  const req = decodeRequest(request.data);
  switch (req.kind) {
    case "append":
      return encodeAppendReply(sink.append(request.senderServiceId, now, req.text));
    case "query":
      return encodeQueryReply(sink.query(req.since, req.limit));
    case "error":
      sink.reject();
      return encodeStatusReply(req.op, req.status);
  }
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  let sink: AuditSink;
  try {
    sink = new AuditSink(capacityFromConfig(env.config));
  } catch (err) {
    sys.print(`logd: FAIL config: ${(err as Error).message}`);
    return;
  }
  sys.print("logd: ready");
  await serve(sys, env.slots.inbox, (request) => handleLogRequest(sink, request, sys.now()));
}

/** The logd service module. */
export const logd: ServiceModule = { name: "logd", requiredSlots: REQUIRED_SLOTS, main };

export default logd;
