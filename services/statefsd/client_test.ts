import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { bootServices, type FakePeer } from "../testing/rig.ts";
import {
  decodeRequest,
  SF_OK,
  SF_V1,
  SF_V2,
  StatefsClient,
  type StatefsClientOptions,
  StatefsdError,
} from "./protocol.ts";

/** A stand-in statefsd answering OK, with `extra` bytes after the status; it keeps every request. */
function fakeStatefsd(seen: Uint8Array[], extra = 0): FakePeer {
  return {
    name: "statefsd",
    handler: (req) => {
      seen.push(req.data);
      const d = decodeRequest(req.data);
      if (d.kind !== "request") throw new Error(`unexpected request ${req.data.toHex()}`);
      const head = d.version === SF_V2 ? 13 : 5;
      const reply = new Uint8Array(head + extra);
      reply.set(req.data.subarray(0, head === 13 ? 12 : 4));
      reply[3] |= 0x80;
      reply[head - 1] = SF_OK;
      return reply;
    },
  };
}

async function withClient(
  peer: FakePeer,
  opts: StatefsClientOptions,
  body: (sf: StatefsClient) => Promise<void>,
): Promise<void> {
  await bootServices({
    services: [peer],
    clients: [{
      body: (sys, slots) => body(new StatefsClient(sys, slots.statefsd, slots.reply, opts)),
    }],
  });
}

Deno.test("statefs client: a v1 client sends v1 frames, without a nonce", async () => {
  const seen: Uint8Array[] = [];
  await withClient(fakeStatefsd(seen), { version: SF_V1 }, async (sf) => {
    await sf.sync();
    await sf.sync();
  });
  assertEquals(seen.map((f) => f.toHex()), ["53460105", "53460105"]);
});

Deno.test("statefs client: a v2 client sends a fresh nonce with each request", async () => {
  const seen: Uint8Array[] = [];
  await withClient(fakeStatefsd(seen), { firstNonce: 7n }, async (sf) => {
    await sf.sync();
    await sf.sync();
  });
  assertEquals(seen.map((f) => f.toHex()), [
    "534602050700000000000000",
    "534602050800000000000000",
  ]);
});

Deno.test("statefs client: a status-only reply with trailing bytes is a bad reply", async () => {
  for (const version of [SF_V1, SF_V2] as const) {
    const seen: Uint8Array[] = [];
    await withClient(fakeStatefsd(seen, 1), { version }, async (sf) => {
      for (const op of [() => sf.sync(), () => sf.put("/state/k", new Uint8Array([1]))]) {
        const err = await assertRejects(op, StatefsdError, "reply has trailing bytes");
        assertEquals(err.status, -1);
      }
    });
    assertEquals(seen.length, 2);
  }
});
