/**
 * selftest-client: drives every end-to-end proof of the persistence stack and prints one
 * `SELFTEST: ...` marker per proof, only after the behaviour it names was observed. A proof that
 * fails prints its `... FAIL (<reason>)` twin instead and the run goes on, so one boot reports
 * every broken proof. Every peer is found through init routing (`RT` ROUTE_GET), never taken from
 * the manifest directly: that is what the `ipc routing <svc> ok` markers prove.
 *
 * @module
 */

import { checkSlots } from "../../core/kernel/slot_check.ts";
import type { ServiceEnv, ServiceModule, SlotNeed } from "../../core/kernel/service.ts";
import { KernelError, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "../../core/kernel/types.ts";
import { call } from "../../core/kernel/rpc.ts";
import { equalBytes, LARGE_VALUE_BYTES, largeValue } from "./values.ts";
import {
  IH_DENIED,
  reportHealth,
  routeGet,
  RT_OK,
  RT_STATUS_NAMES,
} from "../../core/kernel/init_protocol.ts";
import {
  KeystoreClient,
  KS_DENY,
  KS_PRIVATE_EXPORT_DENIED,
  KS_STATUS_NAMES,
} from "../keystored/protocol.ts";
import {
  SF_ACCESS_DENIED,
  SF_STATUS_NAMES,
  StatefsClient,
  StatefsdError,
} from "../statefsd/protocol.ts";
import {
  SAMGRD_SELF,
  samgrLookup,
  samgrRegister,
  SM_NOT_FOUND,
  SM_OK,
  SM_REPLY_LEN,
} from "../samgrd/protocol.ts";
import {
  PO_ALLOW,
  PO_DENY,
  PO_MALFORMED,
  PO_REPLY_LEN,
  policyCheck,
  policyCheckCap,
} from "../policyd/protocol.ts";
import {
  BN_DENIED,
  bundleFetchImage,
  bundleList,
  BundlemgrdError,
  bundleSetActiveSlot,
  SLOT_A,
  SLOT_B,
} from "../bundlemgrd/protocol.ts";
import {
  BOOTCTL_KEY,
  BootCtlError,
  buildSystemSet,
  decodeBootCtl,
  UD_DENIED,
  UpdateClient,
  UpdatedError,
} from "../updated/protocol.ts";
import { type ProbeResult, probeUngranted } from "../selftest-ungranted/protocol.ts";

const NAME = "selftest-client";
/** Virtual time one proof step may wait for a reply before it is reported as a hang. */
const CALL_BUDGET_NS = 2_000_000_000;
/** Key whose presence tells a cold boot on a kept image from a first boot. */
const SENTINEL_KEY = "/state/selftest/cold-boot";

/** Peers the selftest reaches, in the order it routes to them. */
const PEERS = ["keystored", "statefsd", "samgrd", "policyd", "bundlemgrd", "updated"] as const;
type Peer = typeof PEERS[number];

/** Grants the selftest's requests to a peer need (the peer checks them on the sender). */
const PEER_GRANTS: Partial<Record<Peer, string[]>> = {
  keystored: ["keystore.sign"],
  updated: ["update.boot_attempt"],
};

/** Slots the selftest requires: its reply inbox and a SEND cap to every peer it proves. */
export const requiredSlots: readonly SlotNeed[] = [
  { name: "reply", kind: "endpoint", rights: RIGHT_SEND | RIGHT_RECV, use: "reply inbox" },
  ...PEERS.map((peer): SlotNeed => ({
    name: peer,
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: `requests to ${peer} (found through routing)`,
    sync: true,
    ...(PEER_GRANTS[peer] ? { grants: PEER_GRANTS[peer] } : {}),
  })),
  {
    name: "selftest-ungranted",
    kind: "endpoint",
    rights: RIGHT_SEND,
    use: "PROBE: the guarded requests sent by a task granted none of them",
    sync: true,
  },
];

const enc = new TextEncoder();
const dec = new TextDecoder();

function fromHex(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string" || text === "") {
    throw new Error(`config ${what} must be a hex string`);
  }
  try {
    return Uint8Array.fromHex(text);
  } catch {
    throw new Error(`config ${what} must be a hex string`);
  }
}

/** A proof failed for `reason`; the message becomes the FAIL line's reason. */
class ProofFailure extends Error {}

function expect(cond: unknown, reason: string): asserts cond {
  if (!cond) throw new ProofFailure(reason);
}

