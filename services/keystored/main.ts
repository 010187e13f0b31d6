/**
 * keystored: the device identity key (FORMATS.md, "Device key"). The 32-byte Ed25519 seed lives
 * in statefsd at {@link DEVICE_KEY_PATH}; keystored generates it once from rngd entropy, persists
 * it (put, then sync) before acknowledging, re-reads it on demand, signs with it, hands out the
 * public key and never the private one. It also verifies Ed25519 signatures for other services
 * (updated's system-sets).
 *
 * The seed is cached after the first read; DEVICE_RELOAD and DEVICE_KEYGEN always go back to
 * statefsd, so a key written by an earlier boot (or lost with a wiped disk) is what they see.
 *
 * @module
 */

import { KernelError, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { RngdError, rngGet } from "../rngd/protocol.ts";
import { GRANT_KEYSTORE_SIGN, senderHolds } from "../policyd/protocol.ts";
import { StatefsClient, StatefsdError } from "../statefsd/protocol.ts";
import {
  decodeRequest,
  ED25519_SEED_BYTES,
  ed25519Verify,
  encodeReply,
  importSigningKey,
  KS_DENY,
  KS_IO_ERROR,
  KS_KEY_EXISTS,
  KS_KEY_NOT_FOUND,
  KS_OK,
  KS_OP_DEVICE_KEYGEN,
  KS_OP_DEVICE_RELOAD,
  KS_OP_DEVICE_SIGN,
  KS_OP_GET_DEVICE_PRIVKEY,
  KS_OP_GET_DEVICE_PUBKEY,
  KS_OP_VERIFY,
  KS_PRIVATE_EXPORT_DENIED,
  publicKeyOf,
} from "./protocol.ts";

/** Where the device key's seed is stored. */
export const DEVICE_KEY_PATH = "/state/keystore/device.signing";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "keystore requests" },
  {
    name: "reply",
    kind: "endpoint",
    rights: RIGHT_SEND | RIGHT_RECV,
    use: "reply inbox for calls to statefsd and rngd",
  },
  {
    name: "statefsd",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "device key storage",
    sync: true,
  },
  { name: "rngd", kind: "endpoint", rights: RIGHT_SEND, use: "key generation entropy", sync: true },
  {
    name: "policyd",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "CHECK_CAP keystore.sign on each DEVICE_SIGN sender",
    sync: true,
    grants: ["policy.delegate"],
  },
];

/** The loaded device key. */
interface DeviceKey {
  key: CryptoKey;
  publicKey: Uint8Array;
}

/** A failure talking to statefsd or rngd, or a damaged stored seed. */
class StoreFailure extends Error {}

/** What keystored needs from the rest of the system: the seed store and entropy. */
export interface KeystoreBackend {
  /** Reads the stored seed, or null when none is stored. */
  load(): Promise<Uint8Array | null>;
  /** Stores the seed durably (put, then sync). */
  persist(seed: Uint8Array): Promise<void>;
  /** Returns `len` bytes of entropy. */
  entropy(len: number): Promise<Uint8Array>;
}

/** The request handler, separate from the IPC loop so its state machine is easy to follow. */
export class Keystore {
  #cached: DeviceKey | null | undefined;

  /** A keystore over `backend`; prints through `print`. */
  constructor(readonly backend: KeystoreBackend, readonly print: (line: string) => void) {}

