import { assert, assertEquals, assertNotEquals } from "../../tests/assert.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";
import type { MemoryStore } from "../../core/virtio/store.ts";
import { logd } from "../logd/main.ts";
import { rngd } from "../rngd/main.ts";
import { statefsd } from "../statefsd/main.ts";
import {
  decodeRequest as decodeSfRequest,
  encodeGet,
  encodeStatusReply as encodeSfStatusReply,
  SF_IO_ERROR,
  StatefsClient,
} from "../statefsd/protocol.ts";
import { diskOptions, fakePolicyd, makeDisk } from "../testing/statefs.ts";
import { bootServices, type FakePeer, type RigResult } from "../testing/rig.ts";
import { DEVICE_KEY_PATH, Keystore, keystored } from "./main.ts";
import {
  decodeReply,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  encodeRequest,
  encodeVerify,
  KeystoreClient,
  KeystoredError,
  KS_DENY,
  KS_IO_ERROR,
  KS_KEY_NOT_FOUND,
  KS_MALFORMED,
  KS_OK,
  KS_OP_DEVICE_KEYGEN,
  KS_OP_DEVICE_RELOAD,
  KS_OP_GET_DEVICE_PUBKEY,
  KS_OP_VERIFY,
  KS_PRIVATE_EXPORT_DENIED,
  KS_UNSUPPORTED,
} from "./protocol.ts";

const GRANTS: Record<string, string[]> = {
  client: ["statefs.read", "statefs.write", "keystore.sign"],
};

type Body = (
  sys: Syscalls,
  ks: KeystoreClient,
  slots: Readonly<Record<string, number>>,
) => Promise<void>;

function boot(
  body: Body,
  opts: {
    store?: MemoryStore;
    seed?: number;
    statefs?: FakePeer;
    grants?: Record<string, string[]>;
  } = {},
): Promise<RigResult> {
  const store = opts.store ?? makeDisk();
  return bootServices({
    services: [
      ...(opts.statefs
        ? [fakePolicyd(opts.grants ?? GRANTS), opts.statefs]
        : [{ module: logd }, fakePolicyd(opts.grants ?? GRANTS), { module: statefsd }]),
      { module: rngd },
      { module: keystored },
    ],
    clients: [{
      name: "client",
      body: (sys, slots) => body(sys, new KeystoreClient(sys, slots.keystored, slots.reply), slots),
    }],
    seed: opts.seed,
    ...diskOptions(store),
  });
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (err) {
    if (err instanceof KeystoredError) return err.status;
    throw err;
  }
}

Deno.test("keystored: keygen is persisted, idempotent, and survives a restart", async () => {
  const store = makeDisk();
  let pub: Uint8Array = new Uint8Array(0);
  const first = await boot(async (_sys, ks) => {
    assertEquals(await statusOf(ks.publicKey()), KS_KEY_NOT_FOUND);
    assertEquals(await statusOf(ks.sign(Uint8Array.of(1))), KS_KEY_NOT_FOUND);
    assertEquals(await statusOf(ks.reload()), KS_KEY_NOT_FOUND);
    const made = await ks.keygen();
    assert(made.created);
    pub = made.publicKey;
    assertEquals(pub.length, 32);
    const again = await ks.keygen();
    assertEquals(again, { created: false, publicKey: pub });
    assertEquals(await ks.publicKey(), pub);
    assertEquals(await ks.reload(), pub);
  }, { store });
  assertEquals(first.lines.filter((l) => l === "keystored: device key generated").length, 1);
  assert(first.lines.includes("keystored: ready"));
  assert(first.lines.includes("slot-check: keystored all 5 slots ok"));
  // A restart on the same disk under another seed (other entropy) finds the key: KEYGEN first,
  // before anything else could have loaded it, answers the stored key without making one.
  const second = await boot(async (_sys, ks) => {
    assertEquals(await ks.keygen(), { created: false, publicKey: pub });
    assertEquals(await ks.publicKey(), pub);
  }, { store, seed: 99 });
  assert(!second.lines.includes("keystored: device key generated"));
});

