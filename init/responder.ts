/**
 * init's responder: once the system is wired, init serves its endpoint. A routing request
 * (ROUTE_GET "which slots reach X?") is answered from the sender's declared slots after the
 * policy allows the route; a health report (HEALTH_OK) is accepted only from a sender the
 * manifest grants `init.health` and is forwarded to updated; updated's answers to init are
 * handed to the {@link UpdatedLink}. Malformed frames get MALFORMED (routing) or FAILED (health)
 * and never stop the loop.
 *
 * Never waiting on a caller: the route check asks policyd with a deadline (policyd never calls
 * init), and a late answer to an earlier, timed-out check is drained before the next one.
 *
 * @module
 */

import { fnv1a64 } from "../core/kernel/fnv.ts";
import { readHeader } from "../core/kernel/frame.ts";
import { reply } from "../core/kernel/rpc.ts";
import { KernelError, type Message, RIGHT_SEND, type Syscalls } from "../core/kernel/types.ts";
import {
  decodeReply as decodePolicyReply,
  encodeRoute,
  GRANT_INIT_HEALTH,
  PO_ALLOW,
} from "../services/policyd/protocol.ts";
import {
  decodeHealthOk,
  decodeRouteGet,
  encodeHealthReply,
  encodeRouteReply,
  IH_DENIED,
  IH_FAILED,
  IH_MAGIC,
  IH_OK,
  REPLY_ROUTE_NAME,
  RT_DENIED,
  RT_MALFORMED,
  RT_NOT_FOUND,
  RT_OK,
} from "../core/kernel/init_protocol.ts";
import { findService, INIT_NAME, type ServiceDecl, type SystemManifest } from "./manifest.ts";
import { POLICY_SERVICE, UPDATE_SERVICE } from "./needs.ts";
import type { UpdatedLink } from "./updated_link.ts";
import type { Wiring } from "./wiring.ts";

/** How long init waits for policyd's answer to a route check (10 ms virtual). */
export const POLICY_TIMEOUT_NS = 10_000_000;

/** Answers the requests arriving on init's endpoint. */
export class Responder {
  readonly #sys: Syscalls;
  readonly #m: SystemManifest;
  readonly #wiring: Wiring;
  readonly #updated: UpdatedLink;
  readonly #policyTimeoutNs: number;

  /** The responder of the init task behind `sys`. */
  constructor(
    sys: Syscalls,
    manifest: SystemManifest,
    wiring: Wiring,
    updated: UpdatedLink,
    policyTimeoutNs = POLICY_TIMEOUT_NS,
  ) {
    this.#sys = sys;
    this.#m = manifest;
    this.#wiring = wiring;
    this.#updated = updated;
    this.#policyTimeoutNs = policyTimeoutNs;
  }