function describe(err: unknown): string {
  if (err instanceof KernelError) return `kernel ${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Everything one selftest run shares between proofs. */
class Run {
  readonly routes = new Map<Peer, number>();
  failures = 0;
  #nonce = 0x5e1f0000;

  constructor(readonly sys: Syscalls, readonly env: ServiceEnv) {}

  get replySlot(): number {
    return this.env.slots.reply;
  }

  deadline(): number {
    return this.sys.now() + CALL_BUDGET_NS;
  }

  nonce(): number {
    this.#nonce = (this.#nonce + 1) >>> 0;
    return this.#nonce;
  }

  /**
   * Runs one proof: prints `SELFTEST: <ok>` when `body` completes, or
   * `SELFTEST: <subject> FAIL (<reason>)` when it throws.
   */
  async proof(subject: string, ok: string, body: () => Promise<void> | void): Promise<boolean> {
    try {
      await body();
      this.sys.print(`SELFTEST: ${ok}`);
      return true;
    } catch (err) {
      this.failures++;
      this.sys.print(`SELFTEST: ${subject} FAIL (${describe(err)})`);
      return false;
    }
  }

  /**
   * Asks init for the route to `peer` (with a nonce), then checks the answer against the kernel:
   * the send slot must hold SEND on an endpoint owned by `peer`, the receive slot must be this
   * task's own reply inbox.
   */
  async route(peer: Peer): Promise<number> {
    const known = this.routes.get(peer);
    if (known !== undefined) return known;
    const nonce = this.nonce();
    const answer = await routeGet(this.sys, this.replySlot, peer, {
      nonce,
      deadline: this.deadline(),
    });
    expect(
      answer.status === RT_OK,
      `route ${peer}: ${RT_STATUS_NAMES[answer.status] ?? answer.status}`,
    );
    expect(answer.nonce === nonce, `route ${peer}: nonce ${answer.nonce} != ${nonce}`);
    const send = this.sys.capQuery(answer.sendSlot);
    expect(send !== null, `route ${peer}: slot ${answer.sendSlot} is empty`);
    expect(
      send.kind === "endpoint" && send.endpoint?.ownerName === peer,
      `route ${peer}: slot ${answer.sendSlot} reaches ${send.endpoint?.ownerName ?? send.kind}`,
    );
    expect((send.rights & RIGHT_SEND) !== 0, `route ${peer}: slot ${answer.sendSlot} lacks SEND`);
    const recv = this.sys.capQuery(answer.recvSlot);
    expect(
      recv !== null && recv.endpoint?.ownerName === NAME && (recv.rights & RIGHT_RECV) !== 0,
      `route ${peer}: receive slot ${answer.recvSlot} is not this task's reply inbox`,
    );
    this.routes.set(peer, answer.sendSlot);
    return answer.sendSlot;
  }

  async statefs(): Promise<StatefsClient> {
    return new StatefsClient(this.sys, await this.route("statefsd"), this.replySlot, {
      deadline: () => this.deadline(),
    });
  }

  async keystore(): Promise<KeystoreClient> {
    return new KeystoreClient(this.sys, await this.route("keystored"), this.replySlot);
  }

  async updater(): Promise<UpdateClient> {
    return new UpdateClient(this.sys, await this.route("updated"), this.replySlot);
  }
}

function sfStatus(err: unknown): number | null {
  return err instanceof StatefsdError ? err.status : null;
}

/**
 * Keys of the large-journal proof: 320 values of 8,000 bytes, 2.5 MiB of live data, more than
 * two 1 MiB replay chunks. A partition too small for that gets what 45% of its region holds.
 */
const LARGE_PREFIX = "/state/selftest/large/";
const LARGE_KEYS = 320;
const REPLAY_CHUNK_BYTES = 1 << 20;
/** Key the delete proof writes and deletes (absent after every boot). */
const DELETED_KEY = "/state/selftest/deleted";
const PERSIST_KEY = "/state/selftest/persist";

function largeKey(i: number): string {
  return `${LARGE_PREFIX}${String(i).padStart(4, "0")}`;
}

function persistValue(boot: number): Uint8Array {
  return enc.encode(`persist boot=${boot}`);
}

/**
 * The facts about the disk a sentinel can vouch for: each is recorded only when it held as the
 * sentinel was synced, so a boot that failed part way (a crashed service, an I/O error) does not
 * make the next boot demand what it never wrote.
 */
const FACTS = ["bootctl", "persist", "deleted"] as const;
type Fact = typeof FACTS[number];

/** What the cold-boot sentinel records about the boot that wrote it. */
interface Sentinel {
  boots: number;
  pubkey: string;
  seed?: number;
  large?: number;
  /** Facts that held at its sync; a sentinel that lists none (an older one) vouches for all. */
  held: ReadonlySet<Fact>;
}

function parseSentinel(bytes: Uint8Array): Sentinel {
  const text = dec.decode(bytes);
  const m =
    /^boots=(\d+) pubkey=([0-9a-f]{64})(?: seed=(\d+))?(?: large=(\d+))?(?: held=([a-z,]*))?$/
      .exec(text);
  const held = m?.[5] === undefined ? [...FACTS] : m[5].split(",").filter((f) => f !== "");
  if (m === null || !held.every((f) => (FACTS as readonly string[]).includes(f))) {
    throw new ProofFailure(`sentinel is damaged: ${JSON.stringify(text)}`);
  }
  return {
    boots: Number(m[1]),
    pubkey: m[2],
    ...(m[3] !== undefined ? { seed: Number(m[3]) } : {}),
    ...(m[4] !== undefined ? { large: Number(m[4]) } : {}),
    held: new Set(held as Fact[]),
  };
}

/**
 * REOPEN, then proves statefsd replayed from the disk: it must have read at least the whole
 * journal it now reports, so an engine that keeps its memory and only claims a replay fails here.
 */
