/**
 * policyd: deny-by-default capability checks keyed on the kernel-reported sender identity, with
 * the manifest's grants (`env.config.grants`). Every decision, refusals of bad frames included,
 * is audited to logd without ever blocking on it (see {@link Auditor}).
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { KernelError, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import { encodeAppend } from "../logd/protocol.ts";
import { parseGrants, Policy } from "./policy.ts";
import { decodeRequest, encodeReply } from "./protocol.ts";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  {
    name: "inbox",
    kind: "endpoint",
    rights: RIGHT_RECV,
    use: "CHECK / CHECK_CAP / ROUTE requests",
  },
  { name: "logd", kind: "endpoint", rights: RIGHT_SEND, use: "audit records (nonblocking)" },
];

/** Audit records policyd keeps while logd's queue is full, before it drops the oldest. */
export const AUDIT_BACKLOG = 64;

/**
 * Delivers audit records to logd with nonblocking sends only. When logd's queue is full the
 * record waits in a bounded backlog and goes out ahead of the next one; beyond the bound the
 * oldest is lost, and the loss itself is reported to logd (`audit-lost count=<n>`) as soon as
 * a send gets through.
 */
export class Auditor {
  #backlog: string[] = [];
  #lost = 0;

  /** Creates an auditor sending on `logdSlot`. */
  constructor(private readonly sys: Syscalls, private readonly logdSlot: number) {}

  /** Records waiting for room in logd's queue. */
  get pending(): number {
    return this.#backlog.length;
  }
  /** Records dropped and not yet reported. */
  get lost(): number {
    return this.#lost;
  }

  /** Queues `text`, sends as much of the backlog as logd takes now, then trims the rest. */
  async record(text: string): Promise<void> {
    this.#backlog.push(text);
    await this.flush();
    while (this.#backlog.length > AUDIT_BACKLOG) {
      this.#backlog.shift();
      this.#lost++;
    }
  }

  /** Sends the loss note and the backlog, in order, until logd's queue is full. */
  async flush(): Promise<void> {
    if (this.#lost > 0) {
      if (!await this.#send(`audit-lost count=${this.#lost}`)) return;
      this.#lost = 0;
    }
    while (this.#backlog.length > 0) {
      if (!await this.#send(this.#backlog[0])) return;
      this.#backlog.shift();
    }
  }

  async #send(text: string): Promise<boolean> {
    try {
      await this.sys.send(this.logdSlot, encodeAppend(text), { nonblock: true });
      return true;
    } catch (err) {
      if (err instanceof KernelError) return false;
      throw err;
    }
  }
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  let policy: Policy;
  try {
    policy = new Policy(parseGrants(env.config.grants));
  } catch (err) {
    sys.print(`policyd: FAIL config: ${(err as Error).message}`);
    return;
  }
  const auditor = new Auditor(sys, env.slots.logd);
  sys.print("policyd: ready");
  await serve(sys, env.slots.inbox, async (request) => {
    const decision = policy.decide(request.senderServiceId, decodeRequest(request.data));
    await auditor.record(policy.auditText(request.senderServiceId, decision));
    return encodeReply(decision.op, decision.status);
  });
}

/** The policyd service module. */
export const policyd: ServiceModule = { name: "policyd", requiredSlots: REQUIRED_SLOTS, main };

export default policyd;