Deno.test("keystored: the stored seed is the key, and only keystored can read it", async () => {
  const store = makeDisk();
  await boot(async (sys, ks, slots) => {
    const { publicKey } = await ks.keygen();
    const sf = new StatefsClient(sys, slots.statefsd, slots.reply);
    // The client holds statefs.read, yet the keystore prefix is keystored's alone.
    const reply = (await call(sys, slots.statefsd, slots.reply, encodeGet(DEVICE_KEY_PATH))).data;
    assertEquals(reply[4], 2 /* ACCESS_DENIED */);
    assertEquals(await sf.list("/state/"), []);
    // The seed on disk derives the public key keystored hands out.
    const sig = await ks.sign(new TextEncoder().encode("hello"));
    assert(await ed25519Verify(publicKey, sig, new TextEncoder().encode("hello")));
  }, { store });
  // Find the seed in the journal on the disk: the Put record of DEVICE_KEY_PATH.
  const key = new TextEncoder().encode(DEVICE_KEY_PATH);
  const bytes = store.bytes;
  let at = -1;
  for (let i = 0; i < bytes.length - key.length && at < 0; i += 1) {
    if (bytes[i] === key[0] && key.every((b, j) => bytes[i + j] === b)) at = i;
  }
  assert(at > 0, "device key record not on disk");
  const seed = bytes.slice(at + key.length, at + key.length + 32);
  await boot(async (_sys, ks) => {
    assertEquals(await ks.publicKey(), await ed25519PublicKey(seed));
    const msg = Uint8Array.of(9, 8, 7);
    assertEquals(await ks.sign(msg), await ed25519Sign(seed, msg));
  }, { store });
});

Deno.test("keystored: private export is always refused", async () => {
  await boot(async (sys, ks, slots) => {
    assertEquals(await ks.requestPrivateKey(), KS_PRIVATE_EXPORT_DENIED);
    await ks.keygen();
    assertEquals(await ks.requestPrivateKey(), KS_PRIVATE_EXPORT_DENIED);
    const withBody = await call(
      sys,
      slots.keystored,
      slots.reply,
      encodeRequest(13, Uint8Array.of(1)),
    );
    assertEquals(decodeReply(withBody.data, 13), {
      status: KS_PRIVATE_EXPORT_DENIED,
      body: new Uint8Array(0),
    });
  });
});

Deno.test("keystored: VERIFY tells valid from invalid signatures", async () => {
  const seed = new Uint8Array(32).fill(3);
  const pub = await ed25519PublicKey(seed);
  const msg = new TextEncoder().encode("system-set index");
  const sig = await ed25519Sign(seed, msg);
  await boot(async (sys, ks, slots) => {
    assert(await ks.verify(pub, sig, msg));
    assert(!(await ks.verify(pub, sig, Uint8Array.of(...msg, 0))));
    const bad = sig.slice();
    bad[10] ^= 4;
    assert(!(await ks.verify(pub, bad, msg)));
    assert(!(await ks.verify(new Uint8Array(32).fill(0xff), sig, msg)));
    const short = await call(
      sys,
      slots.keystored,
      slots.reply,
      encodeVerify(pub, sig.subarray(0, 60), new Uint8Array(0)),
    );
    assertEquals(decodeReply(short.data, KS_OP_VERIFY).status, KS_MALFORMED);
  });
});

Deno.test("keystored: malformed and unsupported frames", async () => {
  await boot(async (sys, _ks, slots) => {
    const ask = async (frame: Uint8Array, op: number) =>
      decodeReply((await call(sys, slots.keystored, slots.reply, frame)).data, op).status;
    assertEquals(await ask(Uint8Array.of(0x4b, 0x53, 1), 0), KS_MALFORMED);
    assertEquals(await ask(Uint8Array.of(0x4b, 0x40, 1, 10), 10), KS_MALFORMED);
    assertEquals(await ask(Uint8Array.of(0x4b, 0x53, 7, 10), 10), KS_UNSUPPORTED);
    assertEquals(await ask(Uint8Array.of(0x4b, 0x53, 1, 99), 99), KS_UNSUPPORTED);
    assertEquals(await ask(encodeRequest(KS_OP_DEVICE_KEYGEN, Uint8Array.of(0)), 10), KS_MALFORMED);
  });
});

Deno.test("keystored: the key comes from the boot seed's entropy", async () => {
  const pubs: Uint8Array[] = [];
  for (const seed of [5, 5, 6]) {
    await boot(async (_sys, ks) => {
      pubs.push((await ks.keygen()).publicKey);
    }, { seed });
  }
  assertEquals(pubs[0], pubs[1]);
  assertNotEquals(pubs[0], pubs[2]);
});