async function replayedReopen(sf: StatefsClient): Promise<void> {
  const before = (await sf.stats()).counters;
  await sf.reopen();
  const after = await sf.stats();
  expect(
    before !== undefined && after.counters !== undefined,
    "statefsd STATS carries no counters",
  );
  const read = after.counters.sectorsRead - before.sectorsRead;
  const journal = Math.ceil(after.bytesUsed / 512);
  expect(
    read >= journal,
    `reopen read ${read} sectors from the disk, the journal holds ${journal} (no replay)`,
  );
}

/**
 * What a boot on a kept image checks before anything writes: the previous boot's writes that
 * were synced before its power cut are all there, and what it deleted stays deleted.
 */
async function checkKeptImage(sf: StatefsClient, sentinel: Sentinel): Promise<void> {
  for (const fact of FACTS) {
    if (!sentinel.held.has(fact)) continue;
    const why = await factMissing(sf, fact, sentinel.boots);
    expect(why === null, why ?? "");
  }
  for (let i = 0; i < (sentinel.large ?? 0); i++) {
    const got = await sf.tryGet(largeKey(i));
    expect(got !== null, `${largeKey(i)} of boot ${sentinel.boots} is lost`);
    expect(equalBytes(got, largeValue(i, sentinel.boots)), `${largeKey(i)} differs after reboot`);
  }
}

/**
 * Why `fact` does not hold on the disk now, worded for the boot after the one that vouched for it
 * (`boot`, whose persist value it is); null when it holds. The one definition of each fact, for
 * the sentinel's writer and the next boot's check alike.
 */
async function factMissing(sf: StatefsClient, fact: Fact, boot: number): Promise<string | null> {
  switch (fact) {
    case "bootctl": {
      const bootctl = await sf.tryGet(BOOTCTL_KEY);
      if (bootctl === null) return "bootctl record did not survive the reboot";
      try {
        decodeBootCtl(bootctl);
      } catch (err) {
        if (err instanceof BootCtlError) return err.message;
        throw err;
      }
      return null;
    }
    case "persist": {
      const persisted = await sf.tryGet(PERSIST_KEY);
      return persisted !== null && equalBytes(persisted, persistValue(boot))
        ? null
        : `${PERSIST_KEY} of boot ${boot} did not survive the power cut`;
    }
    case "deleted":
      return (await sf.tryGet(DELETED_KEY)) === null
        ? null
        : `${DELETED_KEY} is back after the reboot`;
  }
}

/** The facts that hold on the disk now (the sentinel's SYNC makes them durable). */
async function heldFacts(sf: StatefsClient, boot: number): Promise<Fact[]> {
  const held: Fact[] = [];
  for (const fact of FACTS) if ((await factMissing(sf, fact, boot)) === null) held.push(fact);
  return held;
}

