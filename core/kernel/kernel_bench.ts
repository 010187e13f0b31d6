import { Kernel } from "./kernel.ts";
import { call, serve } from "./rpc.ts";
import { RIGHT_RECV, RIGHT_SEND } from "./types.ts";

const ROUND_TRIPS = 2000;

Deno.bench(`kernel: ${ROUND_TRIPS} call/serve round trips`, async () => {
  const k = new Kernel();
  const server = k.spawn("server", (sys) => serve(sys, 5, (req) => req.data));
  const client = k.spawn("client", async (sys) => {
    const frame = new Uint8Array(64);
    for (let i = 0; i < ROUND_TRIPS; i++) await call(sys, 6, 0, frame);
  });
  const ep = k.createEndpoint(server, 8);
  k.placeCap(server, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
  k.placeCap(client, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  const res = await k.run();
  if (res.reason !== "idle") throw new Error(`unexpected end: ${res.reason}`);
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

Deno.bench("kernel: 20000 non-blocking syscalls in one task", async () => {
  const k = new Kernel();
  k.spawn("poller", async (sys) => {
    for (let i = 0; i < 20000; i++) {
      await sys.recv(0, { nonblock: true }).catch(() => {});
    }
  });
  await k.run();
});
