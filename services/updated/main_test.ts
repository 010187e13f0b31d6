import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { Syscalls } from "../../core/kernel/types.ts";
import type { MemoryStore } from "../../core/virtio/store.ts";
import { bundlemgrd } from "../bundlemgrd/main.ts";
import { keystored } from "../keystored/main.ts";
import { ed25519PublicKey } from "../keystored/protocol.ts";
import { logd } from "../logd/main.ts";
import { rngd } from "../rngd/main.ts";
import { statefsd } from "../statefsd/main.ts";
import { diskOptions, fakePolicyd, makeDisk } from "../testing/statefs.ts";
import { bootServices, type InitOptions, type RigResult } from "../testing/rig.ts";
import { updated, UpdatedConfigError, updatePublicKey } from "./main.ts";
import {
  buildSystemSet,
  decodeReply,
  UD_DENIED,
  UD_MALFORMED,
  UD_UNSUPPORTED,
  UpdateClient,
  UpdatedError,
  type UpdateStatus,
} from "./protocol.ts";

const UPDATE_SEED = new Uint8Array(32).map((_, i) => 0x40 + i);
const enc = new TextEncoder();

async function release(label: string, seed = UPDATE_SEED): Promise<Uint8Array> {
  return await buildSystemSet(label, [
    { name: "kernel", bytes: enc.encode(`kernel ${label}`) },
    { name: "services", bytes: enc.encode(`services ${label}`) },
  ], seed);
}

/** What the default manifest grants: updated publishes slots, the client reports health. */
const GRANTS: Record<string, string[]> = {
  updated: ["statefs.boot", "statefs.boot.read", "bundle.set_active"],
  client: ["update.health", "update.boot_attempt"],
};

interface BootOpts {
  store?: MemoryStore;
  config?: Record<string, unknown>;
  init?: InitOptions;
  grants?: Record<string, string[]>;
}

async function boot(
  body: (ud: UpdateClient, sys: Syscalls, slots: Readonly<Record<string, number>>) => Promise<void>,
  opts: BootOpts = {},
): Promise<RigResult> {
  const config = opts.config ?? { update_pubkey: (await ed25519PublicKey(UPDATE_SEED)).toHex() };
  return bootServices({
    services: [
      { module: logd },
      fakePolicyd(opts.grants ?? GRANTS),
      { module: statefsd },
      { module: rngd },
      { module: keystored },
      { module: bundlemgrd },
      { module: updated, config },
    ],
    clients: [{
      name: "client",
      peers: ["updated", "bundlemgrd"],
      body: (sys, slots) => body(new UpdateClient(sys, slots.updated, slots.reply), sys, slots),
    }],
    init: opts.init,
    ...diskOptions(opts.store ?? makeDisk()),
  });
}

function st(active: number, pending: number, triesLeft: number, healthOk: boolean): UpdateStatus {
  return { active, pending, triesLeft, healthOk };
}

async function failure(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpdatedError) return err.reasonName ?? `status ${err.status}`;
    throw err;
  }
  return null;
}

Deno.test("updated: stage, switch, health, rollback, each published and persisted", async () => {
  const store = makeDisk();
  const r = await boot(async (ud) => {
    assertEquals(await ud.status(), st(1, 0, 0, true));
    assertEquals(await ud.stage(await release("2.0.0")), 2);
    assertEquals(await ud.switchTo(2), 2);
    assertEquals(await ud.status(), st(2, 2, 2, false));
    await ud.healthOk();
    assertEquals(await ud.status(), st(2, 0, 0, true));
    // Back to A with one try: one boot attempt without health rolls back to B.
    assertEquals(await ud.stage(await release("3.0.0")), 1);
    assertEquals(await ud.switchTo(1), 1);
    assertEquals(await ud.bootAttempt(), 2);
    assertEquals(await ud.status(), st(2, 0, 0, true));
    assertEquals(await ud.bootAttempt(), 0);
  }, { store });
  const lines = r.lines;
  assert(lines.includes("updated: bootctl load miss"));
  assert(lines.includes("updated: ready"));
  assert(lines.includes("slot-check: updated all 6 slots ok"));
  const order = [
    "updated: staged 2.0.0 into slot b",
    "bundlemgrd: slot b active",
    "updated: switched to slot b (tries 2)",
    "updated: slot b committed",
    "updated: staged 3.0.0 into slot a",
    "bundlemgrd: slot a active",
    "updated: rollback to slot b",
  ];
  let at = -1;
  for (const text of order) {
    const next = lines.indexOf(text, at + 1);
    assert(next > at, `"${text}" missing or out of order:\n${lines.join("\n")}`);
    at = next;
  }
  assertEquals(lines.filter((l) => l === "bundlemgrd: slot b active").length, 2);
  // bundlemgrd was found through init routing once, then the route was kept.
  assertEquals(r.routes, [{ sender: "updated", name: "bundlemgrd", status: 0 }]);

  const again = await boot(async (ud) => {
    assertEquals(await ud.status(), st(2, 0, 0, true));
  }, { store });
  assert(again.lines.includes("updated: bootctl load ok (active b, pending none, tries 0)"));
});

Deno.test("updated: a pending switch survives a restart and rolls back there", async () => {
  const store = makeDisk();
  await boot(async (ud) => {
    await ud.stage(await release("2.0.0"));
    await ud.switchTo(2);
  }, { store });
  const r = await boot(async (ud) => {
    assertEquals(await ud.status(), st(2, 2, 2, false));
    assertEquals(await ud.bootAttempt(), 0);
    assertEquals(await ud.bootAttempt(), 1);
    assertEquals(await ud.status(), st(1, 0, 0, true));
  }, { store });
  assert(r.lines.includes("updated: bootctl load ok (active b, pending b, tries 2)"));
  assert(r.lines.includes("bundlemgrd: slot a active"));
});