/** Persistence and device-key proofs (phase `mmio`). */
async function persistenceProofs(run: Run): Promise<ColdBootContext> {
  // Read the cold-boot sentinel and check the kept image before any proof writes, so the verdict
  // reflects the disk as booted (after the previous boot's power cut).
  let sentinel: Sentinel | null = null;
  let keptImageError: string | null = null;
  try {
    const sf = await run.statefs();
    const raw = await sf.tryGet(SENTINEL_KEY);
    if (raw !== null) {
      sentinel = parseSentinel(raw);
      await checkKeptImage(sf, sentinel);
    }
  } catch (err) {
    keptImageError = describe(err);
  }
  const boot = (sentinel?.boots ?? 0) + 1;

  await run.proof("ipc routing keystored", "ipc routing keystored ok", async () => {
    await run.route("keystored");
  });

  let publicKey: Uint8Array | null = null;
  let keygen: { created: boolean; unsynced: number | undefined } | null = null;
  await run.proof("device key pubkey", "device key pubkey ok", async () => {
    const ks = await run.keystore();
    // KEYGEN first, before anything else could make keystored read the store: on a kept image it
    // must find the key the previous boot made.
    const generated = await ks.keygen();
    keygen = {
      created: generated.created,
      unsynced: (await (await run.statefs()).stats()).counters?.unsynced,
    };
    const again = await ks.keygen();
    expect(!again.created, "a second keygen generated a new key (not idempotent)");
    expect(equalBytes(generated.publicKey, again.publicKey), "keygen answers differ");
    const pub = await ks.publicKey();
    expect(pub.length === 32, `public key is ${pub.length} bytes`);
    expect(equalBytes(pub, generated.publicKey), "public key differs from keygen's");
    const message = enc.encode("nexus selftest device key");
    const signature = await ks.sign(message);
    expect(await ks.verify(pub, signature, message), "device signature does not verify");
    const forged = message.slice();
    forged[0] ^= 1;
    expect(!(await ks.verify(pub, signature, forged)), "signature verifies a different message");
    publicKey = pub;
  });

  // A first boot makes the key; a boot on a kept image must reload it. Under a different seed
  // rngd gives different entropy, so a key made again instead of reloaded shows up here.
  // An image without a sentinel (first boot, or an image from elsewhere) either lets keystored
  // make the key or holds one already ("found": nothing to compare it with).
  const answered = keygen as { created: boolean } | null;
  const keyOk = sentinel !== null
    ? "device key reloaded ok"
    : answered?.created === false
    ? "device key found"
    : "device key generated";
  await run.proof("device key reload", keyOk, () => {
    expect(keygen !== null && publicKey !== null, "no keygen answer from the pubkey proof");
    const made: { created: boolean } = keygen;
    if (sentinel === null) return;
    expect(!made.created, "keygen made a new device key on a kept image (not reloaded)");
    expect(publicKey.toHex() === sentinel.pubkey, "device public key changed across boots");
    expect(
      sentinel.seed === undefined || sentinel.seed !== run.env.seed,
      `this boot runs under seed ${run.env.seed} like the one that made the key: a reload is not told from a remake`,
    );
  });

  await run.proof(
    "device key private export",
    "device key private export rejected ok",
    async () => {
      const status = await (await run.keystore()).requestPrivateKey();
      expect(
        status === KS_PRIVATE_EXPORT_DENIED,
        `private export answered ${KS_STATUS_NAMES[status] ?? status}`,
      );
    },
  );

  await run.proof("statefs put", "statefs put ok", async () => {
    const sf = await run.statefs();
    const value = enc.encode("put-get-list");
    await sf.put("/state/selftest/put/key", value);
    const back = await sf.get("/state/selftest/put/key");
    expect(equalBytes(back, value), "get returned a different value");
    const keys = await sf.list("/state/selftest/put/", 64);
    expect(keys.includes("/state/selftest/put/key"), `list missed the key: [${keys.join(", ")}]`);
  });

  await run.proof(
    "statefs unauthorized access",
    "statefs unauthorized access rejected",
    async () => {
      const sf = await run.statefs();
      try {
        await sf.get("/state/keystore/device.signing");
      } catch (err) {
        const status = sfStatus(err);
        expect(
          status === SF_ACCESS_DENIED,
          `keystore read answered ${SF_STATUS_NAMES[status ?? -1] ?? describe(err)}`,
        );
        return;
      }
      throw new ProofFailure("selftest-client read the device key seed");
    },
  );

  await run.proof("statefs persist", "statefs persist ok", async () => {
    const sf = await run.statefs();
    await sf.put(PERSIST_KEY, persistValue(boot));
    await sf.sync();
    await replayedReopen(sf);
    const back = await sf.get(PERSIST_KEY);
    expect(equalBytes(back, persistValue(boot)), "value after reopen differs");
  });

  await run.proof("statefs delete", "statefs delete ok", async () => {
    const sf = await run.statefs();
    // Put and delete both reach the journal, so the replay below must apply the delete.
    await sf.put(DELETED_KEY, enc.encode(`to be deleted, boot ${boot}`));
    await sf.sync();
    await sf.delete(DELETED_KEY);
    await sf.sync();
    await replayedReopen(sf);
    expect((await sf.tryGet(DELETED_KEY)) === null, "a deleted key is back after reopen");
  });

  await run.proof("statefs crash-atomic", "statefs crash-atomic ok", async () => {
    const sf = await run.statefs();
    const v = (s: string) => enc.encode(s);
    await sf.batch([
      { kind: "put", key: "/state/selftest/txn-aborted-1", value: v("a1") },
      { kind: "put", key: "/state/selftest/txn-aborted-2", value: v("a2") },
    ], { abort: true });
    await sf.batch([
      { kind: "put", key: "/state/selftest/txn-committed-1", value: v("c1") },
      { kind: "put", key: "/state/selftest/txn-committed-2", value: v("c2") },
    ]);
    await sf.sync();
    await replayedReopen(sf);
    for (const k of ["txn-aborted-1", "txn-aborted-2"]) {
      expect((await sf.tryGet(`/state/selftest/${k}`)) === null, `aborted ${k} is visible`);
    }
    for (const [k, want] of [["txn-committed-1", "c1"], ["txn-committed-2", "c2"]]) {
      const got = await sf.tryGet(`/state/selftest/${k}`);
      expect(got !== null && dec.decode(got) === want, `committed ${k} lost after reopen`);
    }
  });

  let large = 0;
  await run.proof("statefs large journal", "statefs large journal ok", async () => {
    const sf = await run.statefs();
    const region = (await sf.stats()).regionBytes;
    const count = Math.min(LARGE_KEYS, Math.floor(region * 0.45 / (LARGE_VALUE_BYTES + 64)));
    // Several replay chunks when the region allows it; else as much as the region holds.
    const want = Math.min(2 * REPLAY_CHUNK_BYTES, Math.floor(count * LARGE_VALUE_BYTES * 0.9));
    for (let i = 0; i < count; i++) await sf.put(largeKey(i), largeValue(i, boot));
    large = count;
    await sf.sync();
    await replayedReopen(sf);
    const st = await sf.stats();
    expect(st.bytesUsed > want, `the journal holds ${st.bytesUsed} bytes, expected over ${want}`);
    for (let i = 0; i < count; i++) {
      const got = await sf.tryGet(largeKey(i));
      expect(got !== null, `${largeKey(i)} lost after reopen (${i} of ${count} came back)`);
      expect(equalBytes(got, largeValue(i, boot)), `${largeKey(i)} differs after reopen`);
    }
  });

  await run.proof("statefs compact", "statefs compact ok", async () => {
    const sf = await run.statefs();
    const before = await sf.stats();
    const keys = 8;
    const last = new Map<string, string>();
    // Rewrite a few keys with large values until the journal is mostly garbage and past the
    // engine's automatic threshold, so statefsd compacts on its own; STATS shows the flip.
    const value = new Uint8Array(8000);
    for (let round = 0; round < 8192; round++) {
      const key = `/state/selftest/churn-${round % keys}`;
      const text = `round-${round}`;
      value.fill(round & 0xff);
      value.set(enc.encode(text));
      await sf.put(key, value);
      last.set(key, text);
      if (round % 32 === 31 && (await sf.stats()).generation > before.generation) break;
    }
    const after = await sf.stats();
    expect(after.generation > before.generation, "no compaction happened during the churn");
    await sf.sync();
    await replayedReopen(sf);
    for (const [key, text] of last) {
      const got = await sf.get(key);
      expect(dec.decode(got.slice(0, text.length)) === text, `${key} lost its last value`);
    }
  });

  await run.proof("device key persist", "device key persist ok", async () => {
    expect(publicKey !== null && keygen !== null, "no public key from the pubkey proof");
    const made: { created: boolean; unsynced: number | undefined } = keygen;
    if (made.created) {
      // keystored acknowledges a new key only once it is durable: nothing may be left unsynced.
      expect(made.unsynced !== undefined, "statefsd STATS carries no counters");
      expect(
        made.unsynced === 0,
        `the new key was acknowledged with ${made.unsynced} unsynced writes`,
      );
    }
    const sf = await run.statefs();
    const before = (await sf.stats()).counters?.gets;
    const reloaded = await (await run.keystore()).reload();
    const after = (await sf.stats()).counters?.gets;
    expect(before !== undefined && after !== undefined, "statefsd STATS carries no counters");
    expect(after > before, "RELOAD answered without reading the store");
    expect(equalBytes(reloaded, publicKey), "reloaded public key differs");
  });

  return { sentinel, keptImageError, publicKey, boot, large };
}