  /** Handles one message received on init's inbox. */
  async handle(msg: Message): Promise<void> {
    const h = readHeader(msg.data);
    if (this.#updated.isReply(msg, h)) {
      if (msg.capSlot !== undefined) this.#sys.capClose(msg.capSlot);
      await this.#updated.onReply(msg);
      return;
    }
    const sender = this.#wiring.byPid.get(msg.senderPid);
    if (h?.magic === IH_MAGIC) {
      await this.#health(msg, sender);
      return;
    }
    const req = decodeRouteGet(msg.data);
    if (req.kind === "malformed") {
      await reply(this.#sys, msg, encodeRouteReply(RT_MALFORMED, 0, 0));
      return;
    }
    await reply(this.#sys, msg, await this.#route(sender, req.name, req.nonce));
  }

  /** HEALTH_OK: only a sender granted `init.health` may commit a boot, through updated. */
  async #health(msg: Message, sender: ServiceDecl | undefined): Promise<void> {
    const sys = this.#sys;
    const req = decodeHealthOk(msg.data);
    if (req.kind === "malformed" || sender === undefined) {
      await reply(
        sys,
        msg,
        encodeHealthReply(IH_FAILED, req.kind === "health" ? req.nonce : undefined),
      );
      return;
    }
    // Every task holds slot 1 to init: only a sender the manifest grants init.health may
    // commit a boot.
    if (
      !this.#m.grants.some((g) => g.subject === sender.name && g.caps.includes(GRANT_INIT_HEALTH))
    ) {
      sys.print(`init: health from ${sender.name} denied (no "${GRANT_INIT_HEALTH}" grant)`);
      await reply(sys, msg, encodeHealthReply(IH_DENIED, req.nonce));
      return;
    }
    if (!this.#updated.present) {
      sys.print(`init: health ok (no ${UPDATE_SERVICE})`);
      await reply(sys, msg, encodeHealthReply(IH_OK, req.nonce));
      return;
    }
    // The requester's reply cap stays in init's table until updated has answered.
    const health = { request: msg, nonce: req.nonce, sender: sender.name };
    if (!await this.#updated.forwardHealth(health)) {
      await reply(sys, msg, encodeHealthReply(IH_FAILED, req.nonce));
    }
  }

  /** Answers ROUTE_GET `name` for `sender` from the manifest, after the policy check. */
  async #route(sender: ServiceDecl | undefined, name: string, nonce?: number): Promise<Uint8Array> {
    const answer = (status: number, send = 0, recv = 0) =>
      encodeRouteReply(status, send, recv, nonce);
    if (sender === undefined) return answer(RT_NOT_FOUND);
    const replySlot = sender.slots.find((s) => s.name === "reply" && s.target.kind === "endpoint");
    if (name === REPLY_ROUTE_NAME) {
      return replySlot ? answer(RT_OK, replySlot.slot, replySlot.slot) : answer(RT_NOT_FOUND);
    }
    const route = sender.slots.find((s) =>
      s.target.kind === "endpoint" && s.target.endpoint === name && (s.rights & RIGHT_SEND) !== 0
    );
    if (!route) return answer(RT_NOT_FOUND);
    if (!await this.#allowed(sender.name, name)) return answer(RT_DENIED);
    return answer(RT_OK, route.slot, replySlot?.slot ?? 0);
  }

  /** Asks policyd (or, in a system without policyd, the manifest's grants) about a route. */
  async #allowed(subject: string, target: string): Promise<boolean> {
    if (!findService(this.#m, POLICY_SERVICE)) {
      return this.#m.grants.some((g) =>
        g.subject === subject && g.caps.includes(`route:${target}`)
      );
    }
    const policyd = this.#wiring.slotOf(INIT_NAME, POLICY_SERVICE);
    const replySlot = this.#wiring.slotOf(INIT_NAME, "reply");
    if (policyd === undefined || replySlot === undefined) return false;
    await this.#drainStale(replySlot);
    return await this.#askPolicyd(policyd, replySlot, subject, target);
  }

  /** A late answer to an earlier, timed-out check must not be taken for this one. */
  async #drainStale(replySlot: number): Promise<void> {
    const sys = this.#sys;
    for (;;) {
      try {
        const stale = await sys.recv(replySlot, { nonblock: true });
        if (stale.capSlot !== undefined) sys.capClose(stale.capSlot);
      } catch (err) {
        if (err instanceof KernelError) return;
        throw err;
      }
    }
  }

  /** ROUTE to policyd with a one-shot reply cap, waiting at most the policy timeout. */
  async #askPolicyd(
    policyd: number,
    replySlot: number,
    subject: string,
    target: string,
  ): Promise<boolean> {
    const sys = this.#sys;
    const oneShot = sys.capDerive(replySlot, RIGHT_SEND, this.#wiring.alloc());
    const deadline = sys.now() + this.#policyTimeoutNs;
    let sent = false;
    try {
      await sys.send(policyd, encodeRoute(fnv1a64(subject), target), {
        moveCap: oneShot,
        deadline,
      });
      sent = true;
      for (;;) {
        const answer = await sys.recv(replySlot, { deadline });
        if (answer.capSlot !== undefined) sys.capClose(answer.capSlot);
        const decoded = decodePolicyReply(answer.data);
        if (decoded === null) continue;
        return decoded.status === PO_ALLOW;
      }
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      // The reply cap stays with init only when the request was never queued.
      if (!sent && sys.capQuery(oneShot) !== null) sys.capClose(oneShot);
      sys.print(
        `init: route check ${subject} -> ${target} got no answer from policyd (${err.code}): denied`,
      );
      return false;
    }
  }
}