Deno.test("updated: tampered system-sets are rejected and change nothing", async () => {
  const r = await boot(async (ud) => {
    const good = await release("2.0.0");
    const digest = good.slice();
    digest[digest.length - 3] ^= 0x10;
    assertEquals(await failure(ud.stage(digest)), "digest");
    assertEquals(await failure(ud.stage(await release("2.0.0", new Uint8Array(32)))), "signature");
    const label = good.slice();
    label[12] ^= 1;
    assertEquals(await failure(ud.stage(label)), "signature");
    assertEquals(await failure(ud.stage(good.subarray(0, 8))), "format");
    assertEquals(await ud.status(), st(1, 0, 0, true));
    assertEquals(await failure(ud.switchTo(1)), "nothing-staged");
  });
  assert(r.lines.includes("updated: stage rejected (digest)"));
  assert(r.lines.includes("updated: stage rejected (signature)"));
  assert(!r.lines.some((l) => l.startsWith("updated: staged")));
});

Deno.test("updated: a denied route to bundlemgrd fails the switch and keeps the state", async () => {
  const r = await boot(async (ud) => {
    await ud.stage(await release("2.0.0"));
    assertEquals(await failure(ud.switchTo(3)), "bundlemgr");
    assertEquals(await ud.status(), st(1, 0, 0, true));
  }, { init: { allowRoute: (sender, name) => !(sender === "updated" && name === "bundlemgrd") } });
  // Both the start-up publication and the switch asked for the route and were refused.
  const denied = { sender: "updated", name: "bundlemgrd", status: 3 };
  assertEquals(r.routes, [denied, denied]);
  assert(r.lines.some((l) => l.startsWith("updated: publish active slot FAIL (")));
  assert(r.lines.includes("updated: ready"), "a refused publication does not stop serving");
  assert(!r.lines.some((l) => l.startsWith("bundlemgrd: slot")));
});

Deno.test("updated: publishes the loaded active slot to bundlemgrd before it serves", async () => {
  const r = await boot(async (ud) => {
    assertEquals((await ud.status()).active, 1);
  });
  const published = r.lines.indexOf("bundlemgrd: slot a active");
  assert(published >= 0, "slot a was not published at start");
  assert(published < r.lines.indexOf("updated: ready"), "published before updated: ready");
});

Deno.test("updated: malformed and unsupported frames", async () => {
  await boot(async (_ud, sys, slots) => {
    const ask = async (frame: Uint8Array, op: number) =>
      decodeReply((await call(sys, slots.updated, slots.reply, frame)).data, op).status;
    assertEquals(await ask(Uint8Array.of(0x55, 0x44, 1), 0), UD_MALFORMED);
    assertEquals(await ask(Uint8Array.of(0x55, 0x44, 1, 2, 0), 2), UD_MALFORMED);
    assertEquals(await ask(Uint8Array.of(0x55, 0x44, 1, 1, 9, 0, 0, 0, 1), 1), UD_MALFORMED);
    assertEquals(await ask(Uint8Array.of(0x55, 0x44, 2, 4), 4), UD_UNSUPPORTED);
    assertEquals(await ask(Uint8Array.of(0x55, 0x44, 1, 9), 9), UD_UNSUPPORTED);
  });
});

Deno.test("updated: without its key or its store it does not serve", async () => {
  const noKey = await boot(() => Promise.resolve(), { config: {} });
  assert(noKey.lines.includes("updated: FAIL config (update_pubkey must be a hex string)"));
  assert(!noKey.lines.includes("updated: ready"));
  const shortKey = await boot(() => Promise.resolve(), { config: { update_pubkey: "abcd" } });
  assert(
    shortKey.lines.some((l) => l.startsWith("updated: FAIL config (update_pubkey must be 32")),
  );
  // No statefs.boot grant: the bootctl record cannot be read.
  const noGrant = await boot(() => Promise.resolve(), { grants: {} });
  assert(
    noGrant.lines.some((l) => l.startsWith("statefsd: access denied path=/state/boot/bootctl.v1 ")),
  );
  assert(noGrant.lines.some((l) => l.startsWith("updated: bootctl load FAIL")));
  assert(!noGrant.lines.includes("updated: ready"));
});

Deno.test("updated: HEALTH_OK and BOOT_ATTEMPT from a sender without the grant are DENIED", async () => {
  const r = await boot(async (ud) => {
    await ud.stage(await release("2.0.0"));
    await ud.switchTo(2);
    const before = await ud.status();
    for (const op of [() => ud.healthOk(), () => ud.bootAttempt()]) {
      const err = await assertRejects(op, UpdatedError);
      assertEquals(err.status, UD_DENIED);
    }
    assertEquals(await ud.status(), before);
  }, { grants: { updated: GRANTS.updated } });
  assertEquals(
    r.lines.filter((l) => / denied sender=0x[0-9a-f]{16} \(no update\./.test(l)).length,
    2,
  );
  assert(!r.lines.includes("updated: slot b committed"));
});

Deno.test("updated: the update key must be 64 hex digits", () => {
  const good = "aB".repeat(32);
  assertEquals(updatePublicKey({ update_pubkey: good }), new Uint8Array(32).fill(0xab));
  for (const bad of ["abc", "zz".repeat(32), "0x" + "ab".repeat(31), "ab ".repeat(32)]) {
    assertThrows(() => updatePublicKey({ update_pubkey: bad }), UpdatedConfigError, "is not hex");
  }
  assertThrows(() => updatePublicKey({ update_pubkey: "" }), UpdatedConfigError, "must be 32");
  assertThrows(() => updatePublicKey({ update_pubkey: 7 }), UpdatedConfigError, "hex string");
});