/** What the persistence proofs hand the cold-boot proof that closes the run. */
interface ColdBootContext {
  sentinel: Sentinel | null;
  keptImageError: string | null;
  publicKey: Uint8Array | null;
  boot: number;
  /** Large-journal keys this boot wrote (the next boot checks them). */
  large: number;
}

/**
 * The cold-boot verdict, last of all proofs: a first boot seeds the sentinel, a boot on a kept
 * image reports what it checked before anything wrote. The sentinel is written and synced here,
 * after every other write of the run and with no REOPEN after it, so nothing but its own SYNC
 * can carry it through the power cut that ends the boot.
 */
async function coldBootProof(run: Run, ctx: ColdBootContext): Promise<void> {
  const { sentinel, keptImageError, publicKey, boot, large } = ctx;
  const coldBoot = sentinel === null && keptImageError === null
    ? "statefs cold-boot seeded"
    : "statefs cold-boot persist ok";
  await run.proof("statefs cold-boot", coldBoot, async () => {
    expect(keptImageError === null, keptImageError ?? "");
    expect(publicKey !== null, "no public key from the pubkey proof");
    const sf = await run.statefs();
    if (sentinel !== null) {
      expect(publicKey.toHex() === sentinel.pubkey, "device public key changed across boots");
    }
    const held = await heldFacts(sf, boot);
    // Only a boot that already failed may leave a fact out: on a green run all of them hold.
    const missing = FACTS.filter((f) => !held.includes(f));
    expect(
      run.failures > 0 || missing.length === 0,
      `at the end of a green run the disk lacks: ${missing.join(", ")}`,
    );
    await sf.put(
      SENTINEL_KEY,
      enc.encode(
        `boots=${boot} pubkey=${publicKey.toHex()} seed=${run.env.seed} large=${large} held=${
          held.join(",")
        }`,
      ),
    );
    await sf.sync();
  });
}

