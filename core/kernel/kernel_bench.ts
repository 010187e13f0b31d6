/**
 * Kernel benchmarks. Each group names its comparison as the baseline, so `deno bench` prints the
 * ratio measured in the same run:
 *
 * - "round trip": a call/serve round trip through the kernel against a promise ping-pong (two
 *   async functions handing a frame back and forth, the floor of any async hand-off), and the
 *   same `call`/`serve` code over two bare mailboxes with no kernel behind them: what the
 *   idiom's own awaits cost, the floor of any kernel that keeps this syscall surface;
 * - "tasks": the same round trips with 1,000 tasks against 10 (all but two blocked with a
 *   deadline), which shows what a step costs per task in the system;
 * - "failed non-blocking syscall": a recv with NONBLOCK on an empty endpoint (WOULD_BLOCK)
 *   against awaiting a promise that is already rejected, the floor of any call that fails.
 *
 * @module
 */

import { Kernel } from "./kernel.ts";
import { call, serve } from "./rpc.ts";
import { KernelError, type Message, RIGHT_RECV, RIGHT_SEND, type Syscalls } from "./types.ts";

const ROUND_TRIPS = 2000;
const NONBLOCK_CALLS = 20000;
const FRAME = new Uint8Array(64);

/** A one-slot channel between two async functions. */
class Channel<T> {
  #waiter?: (v: T) => void;
  #queue: T[] = [];

  send(v: T): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w(v);
    } else this.#queue.push(v);
  }

  recv(): Promise<T> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    return new Promise<T>((resolve) => (this.#waiter = resolve));
  }
}

async function promisePingPong(n: number): Promise<void> {
  const toServer = new Channel<Uint8Array | null>();
  const toClient = new Channel<Uint8Array>();
  const server = (async () => {
    for (;;) {
      const req = await toServer.recv();
      if (req === null) return;
      toClient.send(req);
    }
  })();
  for (let i = 0; i < n; i++) {
    toServer.send(FRAME);
    await toClient.recv();
  }
  toServer.send(null);
  await server;
}

/**
 * `n` round trips of the real `call`/`serve` over two mailboxes with no kernel: send hands the
 * frame over, recv awaits it, caps are plain numbers, nothing is checked, copied or scheduled.
 */
async function bareRoundTrips(n: number): Promise<void> {
  const endpoint = new Channel<Message | null>();
  const inbox = new Channel<Message>();
  const sent: Promise<undefined> = Promise.resolve(undefined);
  const closed = new KernelError("CLOSED", "the bench is over");
  // Only the calls `call`, `reply` and `serve` make; the reply cap is slot 9 on the server side.
  const bare = (toServer: boolean): Syscalls => ({
    capDerive: () => 9,
    capQuery: () => null,
    capClose: () => {},
    send: (_slot: number, data: Uint8Array) => {
      const msg = { data, truncated: false, senderPid: 1, senderServiceId: 0n };
      if (toServer) endpoint.send({ ...msg, capSlot: 9 });
      else inbox.send(msg);
      return sent;
    },
    recv: toServer
      ? () => inbox.recv()
      : () => endpoint.recv().then((m) => m ?? Promise.reject(closed)),
  } as unknown as Syscalls);
  const client = bare(true);
  const server = serve(bare(false), 5, (req) => req.data);
  for (let i = 0; i < n; i++) await call(client, 6, 0, FRAME);
  endpoint.send(null);
  await server;
}

/** A kernel with a server and `idle` tasks asleep until far in the future, built once per size. */
interface World {
  kernel: Kernel;
  endpoint: number;
}

const worlds = new Map<number, Promise<World>>();

function world(idle: number): Promise<World> {
  let w = worlds.get(idle);
  if (!w) {
    w = (async () => {
      const kernel = new Kernel();
      for (let t = 0; t < idle; t++) kernel.spawn(`idle${t}`, (sys) => sys.sleep(1e15));
      const server = kernel.spawn("server", (sys) => serve(sys, 5, (req) => req.data));
      const endpoint = kernel.createEndpoint(server, 8);
      kernel.placeCap(server, 5, { kind: "endpoint", endpointId: endpoint, rights: RIGHT_RECV });
      await kernel.run({ maxSteps: idle + 1 });
      return { kernel, endpoint };
    })();
    worlds.set(idle, w);
  }
  return w;
}

/**
 * `n` call/serve round trips by a new client in a kernel where `idle` other tasks each hold a
 * pending deadline. The kernel is built once per size, so only the round trips are timed.
 */
async function kernelRoundTrips(b: Deno.BenchContext, n: number, idle: number): Promise<void> {
  const { kernel, endpoint } = await world(idle);
  let done = false;
  const client = kernel.spawn("client", async (sys) => {
    for (let i = 0; i < n; i++) await call(sys, 6, 0, FRAME);
    done = true;
  });
  kernel.placeCap(client, 6, { kind: "endpoint", endpointId: endpoint, rights: RIGHT_SEND });
  b.start();
  const res = await kernel.run({ shouldStop: () => done });
  b.end();
  if (!done) throw new Error(`unexpected end: ${res.reason}`);
}

Deno.bench({
  name: `promise ping-pong x${ROUND_TRIPS}`,
  group: "round trip",
  baseline: true,
  fn: async () => await promisePingPong(ROUND_TRIPS),
});

Deno.bench({
  name: `call/serve over bare mailboxes, no kernel x${ROUND_TRIPS}`,
  group: "round trip",
  fn: async () => await bareRoundTrips(ROUND_TRIPS),
});

Deno.bench({
  name: `kernel call/serve round trip x${ROUND_TRIPS}`,
  group: "round trip",
  fn: async (b) => await kernelRoundTrips(b, ROUND_TRIPS, 0),
});

Deno.bench({
  name: `round trips x${ROUND_TRIPS}, 10 tasks`,
  group: "tasks",
  baseline: true,
  fn: async (b) => await kernelRoundTrips(b, ROUND_TRIPS, 8),
});

Deno.bench({
  name: `round trips x${ROUND_TRIPS}, 1,000 tasks`,
  group: "tasks",
  fn: async (b) => await kernelRoundTrips(b, ROUND_TRIPS, 998),
});

Deno.bench("kernel: 10 tasks x 1000 yields", async () => {
  const k = new Kernel();
  for (let t = 0; t < 10; t++) {
    k.spawn(`t${t}`, async (sys) => {
      for (let i = 0; i < 1000; i++) await sys.yield();
    });
  }
  const res = await k.run();
  if (res.reason !== "all-exited") throw new Error(`unexpected end: ${res.reason}`);
});

/** The floor of a failing call: `n` awaits of a promise rejected at once, each caught. */
async function rejectedAwaits(n: number): Promise<void> {
  const err = new Error("would block");
  for (let i = 0; i < n; i++) await Promise.reject(err).catch(() => {});
}

Deno.bench({
  name: `rejected promise awaited x${NONBLOCK_CALLS}`,
  group: "failed non-blocking syscall",
  baseline: true,
  fn: async () => await rejectedAwaits(NONBLOCK_CALLS),
});

Deno.bench({
  name: `non-blocking recv on an empty endpoint x${NONBLOCK_CALLS}`,
  group: "failed non-blocking syscall",
  fn: async () => {
    const k = new Kernel();
    k.spawn("poller", async (sys) => {
      for (let i = 0; i < NONBLOCK_CALLS; i++) {
        await sys.recv(0, { nonblock: true }).catch(() => {});
      }
    });
    await k.run();
  },
});
