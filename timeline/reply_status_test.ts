import { assertEquals } from "../tests/assert.ts";
import { failedStatusText, replyStatus } from "./reply_status.ts";
import { SequenceDiagram } from "./sequence.ts";
import type { TraceEvent } from "../core/kernel/trace_events.ts";

Deno.test("replyStatus: the byte after the header, after the nonce in SF v2", () => {
  assertEquals(replyStatus("4b53018a0a"), 10); // KS v1
  assertEquals(replyStatus("53460182" + "03"), 3); // SF v1
  assertEquals(replyStatus("53460282" + "0102030405060708" + "01" + "00"), 1); // SF v2
  assertEquals(replyStatus("53460282" + "0102030405060708"), undefined); // cut before status
  assertEquals(replyStatus("4b53018a"), undefined); // header only
  assertEquals(replyStatus(undefined), undefined);
  assertEquals(replyStatus("zz"), undefined);
  assertEquals(failedStatusText(0), "");
  assertEquals(failedStatusText(undefined), "");
  assertEquals(failedStatusText(3), " status 0x03");
});

Deno.test("sequence: a failed reply is drawn as a cross with its status, an OK one dashed", () => {
  const seq = new SequenceDiagram();
  const ep = (id: number, owner: string, ownerPid: number) => ({
    endpointId: id,
    owner,
    ownerPid,
  });
  const events: TraceEvent[] = [
    { kind: "task", time: 0, pid: 1, task: "client", event: "spawn" },
    { kind: "task", time: 0, pid: 2, task: "server", event: "spawn" },
  ];
  const call = (msg: number, t: number, reply: string) => {
    events.push(
      {
        kind: "ipc-send",
        time: t,
        msg,
        pid: 1,
        task: "client",
        ...ep(7, "server", 2),
        size: 4,
        label: "5346:02",
      },
      {
        kind: "ipc-recv",
        time: t + 1,
        msg,
        pid: 2,
        task: "server",
        ...ep(7, "server", 2),
        senderPid: 1,
        sender: "client",
        size: 4,
        label: "5346:02",
        truncated: false,
      },
      {
        kind: "ipc-send",
        time: t + 2,
        msg: msg + 1,
        pid: 2,
        task: "server",
        ...ep(8, "client", 1),
        size: reply.length / 2,
        label: "5346:82",
        inReplyTo: msg,
        head: reply,
      },
      {
        kind: "ipc-recv",
        time: t + 3,
        msg: msg + 1,
        pid: 1,
        task: "client",
        ...ep(8, "client", 1),
        senderPid: 2,
        sender: "server",
        size: reply.length / 2,
        label: "5346:82",
        truncated: false,
        inReplyTo: msg,
        head: reply,
      },
    );
  };
  call(1, 10, "5346018200");
  call(3, 20, "5346018201");
  for (const e of events) seq.tracer(e);
  assertEquals(seq.render().trimEnd().split("\n").slice(3), [
    "  client->>server: SF op 0x02",
    "  server-->>client: reply SF op 0x82",
    "  client->>server: SF op 0x02",
    "  server--xclient: reply SF op 0x82 status 0x01",
  ]);
});