/** Routing and samgrd proofs (phase `routing`). */
async function routingProofs(run: Run): Promise<void> {
  await run.proof("ipc routing samgrd", "ipc routing samgrd ok", async () => {
    await run.route("samgrd");
  });
  const pair = { send: run.env.slots.statefsd ?? 0, recv: run.replySlot };
  await run.proof("samgrd v1 register", "samgrd v1 register ok", async () => {
    const samgrd = await run.route("samgrd");
    const r = await samgrRegister(run.sys, samgrd, run.replySlot, "selftest.svc", pair);
    expect(r.status === SM_OK, `register answered status ${r.status}`);
    // A registration is what a later lookup finds, not an OK status.
    const back = await samgrLookup(run.sys, samgrd, run.replySlot, "selftest.svc");
    expect(back.status === SM_OK, `lookup after register answered status ${back.status}`);
    expect(
      back.send === pair.send && back.recv === pair.recv,
      `lookup after register gave ${back.send}/${back.recv}, registered ${pair.send}/${pair.recv}`,
    );
  });
  await run.proof("samgrd v1 lookup", "samgrd v1 lookup ok", async () => {
    const samgrd = await run.route("samgrd");
    const moved = { send: pair.recv, recv: pair.send };
    const r = await samgrRegister(run.sys, samgrd, run.replySlot, "selftest.moved", moved);
    expect(r.status === SM_OK, `register answered status ${r.status}`);
    for (const [name, want] of [["selftest.svc", pair], ["selftest.moved", moved]] as const) {
      const got = await samgrLookup(run.sys, samgrd, run.replySlot, name);
      expect(got.status === SM_OK, `lookup ${name} answered status ${got.status}`);
      expect(
        got.send === want.send && got.recv === want.recv,
        `lookup ${name} gave ${got.send}/${got.recv}, registered ${want.send}/${want.recv}`,
      );
    }
  });
  await run.proof("samgrd v1 isolation", "samgrd v1 isolation ok", async () => {
    // samgrd registers itself under its own identity; another caller's names are not ours.
    const r = await samgrLookup(run.sys, await run.route("samgrd"), run.replySlot, SAMGRD_SELF);
    expect(
      r.status === SM_NOT_FOUND,
      `a name samgrd registered for itself answered status ${r.status} to selftest-client`,
    );
  });
  await run.proof("samgrd v1 unknown", "samgrd v1 unknown ok", async () => {
    const r = await samgrLookup(run.sys, await run.route("samgrd"), run.replySlot, "no.such.svc");
    expect(r.status === SM_NOT_FOUND, `unknown name answered status ${r.status}`);
  });
  await run.proof("samgrd v1 malformed", "samgrd v1 malformed ok", async () => {
    // A REGISTER whose name length claims more bytes than the frame holds.
    const bad = Uint8Array.of(0x53, 0x4d, 1, 1, 200, 1, 0, 0, 0);
    const reply = await call(run.sys, await run.route("samgrd"), run.replySlot, bad, {
      deadline: run.deadline(),
    });
    expect(reply.data.length === SM_REPLY_LEN, `reply is ${reply.data.length} bytes`);
    expect(reply.data[4] !== SM_OK, "malformed frame answered OK");
  });
  for (const peer of ["policyd", "bundlemgrd", "updated"] as const) {
    await run.proof(`ipc routing ${peer}`, `ipc routing ${peer} ok`, async () => {
      await run.route(peer);
    });
  }
}

/** A release of the standby slot, signed with the development update key. */
async function release(run: Run, label: string): Promise<Uint8Array> {
  const seed = fromHex(run.env.config.update_signing_seed, "update_signing_seed");
  return await buildSystemSet(label, [
    { name: "kernel", bytes: enc.encode(`${label} kernel image`) },
    { name: "services", bytes: enc.encode(`${label} services bundle`) },
  ], seed);
}

/**
 * Reads the bootctl record back from the disk (a REOPEN that replays, then GET) and compares it
 * with what updated reports: a transition updated acknowledged must already be on the disk.
 */
async function bootctlOnDisk(run: Run, after: string): Promise<void> {
  const sf = await run.statefs();
  await replayedReopen(sf);
  const raw = await sf.tryGet(BOOTCTL_KEY);
  expect(raw !== null, `no bootctl record on the disk after ${after}`);
  const record = decodeBootCtl(raw);
  const status = await (await run.updater()).status();
  const where = `on the disk after ${after}`;
  expect(
    record.active === status.active,
    `bootctl active ${record.active} ${where}, updated says ${status.active}`,
  );
  const pending = record.pending ?? 0;
  expect(
    pending === status.pending,
    `bootctl pending ${pending} ${where}, updated says ${status.pending}`,
  );
  expect(
    record.triesLeft === status.triesLeft,
    `bootctl tries ${record.triesLeft} ${where}, updated says ${status.triesLeft}`,
  );
  expect(
    record.healthOk === status.healthOk,
    `bootctl health flag ${where} differs from updated's`,
  );
}

async function activeBundle(run: Run): Promise<number> {
  return (await bundleList(run.sys, await run.route("bundlemgrd"), run.replySlot)).active;
}

