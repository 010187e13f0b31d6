import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { ed25519PublicKey } from "../keystored/protocol.ts";
import { SLOT_A, SLOT_B, type SlotId } from "../bundlemgrd/protocol.ts";
import {
  buildSystemSet,
  decodeBootCtl,
  decodeReply,
  encodeSimple,
  encodeStage,
  encodeSwitch,
  localVerifier,
  UD_FAILED,
  UD_MALFORMED,
  UD_OK,
  UD_OP_BOOT_ATTEMPT,
  UD_OP_GET_STATUS,
  UD_OP_HEALTH_OK,
  UD_OP_STAGE,
  UD_OP_SWITCH,
  UD_REASON_BUNDLEMGR,
  UD_REASON_DIGEST,
  UD_REASON_NOTHING_STAGED,
  UD_REASON_SIGNATURE,
  UD_REASON_STORE,
  UD_REASON_SWITCH_PENDING,
  UD_REASON_VERIFIER,
  UD_UNSUPPORTED,
} from "./protocol.ts";
import { type Handled, Updater, type UpdaterBackend } from "./updater.ts";

const SEED = new Uint8Array(32).fill(7);
const enc = new TextEncoder();

class FakeBackend implements UpdaterBackend {
  record: Uint8Array | null = null;
  writes = 0;
  failPersist = false;
  failPublish = false;
  failVerify = false;
  published: SlotId[] = [];
  verifier = localVerifier(new Uint8Array(32));
  load() {
    return Promise.resolve(this.record);
  }
  persist(record: Uint8Array) {
    if (this.failPersist) return Promise.reject(new Error("disk gone"));
    this.record = record.slice();
    this.writes++;
    return Promise.resolve();
  }
  verify = (m: Uint8Array, s: Uint8Array) =>
    this.failVerify ? Promise.reject(new Error("keystored gone")) : this.verifier(m, s);
  publish(slot: SlotId) {
    if (this.failPublish) return Promise.reject(new Error("no route"));
    this.published.push(slot);
    return Promise.resolve();
  }
}

async function setup() {
  const backend = new FakeBackend();
  backend.verifier = localVerifier(await ed25519PublicKey(SEED));
  const lines: string[] = [];
  const u = new Updater(backend, (l) => lines.push(l));
  return { backend, lines, u };
}

function status(h: Handled, op: number): { status: number; body: number[] } {
  const r = decodeReply(h.reply, op);
  return { status: r.status, body: Array.from(r.body) };
}

async function goodSet(): Promise<Uint8Array> {
  return await buildSystemSet("2.0", [{ name: "sys", bytes: enc.encode("payload") }], SEED);
}

Deno.test("updater: load reports miss, ok and invalid", async () => {
  const { backend, lines, u } = await setup();
  assertEquals(await u.load(), "miss");
  backend.record = Uint8Array.of(1, 2, 0xff, 0xff, 0, 1);
  assertEquals(await u.load(), "ok");
  assertEquals(u.state.active, SLOT_B);
  backend.record = Uint8Array.of(9, 9);
  assertEquals(await u.load(), "invalid");
  assertEquals(lines[0], "updated: bootctl load miss");
  assert(lines[1].startsWith("updated: bootctl load ok"));
  assert(lines[2].startsWith("updated: bootctl load invalid"));
});

Deno.test("updater: stage, switch, health-ok persist after every transition", async () => {
  const { backend, u, lines } = await setup();
  await u.load();
  assertEquals(status(await u.handle(encodeStage(await goodSet())), UD_OP_STAGE), {
    status: UD_OK,
    body: [SLOT_B],
  });
  assertEquals(backend.writes, 1);
  assertEquals(decodeBootCtl(backend.record!).staged, SLOT_B);
  assertEquals(status(await u.handle(encodeSwitch(2)), UD_OP_SWITCH), {
    status: UD_OK,
    body: [SLOT_B],
  });
  assertEquals(backend.published, [SLOT_B]);
  assertEquals(Array.from(backend.record!), [1, 2, 2, 0xff, 2, 0]);
  assertEquals(status(await u.handle(encodeSimple(UD_OP_GET_STATUS)), UD_OP_GET_STATUS), {
    status: UD_OK,
    body: [2, 2, 2, 0],
  });
  assertEquals(
    status(await u.handle(encodeSimple(UD_OP_HEALTH_OK)), UD_OP_HEALTH_OK).status,
    UD_OK,
  );
  assertEquals(Array.from(backend.record!), [1, 2, 0xff, 0xff, 0, 1]);
  assertEquals(backend.writes, 3);
  assert(lines.includes("updated: slot b committed"));
});

