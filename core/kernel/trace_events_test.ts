import { assert, assertEquals } from "../../tests/assert.ts";
import { frameWriter } from "./frame.ts";
import { Kernel } from "./kernel.ts";
import { call, serve } from "./rpc.ts";
import { wire } from "./test_util.ts";
import type {
  BlockEvent,
  ConsoleEvent,
  IpcRecvEvent,
  IpcSendEvent,
  TaskEvent,
  TraceEvent,
} from "./trace_events.ts";

const request = () => frameWriter("SF", 1, 0x07).u32(42).finish();

Deno.test("trace: a call/reply pair is linked by message ids and labelled by magic and op", async () => {
  const events: TraceEvent[] = [];
  const k = new Kernel({ tracer: (e) => events.push(e) });
  const server = k.spawn("statefsd", (sys) =>
    serve(sys, 5, (req) => {
      const out = new Uint8Array(req.data);
      out[3] |= 0x80;
      return out;
    }));
  const client = k.spawn("keystored", async (sys) => {
    await call(sys, 6, 0, request());
    sys.print("done");
  });
  const ep = wire(k, server, 5, client, 6);
  await k.run();
  const sends = events.filter((e): e is IpcSendEvent => e.kind === "ipc-send");
  const recvs = events.filter((e): e is IpcRecvEvent => e.kind === "ipc-recv");
  assertEquals(sends.length, 2);
  assertEquals(recvs.length, 2);
  const [req, rep] = sends;
  assertEquals(
    [req.task, req.endpointId, req.owner, req.ownerPid, req.label, req.cap?.kind, req.inReplyTo],
    ["keystored", ep, "statefsd", server, "5346:07", "endpoint", undefined],
  );
  // The reply goes to the client's inbox (the moved cap's endpoint) and names the request.
  assertEquals(
    [rep.task, rep.endpointId, rep.owner, rep.label, rep.inReplyTo],
    ["statefsd", req.cap?.endpointId, "keystored", "5346:87", req.msg],
  );
  // Only a reply keeps its head bytes (the reader decodes its status); the request does not.
  assertEquals([req.head, rep.head], [undefined, "534601872a000000"]);
  assertEquals(recvs.map((r) => [r.msg, r.task, r.sender, r.inReplyTo]), [
    [req.msg, "statefsd", "keystored", undefined],
    [rep.msg, "keystored", "statefsd", req.msg],
  ]);
  // While it waited, the client's block event named the service it called, not its own inbox.
  const clientBlock = events.find((e): e is BlockEvent =>
    e.kind === "block" && e.pid === client && e.op === "recv"
  );
  assertEquals(clientBlock?.endpoint?.owner, "keystored");
  assertEquals(clientBlock?.calling, {
    msg: req.msg,
    endpointId: ep,
    ownerPid: server,
    owner: "statefsd",
    label: "5346:07",
  });
  const lines = events.filter((e): e is ConsoleEvent => e.kind === "console");
  assertEquals(lines.map((l) => [l.task, l.text]), [["keystored", "done"]]);
  const lifecycle = events.filter((e): e is TaskEvent => e.kind === "task");
  assertEquals(lifecycle.map((e) => `${e.task} ${e.event} ${e.code ?? "-"}`), [
    "statefsd spawn -",
    "keystored spawn -",
    "keystored return 0",
  ]);
  // Every event is JSON-safe (no bigint) and stamped with virtual time.
  for (const e of events) assert(typeof e.time === "number");
  JSON.stringify(events);
});

Deno.test("trace: a caller blocked on its inbox shows the callee in the task table; the answer clears it", async () => {
  const k = new Kernel();
  const server = k.spawn("updated", async (sys) => {
    const req = await sys.recv(5);
    await sys.sleep(1_000_000);
    await sys.send(req.capSlot!, new Uint8Array([0x55, 0x44, 1, 0x81]));
  });
  const client = k.spawn("selftest-client", async (sys) => {
    await call(sys, 6, 0, frameWriter("UD", 1, 0x01).finish());
    await sys.recv(0);
  });
  const ep = wire(k, server, 5, client, 6);
  assertEquals((await k.run({ maxSteps: 3 })).reason, "max-steps");
  const row = k.taskList().find((t) => t.pid === client)!;
  assertEquals(row.blockedOn?.peer, "selftest-client");
  assertEquals(row.blockedOn?.calling, {
    msg: 1,
    endpointId: ep,
    ownerPid: server,
    owner: "updated",
    label: "5544:01",
  });
  await k.run();
  const after = k.taskList().find((t) => t.pid === client)!;
  // Waiting on the inbox again after the reply came: no outstanding call any more.
  assertEquals(after.blockedOn?.op, "recv");
  assertEquals(after.blockedOn?.calling, undefined);
});

Deno.test("trace: a frame without a header has no label; a plain send is no reply", async () => {
  const events: TraceEvent[] = [];
  const k = new Kernel({ tracer: (e) => events.push(e) });
  const a = k.spawn("a", async (sys) => {
    await sys.recv(5);
  });
  const b = k.spawn("b", (sys) => sys.send(5, new Uint8Array([1, 2])));
  wire(k, a, 5, b, 5);
  await k.run();
  const send = events.find((e): e is IpcSendEvent => e.kind === "ipc-send")!;
  assertEquals([send.label, send.inReplyTo, send.cap], [undefined, undefined, undefined]);
});

Deno.test("trace: traceCounter records a sample at the current time and costs no time", async () => {
  const events: TraceEvent[] = [];
  const k = new Kernel({ tracer: (e) => events.push(e) });
  let before = -1;
  let after = -1;
  k.spawn("statefsd", (sys) => {
    before = sys.now();
    sys.traceCounter("statefs journal bytes", 23);
    sys.traceCounter("statefs journal bytes", 100);
    after = sys.now();
    return Promise.resolve();
  });
  await k.run();
  assertEquals(before, after);
  const samples = events.filter((e) => e.kind === "counter");
  assertEquals(
    samples.map((e) => e.kind === "counter" ? [e.task, e.name, e.value, e.time] : []),
    [["statefsd", "statefs journal bytes", 23, before], [
      "statefsd",
      "statefs journal bytes",
      100,
      before,
    ]],
  );
  // Not a syscall: the task's syscall events do not count it.
  assert(!events.some((e) => e.kind === "syscall" && e.op === "traceCounter"));
  // Without a tracer it does nothing (and does not throw).
  const quiet = new Kernel();
  quiet.spawn("a", (sys) => Promise.resolve(sys.traceCounter("x", 1)));
  await quiet.run();
});
