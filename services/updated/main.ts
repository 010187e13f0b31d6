/**
 * updated: A/B over-the-air updates. It keeps the bootctl state (bootctl.ts) in statefsd at
 * `/state/boot/bootctl.v1`, stages signed system-sets (their format is in protocol.ts), switches slots through
 * bundlemgrd, takes health confirmations and counts boot attempts (updater.ts).
 *
 * Signatures are checked by keystored (`KS` VERIFY) under the update public key from the
 * manifest config (`update_pubkey`, 64 hex digits): keystored is the one place that does
 * Ed25519 in the system. bundlemgrd is reached through the route init hands out (`RT` ROUTE_GET
 * "bundlemgrd"), asked the first time it is needed and kept; the manifest's `bundlemgrd` slot is
 * declared so the slot check and the validator see it, but its number is only ever taken from
 * init's answer.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import { serve } from "../../core/kernel/rpc.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { KernelError, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import { routeGet, RT_OK, RT_STATUS_NAMES } from "../../core/kernel/init_protocol.ts";
import { bundleSetActiveSlot } from "../bundlemgrd/protocol.ts";
import { fnv1a64 } from "../../core/kernel/fnv.ts";
import {
  GRANT_UPDATE_BOOT_ATTEMPT,
  GRANT_UPDATE_HEALTH,
  senderHolds,
} from "../policyd/protocol.ts";
import {
  BOOTCTL_KEY,
  encodeReply,
  UD_DENIED,
  UD_MAGIC,
  UD_OP_BOOT_ATTEMPT,
  UD_OP_HEALTH_OK,
} from "./protocol.ts";
import { ED25519_PUBLIC_KEY_BYTES, KeystoreClient } from "../keystored/protocol.ts";
import { StatefsClient } from "../statefsd/protocol.ts";
import type { SlotId } from "../bundlemgrd/protocol.ts";
import { Updater, type UpdaterBackend } from "./updater.ts";

/** Name of the config key holding the update public key (hex). */
export const UPDATE_PUBKEY_CONFIG = "update_pubkey";
/** The service updated publishes slots through. */
const BUNDLEMGRD = "bundlemgrd";

const REQUIRED_SLOTS: readonly SlotNeed[] = [
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "update requests" },
  {
    name: "reply",
    kind: "endpoint",
    rights: RIGHT_SEND | RIGHT_RECV,
    use: "reply inbox for calls to statefsd, keystored, init and bundlemgrd",
  },
  { name: "statefsd", kind: "endpoint", rights: RIGHT_SEND, use: "bootctl storage", sync: true },
  {
    name: "keystored",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "system-set signature checks (VERIFY)",
    sync: true,
  },
  {
    name: BUNDLEMGRD,
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "slot publication (number taken from init routing at run time)",
    sync: true,
    grants: ["bundle.set_active"],
  },
  {
    name: "policyd",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "CHECK_CAP update.health / update.boot_attempt on each sender",
    sync: true,
    grants: ["policy.delegate"],
  },
];

/** The grant each guarded op needs from its sender (init, the system's root, is trusted). */
const GUARDED: Readonly<Record<number, string>> = {
  [UD_OP_HEALTH_OK]: GRANT_UPDATE_HEALTH,
  [UD_OP_BOOT_ATTEMPT]: GRANT_UPDATE_BOOT_ATTEMPT,
};
const INIT_ID = fnv1a64("init");

/**
 * The grant `frame` needs from `sender`, or null when it needs none: HEALTH_OK and BOOT_ATTEMPT
 * change the boot state, so only init and the senders the manifest grants may send them.
 */
function grantNeeded(frame: Uint8Array, sender: bigint): string | null {
  if (sender === INIT_ID || frame.length < 4) return null;
  if (frame[0] !== UD_MAGIC.charCodeAt(0) || frame[1] !== UD_MAGIC.charCodeAt(1)) return null;
  return GUARDED[frame[3]] ?? null;
}

