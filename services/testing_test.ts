import { assert, assertEquals, assertRejects } from "../tests/assert.ts";
import { ByteReader, frameWriter } from "../core/kernel/frame.ts";
import { call } from "../core/kernel/rpc.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
import { RIGHT_RECV, RIGHT_SEND, SLOT_CTRL_SEND } from "../core/kernel/types.ts";
import { bootServices, HarnessError, runService } from "./testing.ts";

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

Deno.test("harness: a client reaches a fake peer and routes through the stand-in init", async () => {
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

Deno.test("harness: the stand-in init denies routes its policy hook refuses", async () => {
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

Deno.test("harness: wires a module's needs at the given or assigned slots", async () => {
  const auto = await bootServices({ services: [echo, { module: needy }] });
  assert(auto.lines.includes("inbox=3:2 echo=4:echo"), auto.lines.join("\n"));
  const fixed = await bootServices({ services: [echo, { module: needy, slots: { echo: 3 } }] });
  assert(fixed.lines.includes("inbox=4:2 echo=3:echo"), fixed.lines.join("\n"));
  const omitted = await bootServices({ services: [echo, { module: needy, omit: ["echo"] }] });
  assert(omitted.lines.includes("inbox=3:2 echo=4:undefined"), omitted.lines.join("\n"));
  const weak = await bootServices({
    services: [echo, { module: needy, rights: { inbox: RIGHT_SEND | RIGHT_RECV } }],
  });
  assert(weak.lines.includes("inbox=3:3 echo=4:echo"), weak.lines.join("\n"));
});

Deno.test("harness: a failing client fails the run with its message and the console", async () => {
  const err = await assertRejects(
    () =>
      runService(needy, {
        peers: [echo],
        client: (sys) => {
          sys.print("about to fail");
          return Promise.reject(new Error("boom"));
        },
      }),
    HarnessError,
    "client client failed: boom",
  );
  assert(err.message.includes("about to fail"));
});

Deno.test("harness: a client that can never finish is reported as a deadlock", async () => {
  const err = await assertRejects(
    () =>
      bootServices({
        services: [echo],
        clients: [{ name: "stuck", body: async (sys, slots) => void await sys.recv(slots.reply) }],
      }),
    HarnessError,
    "clients did not finish",
  );
  assert(err.message.includes("stuck blocked on recv"), err.message);
});

Deno.test("harness: a panicking service fails the run unless panics are allowed", async () => {
  const crashing: ServiceModule = {
    name: "crashing",
    requiredSlots: [],
    main: () => Promise.reject(new Error("kaput")),
  };
  await assertRejects(() => runService(crashing), HarnessError, "panic: crashing: kaput");
  const result = await runService(crashing, { allowPanics: true });
  assert(result.lines.includes("panic: crashing: kaput"));
});

Deno.test("harness: refuses duplicate task names, unknown client peers and bad slot numbers", async () => {
  await assertRejects(
    () => bootServices({ services: [echo, { ...echo }] }),
    HarnessError,
    `two tasks named "echo"`,
  );
  await assertRejects(
    () => bootServices({ services: [echo], clients: [{ peers: ["nope"], body: async () => {} }] }),
    HarnessError,
    `unknown peer "nope"`,
  );
  await assertRejects(
    () => bootServices({ services: [echo, { module: needy, slots: { inbox: 2 } }] }),
    HarnessError,
    "slot inbox = 2: must be 3..95",
  );
  await assertRejects(
    () => bootServices({ services: [echo, { module: needy, slots: { inbox: 5, echo: 5 } }] }),
    HarnessError,
    "slot 5 given twice (echo)",
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
