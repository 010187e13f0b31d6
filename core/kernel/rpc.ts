/**
 * The request/reply idiom every service uses, built only on the syscall surface.
 *
 * A client owns a reply inbox (an endpoint it holds with SEND|RECV). For each call it derives a
 * one-shot SEND-only copy of that inbox and moves it to the server with the request (CAP_MOVE);
 * the server answers on the moved cap and closes it. Because the cap leaves the client only when
 * the request is queued, a refused send never leaks a reply cap.
 *
 * @module
 */

import {
  KernelError,
  type Message,
  type RecvOptions,
  RIGHT_SEND,
  type SendOptions,
  type Syscalls,
} from "./types.ts";

// Shared option records, so that a call or a reply allocates none of its own.
const NO_CALL_OPTIONS: CallOptions = Object.freeze({});
const NO_RECV_OPTIONS: RecvOptions = Object.freeze({});
const NONBLOCK: SendOptions = Object.freeze({ nonblock: true });

/** Options for {@link call}. */
export interface CallOptions {
  /** Absolute virtual time (ns) by which the reply must arrive; TIMED_OUT otherwise. */
  deadline?: number;
  /**
   * Accepts or skips a received reply (e.g. a nonce check); a skipped frame is dropped and the
   * wait goes on. By default the first frame is the reply.
   */
  match?: (reply: Message) => boolean;
}

/**
 * Sends `request` on `sendSlot` with a one-shot reply cap to the inbox in `replySlot`, then waits
 * on the inbox for the reply. Rejects with {@link KernelError} (CLOSED, TIMED_OUT, ...).
 */
export async function call(
  sys: Syscalls,
  sendSlot: number,
  replySlot: number,
  request: Uint8Array,
  opts: CallOptions = NO_CALL_OPTIONS,
): Promise<Message> {
  const oneShot = sys.capDerive(replySlot, RIGHT_SEND);
  try {
    await sys.send(sendSlot, request, { moveCap: oneShot, deadline: opts.deadline });
  } catch (err) {
    // The cap stays with the sender when the message was not queued: do not leak the slot.
    if (sys.capQuery(oneShot) !== null) sys.capClose(oneShot);
    throw err;
  }
  const recvOpts = opts.deadline === undefined ? NO_RECV_OPTIONS : { deadline: opts.deadline };
  for (;;) {
    const reply = await sys.recv(replySlot, recvOpts);
    if (reply.capSlot !== undefined) sys.capClose(reply.capSlot);
    if (!opts.match || opts.match(reply)) return reply;
  }
}

/**
 * A reply together with work that must not hold up the asker: `after` runs once the reply is
 * out (e.g. a call that would otherwise wait on a peer that waits on the asker).
 */
export interface Answer {
  /** The reply frame, or null to send none. */
  reply: Uint8Array | null;
  /** Runs after the reply was sent, before the next request is received. */
  after?: () => Promise<void>;
}

/** Answers a request: the reply frame, null to send none, or an {@link Answer}. */
export type Handler = (
  request: Message,
) => Promise<Uint8Array | null | Answer> | Uint8Array | null | Answer;

/**
 * Answers one received request on the reply cap it carried, then closes that cap. A request
 * without a reply cap, or a reply the client can no longer take (queue full, inbox closed), is
 * dropped: a misbehaving client never blocks or crashes the server.
 */
export async function reply(
  sys: Syscalls,
  request: Message,
  frame: Uint8Array | null,
): Promise<void> {
  const slot = request.capSlot;
  if (slot === undefined) return;
  if (frame !== null) {
    try {
      await sys.send(slot, frame, NONBLOCK);
      // A send on the slot went through, so the cap is there: close it without asking.
      sys.capClose(slot);
      return;
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
    }
  }
  // No reply, or one the kernel refused (the handler may have closed or moved the cap).
  if (sys.capQuery(slot) !== null) sys.capClose(slot);
}

/**
 * Receives requests on `slot` forever (until the endpoint closes), answering each through
 * `handler` and running an {@link Answer}'s `after` work once its reply is out. Returns when the
 * endpoint is closed.
 */
export async function serve(sys: Syscalls, slot: number, handler: Handler): Promise<void> {
  for (;;) {
    let request: Message;
    try {
      request = await sys.recv(slot);
    } catch (err) {
      if (err instanceof KernelError && err.code === "CLOSED") return;
      throw err;
    }
    // Await only a handler that is async: awaiting a plain value still costs a microtask turn.
    const result = handler(request);
    const answer = result instanceof Promise ? await result : result;
    if (answer === null || answer instanceof Uint8Array) {
      await reply(sys, request, answer);
    } else {
      await reply(sys, request, answer.reply);
      if (answer.after) await answer.after();
    }
  }
}