  async #read(): Promise<DeviceKey | null> {
    let seed: Uint8Array | null;
    try {
      seed = await this.backend.load();
    } catch (err) {
      throw new StoreFailure(`load: ${(err as Error).message}`);
    }
    if (seed === null) return null;
    if (seed.length !== ED25519_SEED_BYTES) {
      throw new StoreFailure(`stored seed is ${seed.length} bytes, expected ${ED25519_SEED_BYTES}`);
    }
    const key = await importSigningKey(seed);
    return { key, publicKey: await publicKeyOf(key) };
  }

  async #current(): Promise<DeviceKey | null> {
    if (this.#cached === undefined) this.#cached = await this.#read();
    return this.#cached;
  }

  async #keygen(): Promise<Uint8Array> {
    // Idempotent: the store, not the cache, decides whether a key exists.
    const existing = await this.#read();
    if (existing !== null) {
      this.#cached = existing;
      return encodeReply(KS_OP_DEVICE_KEYGEN, KS_KEY_EXISTS, existing.publicKey);
    }
    let seed: Uint8Array;
    try {
      seed = await this.backend.entropy(ED25519_SEED_BYTES);
    } catch (err) {
      throw new StoreFailure(`entropy: ${(err as Error).message}`);
    }
    try {
      await this.backend.persist(seed);
    } catch (err) {
      throw new StoreFailure(`persist: ${(err as Error).message}`);
    }
    const key = await importSigningKey(seed);
    this.#cached = { key, publicKey: await publicKeyOf(key) };
    this.print("keystored: device key generated");
    return encodeReply(KS_OP_DEVICE_KEYGEN, KS_OK, this.#cached.publicKey);
  }

  /** Answers one request frame. */
  async handle(frame: Uint8Array): Promise<Uint8Array> {
    const req = decodeRequest(frame);
    const op = frame.length >= 4 ? frame[3] : 0;
    try {
      switch (req.kind) {
        case "error":
          return encodeReply(req.op, req.status);
        case "privkey":
          return encodeReply(KS_OP_GET_DEVICE_PRIVKEY, KS_PRIVATE_EXPORT_DENIED);
        case "verify": {
          const ok = await ed25519Verify(req.publicKey, req.signature, req.message);
          return encodeReply(KS_OP_VERIFY, KS_OK, Uint8Array.of(ok ? 1 : 0));
        }
        case "keygen":
          return await this.#keygen();
        case "reload": {
          this.#cached = await this.#read();
          if (this.#cached === null) return encodeReply(KS_OP_DEVICE_RELOAD, KS_KEY_NOT_FOUND);
          return encodeReply(KS_OP_DEVICE_RELOAD, KS_OK, this.#cached.publicKey);
        }
        case "pubkey": {
          const k = await this.#current();
          if (k === null) return encodeReply(KS_OP_GET_DEVICE_PUBKEY, KS_KEY_NOT_FOUND);
          return encodeReply(KS_OP_GET_DEVICE_PUBKEY, KS_OK, k.publicKey);
        }
        case "sign": {
          const k = await this.#current();
          if (k === null) return encodeReply(KS_OP_DEVICE_SIGN, KS_KEY_NOT_FOUND);
          const sig = new Uint8Array(
            await crypto.subtle.sign("Ed25519", k.key, new Uint8Array(req.message)),
          );
          return encodeReply(KS_OP_DEVICE_SIGN, KS_OK, sig);
        }
      }
    } catch (err) {
      if (err instanceof StoreFailure) {
        this.print(`keystored: store error (${err.message})`);
        return encodeReply(op, KS_IO_ERROR);
      }
      throw err;
    }
  }
}

/** The backend over statefsd and rngd, through the slots in `env`. */
export function ipcBackend(sys: Syscalls, env: ServiceEnv): KeystoreBackend {
  const store = new StatefsClient(sys, env.slots.statefsd, env.slots.reply);
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (
        err instanceof StatefsdError || err instanceof RngdError || err instanceof KernelError
      ) {
        throw new StoreFailure(err.message);
      }
      throw err;
    }
  };
  return {
    load: () => wrap(() => store.tryGet(DEVICE_KEY_PATH)),
    persist: (seed) =>
      wrap(async () => {
        await store.put(DEVICE_KEY_PATH, seed);
        await store.sync();
      }),
    entropy: (len) => wrap(() => rngGet(sys, env.slots.rngd, env.slots.reply, len)),
  };
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  const keystore = new Keystore(ipcBackend(sys, env), (line) => sys.print(line));
  sys.print("keystored: ready");
  await serve(sys, env.slots.inbox, async (request) => {
    // The device key signs only for a sender the manifest grants keystore.sign.
    const frame = request.data;
    if (frame.length >= 4 && frame[3] === KS_OP_DEVICE_SIGN) {
      const sender = request.senderServiceId;
      const granted = await senderHolds(
        sys,
        env.slots.policyd,
        env.slots.reply,
        sender,
        GRANT_KEYSTORE_SIGN,
      );
      if (!granted) {
        sys.print(
          `keystored: DEVICE_SIGN denied sender=0x${sender.toString(16).padStart(16, "0")}`,
        );
        return encodeReply(KS_OP_DEVICE_SIGN, KS_DENY);
      }
    }
    return keystore.handle(frame);
  });
}

/** The keystored service module. */
export const keystored: ServiceModule = {
  name: "keystored",
  requiredSlots: REQUIRED_SLOTS,
  main,
};

export default keystored;
