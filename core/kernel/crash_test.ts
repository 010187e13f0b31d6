/**
 * Injected crashes (crash.ts) and what a caller of a dead task gets (ipc.ts): CLOSED, whether its
 * request still sat in the dead task's queue, was received and never answered, or the caller
 * only asks for the answer after the death; never a wait that cannot end.
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { assertEquals } from "../../tests/assert.ts";
import { CrashPoint, Kernel, KILLED_EXIT_CODE } from "./kernel.ts";
import { call, serve } from "./rpc.ts";
import { bytes, outcome, text, wire } from "./test_util.ts";
import { RIGHT_RECV, RIGHT_SEND, type Syscalls } from "./types.ts";

/** A server answering "pong" on slot 5, a client calling it through slot 6 with its inbox at 7. */
function pingPong(k: Kernel, r: Record<string, unknown>, calls = 3) {
  const server = k.spawn("server", (sys) => serve(sys, 5, () => bytes("pong")));
  const client = k.spawn("client", async (sys) => {
    const got: string[] = [];
    for (let i = 0; i < calls; i++) {
      try {
        got.push(text((await call(sys, 6, 7, bytes(`ping${i}`))).data));
      } catch (err) {
        got.push(String((err as Error & { code?: string }).code));
      }
    }
    r.got = got;
  });
  wire(k, server, 5, client, 6);
  const inbox = k.createEndpoint(client, 4);
  k.placeCap(client, 7, {
    kind: "endpoint",
    endpointId: inbox,
    rights: RIGHT_SEND | RIGHT_RECV,
  });
  return { server, client };
}

Deno.test("crash point: counts each task's blocking syscalls, not its synchronous ones", async () => {
  const count = new CrashPoint();
  const k = new Kernel({ crash: count });
  k.spawn("a", async (sys) => {
    sys.print("not counted");
    await sys.sleep(5);
    await sys.yield();
    sys.capQuery(0);
  });
  const r: Record<string, unknown> = {};
  pingPong(k, r, 2);
  await k.run();
  assertEquals(count.calls.get("a"), 2);
  // Each call: the client's send and recv; the server's recv per request and its replies' sends,
  // then its last recv, which parks for good.
  assertEquals(count.calls.get("client"), 4);
  assertEquals(count.calls.get("server"), 5);
  assertEquals(count.fired, undefined);
  assertEquals(r.got, ["pong", "pong"]);
});

Deno.test("crash point: the target dies entering its N-th blocking syscall, which never happens", async () => {
  const crash = new CrashPoint({ task: "sender", syscall: 2 });
  const k = new Kernel({ crash });
  const r: Record<string, unknown> = { sent: [] as string[] };
  const sender = k.spawn("sender", async (sys) => {
    await sys.send(5, bytes("one"));
    await sys.send(5, bytes("two")); // the crash: not queued
    r.after = true;
  });
  const rx = k.spawn("rx", async (sys) => {
    for (;;) {
      const m = await outcome(
        sys.recv(5, { deadline: sys.now() + 1_000_000 }).then((m) => {
          (r.sent as string[]).push(text(m.data));
        }),
      );
      if (m !== "ok") return;
    }
  });
  wire(k, rx, 5, sender, 5);
  await k.run();
  assertEquals(crash.fired, "send");
  assertEquals(crash.calls.get("sender"), 2);
  assertEquals(r.sent, ["one"]);
  assertEquals(r.after, undefined);
  const row = k.taskList().find((t) => t.name === "sender")!;
  assertEquals([row.state, row.exitCode], ["exited", KILLED_EXIT_CODE]);
  const lines = k.console.lines().map((l) => l.text);
  assertEquals(lines, [
    "panic: sender: killed by an injected crash entering its blocking syscall 2 (send)",
  ]);
});

Deno.test("crash point: a task that makes fewer calls is never struck; other tasks are not", async () => {
  const crash = new CrashPoint({ task: "a", syscall: 4 });
  const k = new Kernel({ crash });
  const r: Record<string, unknown> = {};
  k.spawn("a", async (sys) => {
    await sys.sleep(1);
    await sys.sleep(1);
    r.a = "done";
  });
  k.spawn("b", async (sys) => {
    for (let i = 0; i < 6; i++) await sys.sleep(1);
    r.b = "done";
  });
  await k.run();
  assertEquals([r.a, r.b, crash.fired], ["done", "done", undefined]);
});

Deno.test("dead server: a request still queued on its endpoint is answered with CLOSED", async () => {
  // The server dies entering its first recv: the client's request stays in the closed queue.
  const crash = new CrashPoint({ task: "server", syscall: 1 });
  const k = new Kernel({ crash });
  const r: Record<string, unknown> = {};
  pingPong(k, r, 2);
  await k.run();
  assertEquals(crash.fired, "recv");
  assertEquals(r.got, ["CLOSED", "CLOSED"]);
});

