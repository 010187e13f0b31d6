import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { bootServices, type FakePeer } from "../testing/rig.ts";
import {
  decodeRequest,
  encodeGetReply,
  encodeStatusReply,
  SF_NOT_FOUND,
  SF_OK,
  SF_OP_GET,
  SF_OP_SYNC,
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

Deno.test("statefs client: a v2 client takes only the reply that carries its request's nonce", async () => {
  // Before each answer the stand-in sends what a client may find in its inbox (three at a time:
  // the reply inbox holds four): a late answer to an earlier request (the nonce before), v1
  // replies, another op's reply with nonce 0, and frames too short to hold a nonce. Each must be
  // skipped, never taken for the answer.
  const stale = (nonce: bigint, round: number) =>
    [
      [
        encodeGetReply({ version: SF_V2, nonce: nonce - 1n }, new TextEncoder().encode("stale")),
        encodeGetReply({ version: SF_V1 }, new TextEncoder().encode("v1")),
        encodeStatusReply({ version: SF_V2, nonce: 0n }, SF_OP_GET, SF_NOT_FOUND),
      ],
      [
        new Uint8Array([0x53, 0x46, SF_V2, SF_OP_GET | 0x80]),
        encodeGetReply({ version: SF_V2, nonce }, new TextEncoder().encode("x")).subarray(0, 12),
        // A v1 frame long enough, with the nonce's bytes where a v2 reply carries it.
        Uint8Array.of(0x53, 0x46, SF_V1, SF_OP_GET | 0x80, Number(nonce), 0, 0, 0, 0, 0, 0, 0, 0),
      ],
    ][round];
  let round = 0;
  const peer: FakePeer = {
    name: "statefsd",
    handler: async (req, sys) => {
      const d = decodeRequest(req.data);
      if (d.kind !== "request" || d.nonce === undefined) throw new Error("expected a v2 request");
      for (const frame of stale(d.nonce, round++)) {
        await sys.send(req.capSlot!, frame, { nonblock: true });
      }
      return encodeGetReply({ version: SF_V2, nonce: d.nonce }, new TextEncoder().encode("right"));
    },
  };
  await withClient(peer, { firstNonce: 5n }, async (sf) => {
    for (let i = 0; i < 2; i++) {
      assertEquals(new TextDecoder().decode(await sf.get("/state/k")), "right");
    }
  });
});

Deno.test("statefs client: a reply to another op is a bad reply; a refusal is named", async () => {
  // The stand-in answers each request with its nonce: first a reply to GET (for a SYNC), then a
  // NOT_FOUND refusal of the SYNC itself.
  let n = 0;
  const peer: FakePeer = {
    name: "statefsd",
    handler: (req) => {
      const d = decodeRequest(req.data);
      if (d.kind !== "request") throw new Error("expected a request");
      const env = { version: SF_V2, nonce: d.nonce } as const;
      return n++ === 0
        ? encodeStatusReply(env, SF_OP_GET, SF_OK)
        : encodeStatusReply(env, SF_OP_SYNC, SF_NOT_FOUND);
    },
  };
  await withClient(peer, {}, async (sf) => {
    const wrongOp = await assertRejects(
      () => sf.sync(),
      StatefsdError,
      "reply to op 2, expected 5",
    );
    assertEquals(wrongOp.status, -1);
    const refused = await assertRejects(
      () => sf.sync(),
      StatefsdError,
      "statefsd refused op 5: NOT_FOUND",
    );
    assertEquals(refused.status, SF_NOT_FOUND);
  });
});