/** A configuration updated cannot run with. */
export class UpdatedConfigError extends Error {
  /** Creates an error naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UpdatedConfigError";
  }
}

/** Reads the update public key from `config`; throws {@link UpdatedConfigError}. */
export function updatePublicKey(config: Readonly<Record<string, unknown>>): Uint8Array {
  const value = config[UPDATE_PUBKEY_CONFIG];
  if (typeof value !== "string") {
    throw new UpdatedConfigError(`${UPDATE_PUBKEY_CONFIG} must be a hex string`);
  }
  let key: Uint8Array;
  try {
    key = Uint8Array.fromHex(value);
  } catch {
    throw new UpdatedConfigError(`${UPDATE_PUBKEY_CONFIG} is not hex`);
  }
  if (key.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new UpdatedConfigError(
      `${UPDATE_PUBKEY_CONFIG} must be ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

/** The backend over statefsd, keystored, init routing and bundlemgrd. */
export function ipcBackend(sys: Syscalls, env: ServiceEnv, updateKey: Uint8Array): UpdaterBackend {
  const replySlot = env.slots.reply;
  const store = new StatefsClient(sys, env.slots.statefsd, replySlot);
  const keystore = new KeystoreClient(sys, env.slots.keystored, replySlot);
  let bundlemgrdSlot: number | undefined;
  let nonce = 0;
  const route = async (): Promise<number> => {
    if (bundlemgrdSlot !== undefined) return bundlemgrdSlot;
    nonce = (nonce + 1) >>> 0;
    const answer = await routeGet(sys, replySlot, BUNDLEMGRD, { nonce });
    if (answer.status !== RT_OK) {
      throw new Error(`route to ${BUNDLEMGRD}: ${RT_STATUS_NAMES[answer.status] ?? answer.status}`);
    }
    bundlemgrdSlot = answer.sendSlot;
    return bundlemgrdSlot;
  };
  return {
    load: () => store.tryGet(BOOTCTL_KEY),
    persist: async (record) => {
      await store.put(BOOTCTL_KEY, record);
      await store.sync();
    },
    verify: (message, signature) => keystore.verify(updateKey, signature, message),
    publish: async (slot: SlotId) => {
      const send = await route();
      let active: number;
      try {
        active = await bundleSetActiveSlot(sys, send, replySlot, slot);
      } catch (err) {
        // A route that stopped working is asked for again next time.
        if (err instanceof KernelError) bundlemgrdSlot = undefined;
        throw err;
      }
      if (active !== slot) throw new Error(`bundlemgrd made slot ${active} active, not ${slot}`);
    },
  };
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, REQUIRED_SLOTS)) return;
  let updateKey: Uint8Array;
  try {
    updateKey = updatePublicKey(env.config);
  } catch (err) {
    sys.print(`updated: FAIL config (${(err as Error).message})`);
    return;
  }
  const updater = new Updater(ipcBackend(sys, env, updateKey), (line) => sys.print(line));
  try {
    await updater.load();
  } catch (err) {
    sys.print(`updated: bootctl load FAIL (${(err as Error).message})`);
    return;
  }
  try {
    await updater.publishActive();
  } catch (err) {
    // Reported, not fatal: status queries and staging still work without bundlemgrd.
    sys.print(`updated: publish active slot FAIL (${(err as Error).message})`);
  }
  sys.print("updated: ready");
  // BOOT_ATTEMPT's rollback publication runs after its reply (see updater.ts).
  await serve(sys, env.slots.inbox, async (request) => {
    const sender = request.senderServiceId;
    const grant = grantNeeded(request.data, sender);
    if (grant !== null) {
      if (!await senderHolds(sys, env.slots.policyd, env.slots.reply, sender, grant)) {
        const op = request.data[3];
        sys.print(
          `updated: op ${op} denied sender=0x${
            sender.toString(16).padStart(16, "0")
          } (no ${grant})`,
        );
        return encodeReply(op, UD_DENIED);
      }
    }
    return updater.handle(request.data);
  });
}

/** The updated service module. */
export const updated: ServiceModule = { name: "updated", requiredSlots: REQUIRED_SLOTS, main };

export default updated;
