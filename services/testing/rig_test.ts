import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { ByteReader, frameWriter } from "../../core/kernel/frame.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { ServiceModule } from "../../core/kernel/service.ts";
import { RIGHT_RECV, RIGHT_SEND, SLOT_CTRL_SEND, type Syscalls } from "../../core/kernel/types.ts";
import {
  findEndpoint,
  findService,
  parseManifest,
  requireLoadable,
  slotNumbers,
} from "../../init/mod.ts";
import logd from "../logd/main.ts";
import statefsd from "../statefsd/main.ts";
import { bootServices, defaultManifest, RigError, runService } from "./rig.ts";

const echo = {
  name: "echo",
  handler: (req: { data: Uint8Array }) => req.data.slice().reverse(),
};

function routeGet(name: string, nonce?: number): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  const w = frameWriter("RT", 1, 0x40).u8(bytes.length).bytes(bytes);
  if (nonce !== undefined) w.u32(nonce);
  return w.finish();
}

function routeReply(frame: Uint8Array) {
  const r = new ByteReader(frame);
  const head = r.bytes(4);
  return {
    op: head[3],
    status: r.u8(),
    send: r.u32(),
    recv: r.u32(),
    nonce: r.remaining === 4 ? r.u32() : undefined,
  };
}

Deno.test("rig: a client reaches a fake peer and routes through the stand-in init", async () => {
  let seen: Record<string, number> = {};
  const result = await bootServices({
    services: [echo],
    clients: [{
      name: "probe",
      body: async (sys, slots) => {
        seen = { ...slots };
        const reply = await call(sys, slots.echo, slots.reply, new Uint8Array([1, 2, 3]));
        assertEquals([...reply.data], [3, 2, 1]);
        assertEquals(reply.senderServiceId !== sys.serviceId, true);

        const ok = routeReply(
          (await call(sys, SLOT_CTRL_SEND, slots.reply, routeGet("echo", 7))).data,
        );
        assertEquals(ok, { op: 0x41, status: 0, send: slots.echo, recv: slots.reply, nonce: 7 });
        const self = routeReply(
          (await call(sys, SLOT_CTRL_SEND, slots.reply, routeGet("@reply"))).data,
        );
        assertEquals(self, {
          op: 0x41,
          status: 0,
          send: slots.reply,
          recv: slots.reply,
          nonce: undefined,
        });
        const missing = routeReply(
          (await call(sys, SLOT_CTRL_SEND, slots.reply, routeGet("nobody"))).data,
        );
        assertEquals(missing.status, 1);
        const bad = routeReply(
          (await call(sys, SLOT_CTRL_SEND, slots.reply, new Uint8Array([0x52, 0x54, 1]))).data,
        );
        assertEquals(bad.status, 2);
        const health = await call(
          sys,
          SLOT_CTRL_SEND,
          slots.reply,
          frameWriter("IH", 1, 1).finish(),
        );
        assertEquals([...health.data], [0x49, 0x48, 1, 0x81, 0]);
      },
    }],
  });
  assertEquals(result.routes, [
    { sender: "probe", name: "echo", status: 0 },
    { sender: "probe", name: "@reply", status: 0 },
    { sender: "probe", name: "nobody", status: 1 },
  ]);
  assertEquals(result.health, ["probe"]);
  assertEquals(result.slots.probe, seen);
  assert(seen.reply >= 3 && seen.echo >= 3 && seen.reply !== seen.echo);
});

Deno.test("rig: the stand-in init denies routes its policy hook refuses", async () => {
  const result = await bootServices({
    services: [echo],
    init: { allowRoute: (sender, name) => !(sender === "probe" && name === "echo") },
    clients: [{
      name: "probe",
      body: async (sys, slots) => {
        const r = routeReply((await call(sys, SLOT_CTRL_SEND, slots.reply, routeGet("echo"))).data);
        assertEquals(r, { op: 0x41, status: 3, send: 0, recv: 0, nonce: undefined });
      },
    }],
  });
  assertEquals(result.routes, [{ sender: "probe", name: "echo", status: 3 }]);
});

/** A manifest for the rig's own test modules, in the product's format. */
const TEST_MANIFEST = requireLoadable(parseManifest(
  `version = 1
[init.slots]
inbox = { slot = 4, rights = ["recv"], endpoint = "init" }

[[service]]
name = "needy"
module = "needy"
[service.slots]
inbox = { slot = 7, rights = ["recv"], endpoint = "needy" }
echo = { slot = 9, rights = ["send"], endpoint = "echo" }

[[service]]
name = "crashing"
module = "crashing"

[[endpoint]]
name = "init"
owner = "init"
depth = 8

[[endpoint]]
name = "needy"
owner = "needy"
depth = 4
`,
  "rig_test.toml",
));

const needy: ServiceModule = {
  name: "needy",
  requiredSlots: [
    { name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "requests" },
    { name: "echo", kind: "endpoint", rights: RIGHT_SEND, use: "peer", sync: true },
  ],
  main(sys, env) {
    const inbox = sys.capQuery(env.slots.inbox);
    const peer = sys.capQuery(env.slots.echo);
    sys.print(
      `inbox=${env.slots.inbox}:${inbox?.rights} echo=${env.slots.echo}:${peer?.endpoint?.ownerName}`,
    );
    return Promise.resolve();
  },
};

