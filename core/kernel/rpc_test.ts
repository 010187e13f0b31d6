import { assertEquals } from "../../tests/assert.ts";
import { fnv1a64 } from "./fnv.ts";
import { Kernel } from "./kernel.ts";
import { call, reply, serve } from "./rpc.ts";
import { bytes, outcome, text, wire } from "./test_util.ts";
import { CAP_SLOTS, type Message, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "./types.ts";

/** Number of occupied slots: a leaked reply cap shows up here. */
function capCount(sys: Syscalls): number {
  let n = 0;
  for (let i = 0; i < CAP_SLOTS; i++) if (sys.capQuery(i) !== null) n++;
  return n;
}

const upper = (req: Message) => bytes(text(req.data).toUpperCase());

Deno.test("rpc: call/serve round trip; no cap left behind on either side", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const server = k.spawn("echo", async (sys) => {
    const counts: number[] = [];
    r.serverCaps = counts;
    await serve(sys, 5, (req) => {
      r.requester = req.senderServiceId;
      counts.push(capCount(sys));
      return upper(req);
    });
  });
  const client = k.spawn("client", async (sys) => {
    const before = capCount(sys);
    const got: string[] = [];
    for (const word of ["ping", "pong", "x"]) {
      const m = await call(sys, 6, 0, bytes(word));
      got.push(text(m.data));
      r.replier = m.senderServiceId;
    }
    r.got = got;
    r.clientCapsAfter = capCount(sys) - before;
  });
  wire(k, server, 5, client, 6);
  assertEquals((await k.run()).reason, "idle");
  assertEquals(r.got, ["PING", "PONG", "X"]);
  assertEquals(r.requester, fnv1a64("client"));
  assertEquals(r.replier, fnv1a64("echo"));
  assertEquals(r.clientCapsAfter, 0);
  // Each request finds the same table: the previous reply cap was closed.
  assertEquals(r.serverCaps, [3, 3, 3]);
  // The server is still serving, blocked in recv.
  assertEquals(k.taskList()[0].blockedOn?.op, "recv");
});

Deno.test("rpc: an Answer's after-work runs once its reply is out, before the next request", async () => {
  const k = new Kernel();
  const events: string[] = [];
  const server = k.spawn("echo", async (sys) => {
    await serve(sys, 5, (req) => {
      const word = text(req.data);
      events.push(`handle ${word}`);
      return {
        reply: upper(req),
        after: async () => {
          // A blocking syscall inside the after-work: the client runs and sees the reply first.
          await sys.yield();
          events.push(`after ${word}`);
        },
      };
    });
  });
  const client = k.spawn("client", async (sys) => {
    for (const word of ["a", "b"]) {
      const m = await call(sys, 6, 0, bytes(word));
      events.push(`got ${text(m.data)}`);
    }
  });
  wire(k, server, 5, client, 6);
  assertEquals((await k.run()).reason, "idle");
  assertEquals(events, ["handle a", "got A", "after a", "handle b", "got B", "after b"]);
});

Deno.test("rpc: a refused send (timeout on a full queue, closed endpoint) leaks no reply cap", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const sleeper = k.spawn("sleeper", async (sys) => {
    await sys.sleep(10_000_000);
  });
  const gone = k.spawn("gone", async () => {});
  const client = k.spawn("client", async (sys) => {
    await sys.send(6, bytes("fill"));
    const before = capCount(sys);
    r.timeout = await outcome(call(sys, 6, 0, bytes("req"), { deadline: sys.now() + 100_000 }));
    r.afterTimeout = capCount(sys) - before;
    r.closed = await outcome(call(sys, 7, 0, bytes("req")));
    r.afterClosed = capCount(sys) - before;
    r.queued = sys.capQuery(6)!.endpoint!.queued;
  });
  wire(k, sleeper, 5, client, 6, 1);
  const e = k.createEndpoint(gone, 1);
  k.placeCap(client, 7, { kind: "endpoint", endpointId: e, rights: RIGHT_SEND });
  await k.run();
  assertEquals(r.timeout, "TIMED_OUT");
  assertEquals(r.afterTimeout, 0);
  assertEquals(r.closed, "CLOSED");
  assertEquals(r.afterClosed, 0);
  assertEquals(r.queued, 1);
});

