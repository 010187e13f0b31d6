import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { bootServices } from "../testing/rig.ts";
import {
  encodeFailed,
  encodeReply,
  UD_FAILED,
  UD_OK,
  UD_OP_GET_STATUS,
  UD_OP_STAGE,
  UD_OP_SWITCH,
  UD_REASON_DIGEST,
  UpdateClient,
  UpdatedError,
} from "./protocol.ts";

/** Runs `body` with a client of a stand-in updated that answers request i with `replies[i]`. */
async function withReplies(
  replies: Uint8Array[],
  body: (ud: UpdateClient) => Promise<void>,
): Promise<void> {
  let i = 0;
  await bootServices({
    services: [{ name: "updated", handler: () => replies[i++] }],
    clients: [{ body: (sys, slots) => body(new UpdateClient(sys, slots.updated, slots.reply)) }],
  });
}

Deno.test("updated client: a FAILED reply is an error naming its reason, when it has one", async () => {
  const failed = (body: number[]) => encodeReply(UD_OP_STAGE, UD_FAILED, Uint8Array.from(body));
  await withReplies([
    encodeFailed(UD_OP_STAGE, UD_REASON_DIGEST),
    failed([200]),
    failed([]),
    failed([UD_REASON_DIGEST, 0]),
  ], async (ud) => {
    const stage = () => ud.stage(Uint8Array.of(1));
    const cases: [number | null, string][] = [
      [UD_REASON_DIGEST, "FAILED (digest)"],
      [200, "FAILED (200)"],
      // No reason byte, or more than one: the reason is unknown.
      [null, "FAILED (?)"],
      [null, "FAILED (?)"],
    ];
    for (const [reason, text] of cases) {
      const err = await assertRejects(stage, UpdatedError);
      assertEquals([err.status, err.reason, err.message], [
        UD_FAILED,
        reason,
        `updated refused op ${UD_OP_STAGE}: ${text}`,
      ]);
    }
  });
});

Deno.test("updated client: a reply to another op, or with a body of the wrong length, is a bad reply", async () => {
  await withReplies([
    encodeReply(UD_OP_SWITCH, UD_OK, Uint8Array.of(1)),
    encodeReply(UD_OP_STAGE, UD_OK, Uint8Array.of(1, 2)),
    encodeReply(UD_OP_GET_STATUS, UD_OK, Uint8Array.of(1, 0, 0)),
  ], async (ud) => {
    const bad = async (p: () => Promise<unknown>, message: string) => {
      const err = await assertRejects(p, UpdatedError);
      assertEquals([err.status, err.reason, err.message], [-1, null, message]);
    };
    await bad(() => ud.stage(Uint8Array.of(1)), `not an updated reply to op ${UD_OP_STAGE}`);
    await bad(() => ud.stage(Uint8Array.of(1)), `updated op ${UD_OP_STAGE} reply body is 2 bytes`);
    await bad(() => ud.status(), `updated op ${UD_OP_GET_STATUS} reply body is 3 bytes`);
  });
});