/** OTA and bootctl proofs (phase `ota`). */
async function otaProofs(run: Run): Promise<void> {
  let prepared = true;
  // A kept image may have booted into slot b: return to slot a first so the proof below always
  // runs the same a -> b switch (and the same markers) on every boot.
  try {
    const upd = await run.updater();
    const status = await upd.status();
    if (status.active !== SLOT_A || status.pending !== 0) {
      if (status.pending !== 0) {
        await reportHealth(run.sys, run.replySlot, { deadline: run.deadline() });
      }
      if ((await upd.status()).active !== SLOT_A) {
        await upd.stage(await release(run, "return-to-a"));
        await upd.switchTo(3);
        await reportHealth(run.sys, run.replySlot, { deadline: run.deadline() });
      }
    }
  } catch (err) {
    prepared = false;
    run.failures++;
    run.sys.print(`SELFTEST: ota prepare FAIL (${describe(err)})`);
  }
  if (!prepared) return;

  await run.proof("ota stage", "ota stage ok", async () => {
    const upd = await run.updater();
    const staged = await upd.stage(await release(run, "release-2"));
    expect(staged === SLOT_B, `staged slot ${staged}, expected b`);
  });
  await run.proof("ota switch", "ota switch ok", async () => {
    const upd = await run.updater();
    const active = await upd.switchTo(3);
    expect(active === SLOT_B, `switch made slot ${active} active`);
    expect((await activeBundle(run)) === SLOT_B, "bundlemgrd does not publish slot b");
    const image = await bundleFetchImage(run.sys, await run.route("bundlemgrd"), run.replySlot);
    expect(image.slot === SLOT_B, `FETCH_IMAGE describes slot ${image.slot}`);
    const status = await upd.status();
    expect(
      status.pending === SLOT_B && status.triesLeft === 3,
      "slot b is not pending with 3 tries",
    );
    await bootctlOnDisk(run, "switch");
  });
  await run.proof("ota health", "ota health ok", async () => {
    const status = await reportHealth(run.sys, run.replySlot, {
      nonce: run.nonce(),
      deadline: run.deadline(),
    });
    expect(status === 0, `init answered health status ${status}`);
    const after = await (await run.updater()).status();
    expect(after.pending === 0 && after.healthOk, "health-ok did not clear the pending slot");
    expect(after.active === SLOT_B, `active slot ${after.active} after health-ok`);
    await bootctlOnDisk(run, "health-ok");
  });
  await run.proof("ota rollback", "ota rollback ok", async () => {
    const upd = await run.updater();
    await upd.stage(await release(run, "release-3-bad"));
    const active = await upd.switchTo(1);
    expect(active === SLOT_A, `switch made slot ${active} active`);
    const rolledBack = await upd.bootAttempt();
    expect(rolledBack === SLOT_B, `boot attempt rolled back to ${rolledBack}`);
    const status = await upd.status();
    expect(status.active === SLOT_B && status.pending === 0, "rollback did not restore slot b");
    expect((await activeBundle(run)) === SLOT_B, "bundlemgrd does not publish slot b again");
  });
  await run.proof("ota tamper rejected", "ota tamper rejected ok", async () => {
    const upd = await run.updater();
    const good = await release(run, "release-4");
    const reasons: string[] = [];
    const bundleFlip = good.slice();
    bundleFlip[bundleFlip.length - 1] ^= 0x01; // last byte: inside the last bundle
    const indexFlip = good.slice();
    indexFlip[12] ^= 0x01; // inside the signed index
    for (const tampered of [bundleFlip, indexFlip]) {
      try {
        await upd.stage(tampered);
        throw new ProofFailure("a tampered system-set was staged");
      } catch (err) {
        if (!(err instanceof UpdatedError)) throw err;
        reasons.push(err.reasonName ?? String(err.status));
      }
    }
    expect(reasons[0] === "digest", `bundle tamper refused as ${reasons[0]}`);
    expect(reasons[1] === "signature", `index tamper refused as ${reasons[1]}`);
  });
  await run.proof("bootctl persist", "bootctl persist ok", async () => {
    // The rollback and the refused stages leave the record of the rollback.
    await bootctlOnDisk(run, "rollback");
  });
}

