/**
 * init's side of the conversation with updated: the boot attempt it sends once per boot and the
 * health reports it forwards (HEALTH_OK, then GET_STATUS to name the committed slot).
 *
 * Never waiting on updated: every message carries a one-shot reply cap to init's own endpoint
 * and goes out without blocking; the answer arrives on init's inbox among the routing requests
 * and is matched here to what is pending. So init never blocks on updated, which itself routes
 * through init.
 *
 * @module
 */

import { type FrameHeader, REPLY_BIT } from "../core/kernel/frame.ts";
import { reply } from "../core/kernel/rpc.ts";
import { KernelError, type Message, RIGHT_SEND, type Syscalls } from "../core/kernel/types.ts";
import { encodeHealthReply, IH_FAILED, IH_OK } from "../core/kernel/init_protocol.ts";
import {
  decodeReply as decodeUpdatedReply,
  encodeSimple as encodeUpdatedOp,
  UD_MAGIC,
  UD_OK,
  UD_OP_BOOT_ATTEMPT,
  UD_OP_GET_STATUS,
  UD_OP_HEALTH_OK,
  UpdatedError,
} from "../services/updated/protocol.ts";
import { slotLetter } from "../services/bundlemgrd/protocol.ts";
import { INIT_NAME } from "./manifest.ts";
import { UPDATE_SERVICE } from "./needs.ts";
import type { Wiring } from "./wiring.ts";

/** A health report being forwarded: the request to answer once updated has. */
export interface ForwardedHealth {
  request: Message;
  nonce?: number;
  sender: string;
}

/** A message init sent updated and the reply it waits for on its own endpoint. */
interface PendingUpdate {
  op: number;
  /** The health report being forwarded, when this is part of one. */
  health?: ForwardedHealth;
}

/** Messages to updated and the matching of its answers. */
export class UpdatedLink {
  readonly #sys: Syscalls;
  readonly #wiring: Wiring;
  readonly #pending: PendingUpdate[] = [];

  /** The link of the init task behind `sys`, over the system `wiring` built. */
  constructor(sys: Syscalls, wiring: Wiring) {
    this.#sys = sys;
    this.#wiring = wiring;
  }

  /** True when updated runs and init holds its slot to it. */
  get present(): boolean {
    return this.#slot() !== undefined;
  }

  /** True when `msg` (with header `h`) is updated's answer to one of init's messages. */
  isReply(msg: Message, h: FrameHeader | null): boolean {
    return h?.magic === UD_MAGIC && (h.op & REPLY_BIT) !== 0 &&
      msg.senderPid === this.#wiring.pids.get(UPDATE_SERVICE);
  }

  /** Sends BOOT_ATTEMPT (once per boot, after `init: ready`). */
  async sendBootAttempt(): Promise<void> {
    await this.#send({ op: UD_OP_BOOT_ATTEMPT });
  }

  /** Forwards a health report as HEALTH_OK; false when updated could not be told. */
  forwardHealth(health: ForwardedHealth): Promise<boolean> {
    return this.#send({ op: UD_OP_HEALTH_OK, health });
  }

  /** Handles a reply from updated arriving on init's endpoint. */
  async onReply(msg: Message): Promise<void> {
    const op = msg.data[3] & ~REPLY_BIT;
    const i = this.#pending.findIndex((p) => p.op === op);
    if (i < 0) return;
    const [pending] = this.#pending.splice(i, 1);
    const { status, body } = this.#decode(msg, op);
    if (op === UD_OP_BOOT_ATTEMPT) {
      this.#onBootAttempt(status, body);
      return;
    }
    await this.#onHealthStep(pending.health!, op, status, body);
  }

  /** init's slot on updated, when updated runs. */
  #slot(): number | undefined {
    if (!this.#wiring.pids.has(UPDATE_SERVICE)) return undefined;
    const slot = this.#wiring.slotOf(INIT_NAME, UPDATE_SERVICE);
    return slot !== undefined && this.#sys.capQuery(slot) !== null ? slot : undefined;
  }

  /** Sends `op` to updated with a one-shot reply cap to init's own endpoint; false if not sent. */
  async #send(pending: PendingUpdate): Promise<boolean> {
    const sys = this.#sys;
    const slot = this.#slot();
    if (slot === undefined) return false;
    const oneShot = sys.capDerive(this.#wiring.initEndpoint, RIGHT_SEND, this.#wiring.alloc());
    try {
      await sys.send(slot, encodeUpdatedOp(pending.op), { nonblock: true, moveCap: oneShot });
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      if (sys.capQuery(oneShot) !== null) sys.capClose(oneShot);
      sys.print(`init: message to updated not delivered (${err.code})`);
      return false;
    }
    this.#pending.push(pending);
    return true;
  }

  /** Status and body of updated's reply; status -1 when the reply cannot be read. */
  #decode(msg: Message, op: number): { status: number; body: Uint8Array } {
    try {
      return decodeUpdatedReply(msg.data, op);
    } catch (err) {
      if (!(err instanceof UpdatedError)) throw err;
      return { status: -1, body: new Uint8Array(0) };
    }
  }

  #onBootAttempt(status: number, body: Uint8Array): void {
    if (status === UD_OK && body.length === 1) {
      this.#sys.print(
        body[0] === 0
          ? "init: boot attempt counted"
          : `init: boot attempt rolled back to slot ${slotLetter(body[0])}`,
      );
    } else this.#sys.print(`init: boot attempt refused by updated (status ${status})`);
  }

  /** HEALTH_OK accepted: ask GET_STATUS; GET_STATUS answered: the health is committed. */
  async #onHealthStep(
    health: ForwardedHealth,
    op: number,
    status: number,
    body: Uint8Array,
  ): Promise<void> {
    const sys = this.#sys;
    if (op === UD_OP_HEALTH_OK) {
      if (status === UD_OK && await this.#send({ op: UD_OP_GET_STATUS, health })) return;
      sys.print(`init: health from ${health.sender} refused by updated (status ${status})`);
      await reply(sys, health.request, encodeHealthReply(IH_FAILED, health.nonce));
      return;
    }
    if (op === UD_OP_GET_STATUS && status === UD_OK && body.length === 4) {
      sys.print(`init: health ok (slot ${slotLetter(body[0])})`);
      await reply(sys, health.request, encodeHealthReply(IH_OK, health.nonce));
      return;
    }
    sys.print(`init: health from ${health.sender}: updated status unreadable (status ${status})`);
    await reply(sys, health.request, encodeHealthReply(IH_FAILED, health.nonce));
  }
}