Deno.test("keystored: a store that cannot persist is IO_ERROR and no key is acknowledged", async () => {
  const puts: string[] = [];
  // A statefsd that reads nothing and refuses every write.
  const failing: FakePeer = {
    name: "statefsd",
    handler: (req) => {
      const op = req.data[3];
      if (op === 1) puts.push("put");
      const status = op === 2 ? 1 /* NOT_FOUND */ : SF_IO_ERROR;
      const { version, nonce } = decodeSfRequest(req.data);
      return encodeSfStatusReply({ version, nonce }, op, status);
    },
  };
  const r = await boot(async (_sys, ks) => {
    assertEquals(await statusOf(ks.keygen()), KS_IO_ERROR);
    assertEquals(await statusOf(ks.publicKey()), KS_KEY_NOT_FOUND);
  }, { statefs: failing });
  assertEquals(puts, ["put"]);
  assert(r.lines.some((l) => l.startsWith("keystored: store error (persist:")));
  assert(!r.lines.includes("keystored: device key generated"));
});

Deno.test("keystored: a new key is acknowledged only once it is synced", async () => {
  await boot(async (sys, ks, slots) => {
    assert((await ks.keygen()).created);
    const sf = new StatefsClient(sys, slots.statefsd, slots.reply);
    assertEquals((await sf.stats()).counters?.unsynced, 0);
  });
});

Deno.test("keystored: RELOAD reads the store, so a key changed behind its back is what it answers", async () => {
  let stored: Uint8Array | null = new Uint8Array(32).fill(1);
  let loads = 0;
  const ks = new Keystore({
    load: () => {
      loads++;
      return Promise.resolve(stored);
    },
    persist: () => Promise.reject(new Error("not expected")),
    entropy: () => Promise.reject(new Error("not expected")),
  }, () => {});
  const pubkey = async (op: number) => {
    const reply = await ks.handle(encodeRequest(op));
    assertEquals(reply[4], KS_OK);
    return reply.slice(5);
  };
  const first = await pubkey(KS_OP_DEVICE_RELOAD);
  assertEquals(first, await ed25519PublicKey(new Uint8Array(32).fill(1)));
  assertEquals(await pubkey(KS_OP_GET_DEVICE_PUBKEY), first);
  // Another seed lands in the store without keystored's knowledge.
  stored = new Uint8Array(32).fill(2);
  const before = loads;
  const second = await pubkey(KS_OP_DEVICE_RELOAD);
  assert(loads > before, "RELOAD did not read the store");
  assertEquals(second, await ed25519PublicKey(new Uint8Array(32).fill(2)));
  assertEquals(await pubkey(KS_OP_GET_DEVICE_PUBKEY), second);
  // A key removed from the store is gone for RELOAD too.
  stored = null;
  assertEquals((await ks.handle(encodeRequest(KS_OP_DEVICE_RELOAD)))[4], KS_KEY_NOT_FOUND);
});

Deno.test("keystored: DEVICE_SIGN from a sender without keystore.sign is DENY and signs nothing", async () => {
  const r = await boot(async (_sys, ks) => {
    const { publicKey } = await ks.keygen();
    assertEquals(await statusOf(ks.sign(Uint8Array.of(1, 2, 3))), KS_DENY);
    // The public half stays available; only signing is guarded.
    assertEquals(await ks.publicKey(), publicKey);
  }, { grants: { client: ["statefs.read", "statefs.write"] } });
  assert(r.lines.some((l) => l.startsWith("keystored: DEVICE_SIGN denied sender=")));
});

Deno.test("keystored: a store it cannot read, or a stored seed of the wrong length, is IO_ERROR", async () => {
  const lines: string[] = [];
  let load: () => Promise<Uint8Array | null> = () => Promise.reject(new Error("disk gone"));
  const ks = new Keystore({
    load: () => load(),
    persist: () => Promise.reject(new Error("not expected")),
    entropy: () => Promise.reject(new Error("not expected")),
  }, (l) => lines.push(l));
  const status = async (op: number) => (await ks.handle(encodeRequest(op)))[4];
  assertEquals(await status(KS_OP_DEVICE_RELOAD), KS_IO_ERROR);
  assertEquals(lines.at(-1), "keystored: store error (load: disk gone)");
  // 31 bytes would still import as a key (the last seed byte left zero): it must not be used.
  load = () => Promise.resolve(new Uint8Array(31).fill(1));
  assertEquals(await status(KS_OP_DEVICE_RELOAD), KS_IO_ERROR);
  assertEquals(await status(KS_OP_GET_DEVICE_PUBKEY), KS_IO_ERROR);
  assertEquals(lines.at(-1), "keystored: store error (stored seed is 31 bytes, expected 32)");
});