/** Policy proofs (phase `policy`). */
async function policyProofs(run: Run): Promise<void> {
  await run.proof("policy allow", "policy allow ok", async () => {
    const status = await policyCheck(
      run.sys,
      await run.route("policyd"),
      run.replySlot,
      "statefs.read",
    );
    expect(status === PO_ALLOW, `granted capability answered ${status}`);
  });
  await run.proof("policy deny", "policy deny ok", async () => {
    const status = await policyCheck(
      run.sys,
      await run.route("policyd"),
      run.replySlot,
      "keystore.admin",
    );
    expect(status === PO_DENY, `ungranted capability answered ${status}`);
  });
  await run.proof(
    "policyd requester spoof denied",
    "policyd requester spoof denied ok",
    async () => {
      const policyd = await run.route("policyd");
      const own = await policyCheckCap(run.sys, policyd, run.replySlot, NAME, "statefs.read");
      expect(own === PO_ALLOW, `own identity answered ${own}`);
      // updated really holds statefs.boot (selftest-client does not): naming updated as the
      // subject must not borrow its grant, since selftest-client may not ask on others' behalf.
      const holder = await policyCheckCap(
        run.sys,
        policyd,
        run.replySlot,
        NAME,
        "statefs.boot",
      );
      expect(holder === PO_DENY, `selftest-client's own statefs.boot answered ${holder}`);
      const spoof = await policyCheckCap(
        run.sys,
        policyd,
        run.replySlot,
        "updated",
        "statefs.boot",
      );
      expect(spoof === PO_DENY, `asking as updated for its statefs.boot answered ${spoof}`);
    },
  );
  await run.proof("statefs boot write denied", "statefs boot write denied ok", async () => {
    // selftest-client holds statefs.boot.read but not statefs.boot: statefsd must ask policyd
    // and refuse the write, leaving the record as it was.
    const sf = await run.statefs();
    const before = await sf.tryGet(BOOTCTL_KEY);
    try {
      await sf.put(BOOTCTL_KEY, enc.encode("not a bootctl record"));
    } catch (err) {
      const status = sfStatus(err);
      expect(
        status === SF_ACCESS_DENIED,
        `bootctl write answered ${SF_STATUS_NAMES[status ?? -1] ?? describe(err)}`,
      );
      const after = await sf.tryGet(BOOTCTL_KEY);
      expect(
        before !== null && after !== null && equalBytes(before, after),
        "the bootctl record changed although the write was refused",
      );
      return;
    }
    throw new ProofFailure("selftest-client wrote /state/boot without statefs.boot");
  });
  await run.proof("bundlemgrd set-active denied", "bundlemgrd set-active denied ok", async () => {
    // Only updated holds bundle.set_active: selftest-client must be refused, nothing changed.
    const before = await activeBundle(run);
    const other = before === SLOT_A ? SLOT_B : SLOT_A;
    try {
      await bundleSetActiveSlot(run.sys, await run.route("bundlemgrd"), run.replySlot, other);
    } catch (err) {
      if (!(err instanceof BundlemgrdError)) throw err;
      expect(err.status === BN_DENIED, `SET_ACTIVE_SLOT answered status ${err.status}`);
      expect((await activeBundle(run)) === before, "the active slot changed although refused");
      return;
    }
    throw new ProofFailure("bundlemgrd let selftest-client set the active slot");
  });
  await run.proof("updated health denied", "updated health denied ok", async () => {
    // HEALTH_OK straight to updated needs update.health (init holds the right to forward it).
    const upd = await run.updater();
    const before = await upd.status();
    try {
      await upd.healthOk();
    } catch (err) {
      if (!(err instanceof UpdatedError)) throw err;
      expect(err.status === UD_DENIED, `HEALTH_OK answered status ${err.status}`);
      const after = await upd.status();
      expect(
        JSON.stringify(after) === JSON.stringify(before),
        "the boot state changed although refused",
      );
      return;
    }
    throw new ProofFailure("updated took HEALTH_OK from selftest-client");
  });
  await ungrantedProofs(run);
  await run.proof("policy malformed", "policy malformed ok", async () => {
    const reply = await call(
      run.sys,
      await run.route("policyd"),
      run.replySlot,
      Uint8Array.of(0x50, 0x4f, 1, 4, 1, 2, 3),
      { deadline: run.deadline() },
    );
    expect(reply.data.length === PO_REPLY_LEN, `reply is ${reply.data.length} bytes`);
    expect(reply.data[4] === PO_MALFORMED, `truncated CHECK_CAP answered ${reply.data[4]}`);
  });
}

/**
 * selftest-ungranted holds SEND to keystored, updated and init but none of the grants: it sends
 * DEVICE_SIGN, BOOT_ATTEMPT and `IH` HEALTH_OK as itself (the kernel reports its identity) and
 * each must come back refused, the boot state unchanged.
 */
async function ungrantedProofs(run: Run): Promise<void> {
  let probe: Promise<{ result: ProbeResult; stateKept: boolean }> | undefined;
  const probed = () =>
    probe ??= (async () => {
      const upd = await run.updater();
      const before = JSON.stringify(await upd.status());
      const result = await probeUngranted(
        run.sys,
        run.env.slots["selftest-ungranted"],
        run.replySlot,
        run.deadline() + CALL_BUDGET_NS * 3,
      );
      return { result, stateKept: JSON.stringify(await upd.status()) === before };
    })();
  await run.proof("keystore sign denied", "keystore sign denied ok", async () => {
    const { result } = await probed();
    expect(
      result.sign === KS_DENY,
      `DEVICE_SIGN from selftest-ungranted answered ${KS_STATUS_NAMES[result.sign] ?? result.sign}`,
    );
  });
  await run.proof("updated boot-attempt denied", "updated boot-attempt denied ok", async () => {
    const { result, stateKept } = await probed();
    expect(
      result.bootAttempt === UD_DENIED,
      `BOOT_ATTEMPT from selftest-ungranted answered status ${result.bootAttempt}`,
    );
    expect(stateKept, "the boot state changed although refused");
  });
  await run.proof("init health denied", "init health denied ok", async () => {
    const { result, stateKept } = await probed();
    expect(
      result.health === IH_DENIED,
      `IH HEALTH_OK from selftest-ungranted answered status ${result.health}`,
    );
    expect(stateKept, "the boot state changed although refused");
  });
}

async function main(sys: Syscalls, env: ServiceEnv): Promise<void> {
  if (!checkSlots(sys, env, requiredSlots)) return;
  sys.print(`${NAME}: ready`);
  const run = new Run(sys, env);
  const cold = await persistenceProofs(run);
  await routingProofs(run);
  await otaProofs(run);
  await policyProofs(run);
  await coldBootProof(run, cold);
  // `SELFTEST: end` is earned only by a run in which every proof passed.
  if (run.failures === 0) sys.print("SELFTEST: end");
  else sys.print(`SELFTEST: summary FAIL (${run.failures} proofs failed)`);
}

/** The selftest-client service module. */
export const selftestClient: ServiceModule = { name: NAME, requiredSlots, main };
export default selftestClient;