Deno.test("updater: boot attempts count down, roll back, and publish after the reply", async () => {
  const { backend, u } = await setup();
  await u.handle(encodeStage(await goodSet()));
  await u.handle(encodeSwitch(2));
  let h = await u.handle(encodeSimple(UD_OP_BOOT_ATTEMPT));
  assertEquals(status(h, UD_OP_BOOT_ATTEMPT), { status: UD_OK, body: [0] });
  assertEquals(h.after, undefined);
  h = await u.handle(encodeSimple(UD_OP_BOOT_ATTEMPT));
  assertEquals(status(h, UD_OP_BOOT_ATTEMPT), { status: UD_OK, body: [SLOT_A] });
  assertEquals(backend.published, [SLOT_B]);
  assert(h.after);
  await h.after();
  assertEquals(backend.published, [SLOT_B, SLOT_A]);
  assertEquals(Array.from(backend.record!), [1, 1, 0xff, 0xff, 0, 1]);
  // Nothing pending: no write, no rollback.
  const writes = backend.writes;
  h = await u.handle(encodeSimple(UD_OP_BOOT_ATTEMPT));
  assertEquals(status(h, UD_OP_BOOT_ATTEMPT).body, [0]);
  assertEquals(backend.writes, writes);
});

Deno.test("updater: tampered sets are rejected with their reason and change nothing", async () => {
  const { backend, u, lines } = await setup();
  const set = await goodSet();
  const badDigest = set.slice();
  badDigest[badDigest.length - 1] ^= 1;
  assertEquals(status(await u.handle(encodeStage(badDigest)), UD_OP_STAGE), {
    status: UD_FAILED,
    body: [UD_REASON_DIGEST],
  });
  const foreign = await buildSystemSet(
    "2.0",
    [{ name: "sys", bytes: enc.encode("payload") }],
    new Uint8Array(32).fill(8),
  );
  assertEquals(status(await u.handle(encodeStage(foreign)), UD_OP_STAGE), {
    status: UD_FAILED,
    body: [UD_REASON_SIGNATURE],
  });
  assertEquals(backend.writes, 0);
  assertEquals(u.state.staged, null);
  assert(lines.includes("updated: stage rejected (digest)"));
  assert(lines.includes("updated: stage rejected (signature)"));
});

Deno.test("updater: refused transitions and backend failures", async () => {
  const { backend, u } = await setup();
  assertEquals(status(await u.handle(encodeSwitch(1)), UD_OP_SWITCH), {
    status: UD_FAILED,
    body: [UD_REASON_NOTHING_STAGED],
  });
  backend.failVerify = true;
  assertEquals(status(await u.handle(encodeStage(await goodSet())), UD_OP_STAGE).body, [
    UD_REASON_VERIFIER,
  ]);
  backend.failVerify = false;
  backend.failPersist = true;
  assertEquals(status(await u.handle(encodeStage(await goodSet())), UD_OP_STAGE).body, [
    UD_REASON_STORE,
  ]);
  assertEquals(u.state.staged, null);
  backend.failPersist = false;
  await u.handle(encodeStage(await goodSet()));
  backend.failPublish = true;
  assertEquals(status(await u.handle(encodeSwitch(1)), UD_OP_SWITCH).body, [UD_REASON_BUNDLEMGR]);
  // The record was put back: still staged, nothing pending.
  assertEquals(decodeBootCtl(backend.record!), u.state);
  assertEquals(u.state.pending, null);
  assertEquals(u.state.staged, SLOT_B);
  backend.failPublish = false;
  await u.handle(encodeSwitch(1));
  assertEquals(status(await u.handle(encodeStage(await goodSet())), UD_OP_STAGE).body, [
    UD_REASON_SWITCH_PENDING,
  ]);
  assertEquals(status(await u.handle(encodeSwitch(1)), UD_OP_SWITCH).body, [
    UD_REASON_SWITCH_PENDING,
  ]);
  assertEquals(status(await u.handle(Uint8Array.of(0x55, 0x44, 1)), 0).status, UD_MALFORMED);
  assertEquals(
    status(await u.handle(Uint8Array.of(0x55, 0x44, 2, 4)), UD_OP_GET_STATUS).status,
    UD_UNSUPPORTED,
  );
});

Deno.test("updater: a HEALTH_OK it cannot persist is a FAILED reply to HEALTH_OK", async () => {
  const { backend, u } = await setup();
  await u.handle(encodeStage(await goodSet()));
  await u.handle(encodeSwitch(1));
  backend.failPersist = true;
  // HEALTH_OK is a header-only frame: the reply still names its op.
  assertEquals(status(await u.handle(encodeSimple(UD_OP_HEALTH_OK)), UD_OP_HEALTH_OK), {
    status: UD_FAILED,
    body: [UD_REASON_STORE],
  });
  assertEquals(u.state.pending, SLOT_B);
});

Deno.test("updater: an error that is not a backend failure is not answered as FAILED", async () => {
  // Only a backend failure has a reason to send; anything else is a bug and reaches the caller.
  const backend = new FakeBackend();
  backend.verifier = localVerifier(await ed25519PublicKey(SEED));
  const u = new Updater(backend, (line) => {
    if (line.startsWith("updated: staged")) throw new Error("console gone");
  });
  await assertRejects(
    async () => await u.handle(encodeStage(await goodSet())),
    Error,
    "console gone",
  );
});