Deno.test("rig: wires a module at the manifest's slots, or where a test moves them on purpose", async () => {
  const manifest = TEST_MANIFEST;
  const wired = await bootServices({ manifest, services: [echo, { module: needy }] });
  assert(wired.lines.includes("inbox=7:2 echo=9:echo"), wired.lines.join("\n"));
  assertEquals(wired.slots.needy, { inbox: 7, echo: 9 });
  const moved = await bootServices({
    manifest,
    services: [echo, { module: needy, slots: { echo: 3 } }],
  });
  assert(moved.lines.includes("inbox=7:2 echo=3:echo"), moved.lines.join("\n"));
  const omitted = await bootServices({
    manifest,
    services: [echo, { module: needy, omit: ["echo"] }],
  });
  assert(omitted.lines.includes("inbox=7:2 echo=9:undefined"), omitted.lines.join("\n"));
  const weak = await bootServices({
    manifest,
    services: [echo, { module: needy, rights: { inbox: RIGHT_SEND | RIGHT_RECV } }],
  });
  assert(weak.lines.includes("inbox=7:3 echo=9:echo"), weak.lines.join("\n"));
  // Without the peer booted, the slot aimed at its endpoint stays empty.
  const alone = await bootServices({ manifest, services: [{ module: needy }] });
  assert(alone.lines.includes("inbox=7:2 echo=9:undefined"), alone.lines.join("\n"));
});

Deno.test("rig: product services get the product manifest's slots, numbers and targets", async () => {
  const m = await defaultManifest();
  const decl = findService(m, "statefsd")!;
  // statefsd's own needs, with a body that reports what it was handed.
  let seen: Record<string, number> = {};
  const caps = new Map<string, ReturnType<Syscalls["capQuery"]>>();
  const probe: ServiceModule = {
    ...statefsd,
    main(sys, env) {
      seen = { ...env.slots };
      for (const [name, slot] of Object.entries(env.slots)) caps.set(name, sys.capQuery(slot));
      return Promise.resolve();
    },
  };
  const result = await bootServices({ services: [{ module: logd }, { module: probe }] });
  assertEquals(seen, slotNumbers(decl.slots));
  assertEquals(result.slots.statefsd, seen);
  for (const d of decl.slots) {
    const cap = caps.get(d.name);
    if (d.name === "policyd") {
      assertEquals(cap, null, "policyd is not booted: its slot stays empty");
      continue;
    }
    assertEquals(cap?.rights, d.rights, d.name);
    if (d.target.kind === "mmio") assertEquals(cap?.mmio?.window, d.target.window);
    else assertEquals(cap?.endpoint?.ownerName, findEndpoint(m, d.target.endpoint)!.owner, d.name);
  }
  assertEquals(caps.get("logd")?.endpoint?.depth, findEndpoint(m, "logd")!.depth);
});

Deno.test("rig: refuses a module the manifest does not declare, or a slot it does not declare", async () => {
  await assertRejects(() => runService(needy), RigError, `declares no service "needy"`);
  const greedyLogd: ServiceModule = {
    ...logd,
    requiredSlots: [...logd.requiredSlots, {
      name: "extra",
      kind: "endpoint",
      rights: RIGHT_SEND,
      use: "a peer the manifest never wires",
    }],
  };
  await assertRejects(
    () => runService(greedyLogd),
    RigError,
    `declares no slot "extra" for logd, which requires it`,
  );
});

Deno.test("rig: a failing client fails the run with its message and the console", async () => {
  const err = await assertRejects(
    () =>
      runService(needy, {
        manifest: TEST_MANIFEST,
        peers: [echo],
        client: (sys) => {
          sys.print("about to fail");
          return Promise.reject(new Error("boom"));
        },
      }),
    RigError,
    "client client failed: boom",
  );
  assert(err.message.includes("about to fail"));
});

Deno.test("rig: a client that can never finish is reported as a deadlock", async () => {
  const err = await assertRejects(
    () =>
      bootServices({
        services: [echo],
        clients: [{ name: "stuck", body: async (sys, slots) => void await sys.recv(slots.reply) }],
      }),
    RigError,
    "clients did not finish",
  );
  assert(err.message.includes("stuck blocked on recv"), err.message);
});

Deno.test("rig: a panicking service fails the run unless panics are allowed", async () => {
  const crashing: ServiceModule = {
    name: "crashing",
    requiredSlots: [],
    main: () => Promise.reject(new Error("kaput")),
  };
  const manifest = TEST_MANIFEST;
  await assertRejects(() => runService(crashing, { manifest }), RigError, "panic: crashing: kaput");
  const result = await runService(crashing, { manifest, allowPanics: true });
  assert(result.lines.includes("panic: crashing: kaput"));
});

Deno.test("rig: refuses duplicate task names, unknown client peers and bad slot numbers", async () => {
  await assertRejects(
    () => bootServices({ services: [echo, { ...echo }] }),
    RigError,
    `two tasks named "echo"`,
  );
  await assertRejects(
    () => bootServices({ services: [echo], clients: [{ peers: ["nope"], body: async () => {} }] }),
    RigError,
    `unknown peer "nope"`,
  );
  await assertRejects(
    () =>
      bootServices({
        manifest: TEST_MANIFEST,
        services: [echo, { module: needy, slots: { inbox: 2 } }],
      }),
    RigError,
    "slot inbox = 2: must be 3..95",
  );
  await assertRejects(
    () =>
      bootServices({
        manifest: TEST_MANIFEST,
        services: [echo, { module: needy, slots: { inbox: 9 } }],
      }),
    RigError,
    "slot 9 given twice (inbox and echo of needy)",
  );
  await assertRejects(
    () =>
      bootServices({
        manifest: TEST_MANIFEST,
        services: [echo, { module: needy, slots: { nope: 9 } }],
      }),
    RigError,
    "slot nope: needy declares no such slot",
  );
  // Without the stand-in init a client may carry init's identity.
  const result = await bootServices({
    services: [echo],
    init: false,
    clients: [{
      name: "init",
      body: (sys) => Promise.resolve(assertEquals(sys.capQuery(SLOT_CTRL_SEND), null)),
    }],
  });
  assertEquals(result.pids.init, 2);
});