Deno.test("dead server: a request it received and never answered is answered with CLOSED", async () => {
  // Server calls: recv (1), send reply (2), recv (3), send reply (4): it dies holding request 2.
  const crash = new CrashPoint({ task: "server", syscall: 4 });
  const k = new Kernel({ crash });
  const r: Record<string, unknown> = {};
  pingPong(k, r, 3);
  const result = await k.run();
  assertEquals(crash.fired, "send");
  assertEquals(r.got, ["pong", "CLOSED", "CLOSED"]);
  // Nothing is left waiting on the dead server: the run ends with every task done.
  assertEquals(result.reason, "all-exited");
});

Deno.test("dead server: a caller that asks for its answer only after the death gets CLOSED at once", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const server = k.spawn("server", async (sys) => {
    await sys.recv(5);
    await sys.exit(1); // holds the request and its reply cap, then goes
  });
  const client = k.spawn("client", async (sys) => {
    const reply = sys.capDerive(7, RIGHT_SEND);
    await sys.send(6, bytes("q"), { moveCap: reply });
    await sys.sleep(1_000_000); // the server dies meanwhile
    r.recv = await outcome(sys.recv(7));
    r.nonblock = await outcome(sys.recv(7, { nonblock: true }));
  });
  wire(k, server, 5, client, 6);
  const inbox = k.createEndpoint(client, 4);
  k.placeCap(client, 7, { kind: "endpoint", endpointId: inbox, rights: RIGHT_SEND | RIGHT_RECV });
  await k.run();
  assertEquals([r.recv, r.nonblock], ["CLOSED", "CLOSED"]);
});

Deno.test("dead server: an answer it sent before dying is still delivered, and the next recv waits normally", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const server = k.spawn("server", async (sys) => {
    const m = await sys.recv(5);
    await sys.send(m.capSlot!, bytes("answer"));
    await sys.exit(1);
  });
  const client = k.spawn("client", async (sys) => {
    const reply = sys.capDerive(7, RIGHT_SEND);
    await sys.send(6, bytes("q"), { moveCap: reply });
    await sys.sleep(1_000_000);
    r.answer = text((await sys.recv(7)).data);
    // The call was answered: a later wait on the inbox is an ordinary one (a deadline ends it).
    r.later = await outcome(sys.recv(7, { deadline: sys.now() + 1000 }));
  });
  wire(k, server, 5, client, 6);
  const inbox = k.createEndpoint(client, 4);
  k.placeCap(client, 7, { kind: "endpoint", endpointId: inbox, rights: RIGHT_SEND | RIGHT_RECV });
  await k.run();
  assertEquals([r.answer, r.later], ["answer", "TIMED_OUT"]);
});

Deno.test("crash point: the same plan gives the same console twice", async () => {
  const once = async () => {
    const k = new Kernel({ crash: new CrashPoint({ task: "server", syscall: 4 }) });
    pingPong(k, {}, 3);
    await k.run();
    return k.console.lines().map((l) => `${l.time} ${l.text}`);
  };
  assertEquals(await once(), await once());
});

/** Runs `gc()` (V8's, exposed for this process) after the current job, so WeakRefs can clear. */
async function collect(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
}

Deno.test("a task that died or exited inside a syscall is collected with its kernel", async () => {
  // A campaign worker boots thousands of kernels; one whose dead tasks stay reachable keeps its
  // guest memory and disk for the life of the process.
  const held: WeakRef<Uint8Array>[] = [];
  await (async () => {
    const k = new Kernel({ crash: new CrashPoint({ task: "victim", syscall: 1 }) });
    const spawnHolding = (
      name: string,
      body: (sys: Syscalls) => Promise<unknown>,
    ) => {
      const big = new Uint8Array(1 << 20);
      held.push(new WeakRef(big));
      k.spawn(name, async (sys) => {
        await body(sys);
        big[0] = 1; // never reached: keeps `big` in the frame that awaits forever
      });
    };
    spawnHolding("victim", (sys) => sys.sleep(5)); // killed entering the sleep
    spawnHolding("quitter", (sys) => sys.exit(0)); // awaits its own exit
    spawnHolding("late", async (sys) => {
      await sys.sleep(1);
      await sys.exit(0);
    });
    await k.run();
    assertEquals(k.taskList().map((t) => t.state), ["exited", "exited", "exited"]);
  })();
  await collect();
  assertEquals(held.map((r) => r.deref() === undefined), [true, true, true]);
});