Deno.test("rpc: match skips stale replies; a reply's stray cap is closed; no reply times out", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const server = k.spawn("server", async (sys) => {
    const req = await sys.recv(5);
    // A stale frame first, carrying a cap the client must not keep, then the real answer.
    await sys.send(req.capSlot!, bytes("stale"), { moveCap: sys.capDerive(0, RIGHT_SEND) });
    await sys.send(req.capSlot!, bytes(`re:${text(req.data)}`));
    sys.capClose(req.capSlot!);
    // The second request gets no reply at all.
    const silent = await sys.recv(5);
    await reply(sys, silent, null);
    r.serverCapClosed = sys.capQuery(silent.capSlot!) === null;
    // Alive past the client's deadline: a server that exits would answer the wait with CLOSED.
    await sys.sleep(100_000);
  });
  const client = k.spawn("client", async (sys) => {
    const before = capCount(sys);
    const m = await call(sys, 6, 0, bytes("q1"), { match: (x) => text(x.data).startsWith("re:") });
    r.matched = text(m.data);
    r.afterMatch = capCount(sys) - before;
    r.silent = await outcome(call(sys, 6, 0, bytes("q2"), { deadline: sys.now() + 50_000 }));
    r.afterSilent = capCount(sys) - before;
  });
  wire(k, server, 5, client, 6);
  await k.run();
  assertEquals(r.matched, "re:q1");
  assertEquals(r.afterMatch, 0);
  assertEquals(r.silent, "TIMED_OUT");
  assertEquals(r.afterSilent, 0);
  assertEquals(r.serverCapClosed, true);
});

Deno.test("rpc: a client whose inbox is full cannot block the server", async () => {
  const k = new Kernel();
  const served: string[] = [];
  const r: Record<string, unknown> = {};
  const server = k.spawn("server", async (sys) => {
    await serve(sys, 5, (req) => {
      served.push(text(req.data));
      return upper(req);
    });
    r.serverReturned = true;
  });
  const rude = k.spawn("rude", async (sys) => {
    // Fill our own inbox (depth 1), then ask: the reply cannot be queued and is dropped.
    const inbox = sys.capClone(7);
    await sys.send(inbox, bytes("clog"));
    await sys.send(6, bytes("a"), { moveCap: sys.capDerive(7, RIGHT_SEND) });
    await sys.sleep(1_000_000);
    r.rudeInbox = text((await sys.recv(7)).data);
    r.rudeMore = await outcome(sys.recv(7, { nonblock: true }));
  });
  const polite = k.spawn("polite", async (sys) => {
    await sys.sleep(500_000);
    r.polite = text((await call(sys, 6, 0, bytes("b"))).data);
  });
  const ep = k.createEndpoint(server, 4);
  k.placeCap(server, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
  k.placeCap(rude, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  k.placeCap(polite, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  const inbox = k.createEndpoint(rude, 1);
  k.placeCap(rude, 7, {
    kind: "endpoint",
    endpointId: inbox,
    rights: RIGHT_SEND | RIGHT_RECV,
  });
  await k.run();
  assertEquals(served, ["a", "b"]);
  assertEquals(r.polite, "B");
  assertEquals(r.rudeInbox, "clog");
  assertEquals(r.rudeMore, "WOULD_BLOCK");
  assertEquals(r.serverReturned, undefined);
  // The reply cap of the dropped answer was closed too: the server keeps its own two caps.
  assertEquals(k.capTable(server).map((c) => c.slot), [0, 5]);
});

Deno.test("rpc: serve returns when its endpoint closes; a request without a reply cap is answered by nobody", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const owner = k.spawn("owner", async (sys) => {
    await sys.sleep(1_000_000);
  });
  const server = k.spawn("server", async (sys) => {
    let n = 0;
    await serve(sys, 5, () => {
      n++;
      return bytes("unused");
    });
    r.served = n;
    r.returnedAt = sys.now();
  });
  const client = k.spawn("client", async (sys) => {
    await sys.send(6, bytes("no reply cap"));
    r.inbox = await outcome(sys.recv(0, { nonblock: true }));
  });
  const ep = k.createEndpoint(owner, 2);
  k.placeCap(server, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
  k.placeCap(client, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  assertEquals((await k.run()).reason, "all-exited");
  assertEquals(r.served, 1);
  assertEquals(r.inbox, "WOULD_BLOCK");
  assertEquals(r.returnedAt, 1_000_000 + 1000);
});
