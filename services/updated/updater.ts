/**
 * updated's request handling over an abstract backend: the bootctl state machine (bootctl.ts),
 * system-set verification (protocol.ts), persistence after every successful transition, and
 * publication of the active slot to bundlemgrd. main.ts binds the backend to statefsd, keystored,
 * init routing and bundlemgrd.
 *
 * Ordering rules:
 * - a transition is persisted (put, then sync) before it is acknowledged; when persisting fails
 *   the state in memory stays as it was and the request answers FAILED (store);
 * - SWITCH persists the new state, then asks bundlemgrd to publish the new slot; when bundlemgrd
 *   cannot be reached or refuses, the previous state is persisted back and SWITCH answers FAILED
 *   (bundlemgr), so the record never names a slot bundlemgrd did not accept;
 * - BOOT_ATTEMPT answers first and tells bundlemgrd about a rollback afterwards, because init
 *   sends it and blocks on the answer: routing to bundlemgrd goes through init, which must be
 *   free to answer.
 *
 * @module
 */

import { type SlotId, slotLetter } from "../bundlemgrd/protocol.ts";
import { bootAttempt, factoryBootCtl, healthOk, stage, switchTo } from "./bootctl.ts";
import {
  type BootCtl,
  BootCtlError,
  decodeBootCtl,
  decodeRequest,
  encodeBootCtl,
  encodeFailed,
  encodeReply,
  encodeStatusBody,
  type SignatureVerifier,
  SystemSetError,
  UD_OK,
  UD_OP_BOOT_ATTEMPT,
  UD_OP_GET_STATUS,
  UD_OP_HEALTH_OK,
  UD_OP_STAGE,
  UD_OP_SWITCH,
  UD_REASON_BUNDLEMGR,
  UD_REASON_DIGEST,
  UD_REASON_FORMAT,
  UD_REASON_NOTHING_STAGED,
  UD_REASON_SIGNATURE,
  UD_REASON_STORE,
  UD_REASON_SWITCH_PENDING,
  UD_REASON_VERIFIER,
  verifySystemSet,
} from "./protocol.ts";

/** What updated needs from the rest of the system. */
export interface UpdaterBackend {
  /** Reads the bootctl record, or null when none is stored. */
  load(): Promise<Uint8Array | null>;
  /** Stores the bootctl record durably (put, then sync). */
  persist(record: Uint8Array): Promise<void>;
  /** Checks a system-set index signature under the update key. */
  verify: SignatureVerifier;
  /** Asks bundlemgrd to publish `slot` as the active slot. */
  publish(slot: SlotId): Promise<void>;
}

/** How loading the bootctl record went. */
export type LoadOutcome = "ok" | "miss" | "invalid";

/** A failure of a backend call, with the reason updated answers. */
class BackendFailure extends Error {
  constructor(readonly reason: number, message: string) {
    super(message);
  }
}

/** Work to run after a reply went out. */
export type Deferred = () => Promise<void>;

/** A handled request: the reply frame and, possibly, work to run once it is sent. */
export interface Handled {
  reply: Uint8Array;
  after?: Deferred;
}

const REASON_OF_CODE: Record<string, number> = {
  format: UD_REASON_FORMAT,
  signature: UD_REASON_SIGNATURE,
  digest: UD_REASON_DIGEST,
};

/** The updated state machine bound to a backend. */
export class Updater {
  #state: BootCtl = factoryBootCtl();

  /** An updater over `backend`, printing through `print`. */
  constructor(readonly backend: UpdaterBackend, readonly print: (line: string) => void) {}

  /** The current state (a copy). */
  get state(): BootCtl {
    return { ...this.#state };
  }

  /**
   * Loads the record at start and prints `updated: bootctl load ok|miss` (or `invalid`, keeping
   * the factory state without overwriting the damaged record until the next transition). A store
   * failure propagates: updated cannot serve without knowing its state.
   */
  async load(): Promise<LoadOutcome> {
    const bytes = await this.backend.load();
    if (bytes === null) {
      this.print("updated: bootctl load miss");
      return "miss";
    }
    try {
      this.#state = decodeBootCtl(bytes);
    } catch (err) {
      if (!(err instanceof BootCtlError)) throw err;
      this.print(`updated: bootctl load invalid (${err.message})`);
      return "invalid";
    }
    const s = this.#state;
    this.print(
      `updated: bootctl load ok (active ${slotLetter(s.active)}, pending ${
        s.pending === null ? "none" : slotLetter(s.pending)
      }, tries ${s.triesLeft})`,
    );
    return "ok";
  }

  /**
   * Tells bundlemgrd which slot is active as loaded, so the published slot agrees with bootctl
   * from the start of every boot (a kept image may have booted into slot b).
   */
  async publishActive(): Promise<void> {
    await this.#publish(this.#state.active);
  }

  async #persist(next: BootCtl): Promise<void> {
    try {
      await this.backend.persist(encodeBootCtl(next));
    } catch (err) {
      throw new BackendFailure(UD_REASON_STORE, `persist: ${(err as Error).message}`);
    }
  }

  async #publish(slot: SlotId): Promise<void> {
    try {
      await this.backend.publish(slot);
    } catch (err) {
      throw new BackendFailure(UD_REASON_BUNDLEMGR, `bundlemgrd: ${(err as Error).message}`);
    }
  }

  async #stage(set: Uint8Array): Promise<Uint8Array> {
    if (this.#state.pending !== null) {
      return encodeFailed(UD_OP_STAGE, UD_REASON_SWITCH_PENDING);
    }
    let label: string;
    try {
      label = (await verifySystemSet(set, this.#guardedVerify)).label;
    } catch (err) {
      if (err instanceof SystemSetError) {
        this.print(`updated: stage rejected (${err.code})`);
        return encodeFailed(UD_OP_STAGE, REASON_OF_CODE[err.code]);
      }
      throw err;
    }
    const next = stage(this.#state);
    await this.#persist(next);
    this.#state = next;
    const slot = next.staged as SlotId;
    this.print(`updated: staged ${label} into slot ${slotLetter(slot)}`);
    return encodeReply(UD_OP_STAGE, UD_OK, Uint8Array.of(slot));
  }

  #guardedVerify: SignatureVerifier = async (message, signature) => {
    try {
      return await this.backend.verify(message, signature);
    } catch (err) {
      throw new BackendFailure(UD_REASON_VERIFIER, `verify: ${(err as Error).message}`);
    }
  };

  async #switch(tries: number): Promise<Uint8Array> {
    let next: BootCtl;
    try {
      next = switchTo(this.#state, tries);
    } catch (err) {
      if (!(err instanceof BootCtlError)) throw err;
      const reason = err.code === "NOTHING_STAGED"
        ? UD_REASON_NOTHING_STAGED
        : UD_REASON_SWITCH_PENDING;
      return encodeFailed(UD_OP_SWITCH, reason);
    }
    const previous = this.#state;
    await this.#persist(next);
    try {
      await this.#publish(next.active);
    } catch (err) {
      // Put the record back so it never names a slot bundlemgrd did not take.
      await this.#persist(previous);
      throw err;
    }
    this.#state = next;
    this.print(`updated: switched to slot ${slotLetter(next.active)} (tries ${tries})`);
    return encodeReply(UD_OP_SWITCH, UD_OK, Uint8Array.of(next.active));
  }

  async #healthOk(): Promise<Uint8Array> {
    const next = healthOk(this.#state);
    await this.#persist(next);
    const committed = this.#state.pending !== null;
    this.#state = next;
    if (committed) this.print(`updated: slot ${slotLetter(next.active)} committed`);
    return encodeReply(UD_OP_HEALTH_OK, UD_OK);
  }

  async #bootAttempt(): Promise<Handled> {
    const r = bootAttempt(this.#state);
    if (r.changed) await this.#persist(r.state);
    this.#state = r.state;
    const back = r.rolledBackTo;
    if (back === null) {
      return { reply: encodeReply(UD_OP_BOOT_ATTEMPT, UD_OK, Uint8Array.of(0)) };
    }
    this.print(`updated: rollback to slot ${slotLetter(back)}`);
    return {
      reply: encodeReply(UD_OP_BOOT_ATTEMPT, UD_OK, Uint8Array.of(back)),
      after: async () => {
        try {
          await this.#publish(back);
        } catch (err) {
          this.print(`updated: rollback publish error (${(err as Error).message})`);
        }
      },
    };
  }

  /** Answers one request frame. */
  async handle(frame: Uint8Array): Promise<Handled> {
    const req = decodeRequest(frame);
    const op = frame.length >= 4 ? frame[3] : 0;
    try {
      switch (req.kind) {
        case "error":
          return { reply: encodeReply(req.op, req.status) };
        case "stage":
          return { reply: await this.#stage(req.set) };
        case "switch":
          return { reply: await this.#switch(req.tries) };
        case "health-ok":
          return { reply: await this.#healthOk() };
        case "status": {
          const s = this.#state;
          const body = encodeStatusBody({
            active: s.active,
            pending: s.pending ?? 0,
            triesLeft: s.triesLeft,
            healthOk: s.healthOk,
          });
          return { reply: encodeReply(UD_OP_GET_STATUS, UD_OK, body) };
        }
        case "boot-attempt":
          return await this.#bootAttempt();
      }
    } catch (err) {
      if (err instanceof BackendFailure) {
        this.print(`updated: request failed (${err.message})`);
        return { reply: encodeFailed(op, err.reason) };
      }
      throw err;
    }
  }
}
