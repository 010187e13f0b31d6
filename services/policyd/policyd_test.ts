import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { frameWriter } from "../../core/kernel/frame.ts";
import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { call } from "../../core/kernel/rpc.ts";
import type { ServiceModule } from "../../core/kernel/service.ts";
import { RIGHT_RECV } from "../../core/kernel/types.ts";
import { decodeRequest as decodeLogRequest } from "../logd/protocol.ts";
import { logd } from "../logd/main.ts";
import { logQuery } from "../logd/protocol.ts";
import { runService } from "../testing/rig.ts";
import { AUDIT_BACKLOG, policyd } from "./main.ts";
import { DELEGATE_GRANT, GrantsError, parseGrants, Policy } from "./policy.ts";
import {
  decodeReply,
  encodeCheck,
  encodeCheckCap,
  encodeRoute,
  PO_ALLOW,
  PO_DENY,
  PO_MALFORMED,
  PO_OP_CHECK,
  PO_OP_CHECK_CAP,
  PO_OP_ROUTE,
  PO_UNSUPPORTED,
  policyCheck,
  policyCheckCap,
  PolicydError,
  policyRoute,
} from "./protocol.ts";

const GRANTS = [
  { subject: "selftest-client", caps: ["statefs.read", "route:bundlemgrd"] },
  { subject: "keystored", caps: ["statefs.keystore"] },
  { subject: "selftest-client", caps: ["statefs.write"] },
];

Deno.test("policyd: CHECK answers from the grants for the kernel-reported sender", async () => {
  const result = await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: GRANTS },
    clientName: "selftest-client",
    client: async (sys, slots) => {
      const check = (cap: string) => policyCheck(sys, slots.policyd, slots.reply, cap);
      assertEquals(await check("statefs.read"), PO_ALLOW);
      assertEquals(await check("statefs.write"), PO_ALLOW);
      assertEquals(await check("statefs.boot"), PO_DENY);
      assertEquals(await check("statefs.keystore"), PO_DENY);
      // Own subject through CHECK_CAP and ROUTE is fine.
      assertEquals(
        await policyCheckCap(sys, slots.policyd, slots.reply, "selftest-client", "statefs.read"),
        PO_ALLOW,
      );
      assertEquals(
        await policyRoute(sys, slots.policyd, slots.reply, "selftest-client", "bundlemgrd"),
        PO_ALLOW,
      );
      assertEquals(
        await policyRoute(sys, slots.policyd, slots.reply, "selftest-client", "updated"),
        PO_DENY,
      );
    },
  });
  assert(result.lines.includes("slot-check: policyd all 2 slots ok"));
  assert(result.lines.includes("policyd: ready"));
});

Deno.test("policyd: a subject other than the sender is denied unless the sender is init", async () => {
  await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: GRANTS },
    clientName: "selftest-client",
    client: async (sys, slots) => {
      // keystored holds this grant, but selftest-client may not ask on its behalf.
      assertEquals(
        await policyCheckCap(sys, slots.policyd, slots.reply, "keystored", "statefs.keystore"),
        PO_DENY,
      );
      assertEquals(
        await policyRoute(sys, slots.policyd, slots.reply, "keystored", "bundlemgrd"),
        PO_DENY,
      );
      const audit = await logQuery(sys, slots.logd, slots.reply);
      assertEquals(audit.records.map((r) => r.text), [
        "decision=deny op=check_cap sender=selftest-client subject=keystored cap=statefs.keystore reason=requester-spoof",
        "decision=deny op=route sender=selftest-client subject=keystored cap=route:bundlemgrd reason=requester-spoof",
      ]);
      assert(audit.records.every((r) => r.source === fnv1a64("policyd")));
    },
  });
  await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: GRANTS },
    init: false,
    clientName: "init",
    client: async (sys, slots) => {
      const cc = (s: string | bigint, c: string) =>
        policyCheckCap(sys, slots.policyd, slots.reply, s, c);
      const rt = (s: string, n: string) => policyRoute(sys, slots.policyd, slots.reply, s, n);
      assertEquals(await cc("keystored", "statefs.keystore"), PO_ALLOW);
      assertEquals(await cc("keystored", "statefs.read"), PO_DENY);
      assertEquals(await rt("selftest-client", "bundlemgrd"), PO_ALLOW);
      assertEquals(await rt("updated", "bundlemgrd"), PO_DENY);
      assertEquals(await cc(0x1234n, "statefs.read"), PO_DENY);
      const audit = await logQuery(sys, slots.logd, slots.reply);
      assertEquals(audit.records.map((r) => r.text), [
        "decision=allow op=check_cap sender=init subject=keystored cap=statefs.keystore reason=granted",
        "decision=deny op=check_cap sender=init subject=keystored cap=statefs.read reason=not-granted",
        "decision=allow op=route sender=init subject=selftest-client cap=route:bundlemgrd reason=granted",
        `decision=deny op=route sender=init subject=0x${
          fnv1a64("updated").toString(16).padStart(16, "0")
        } cap=route:bundlemgrd reason=not-granted`,
        "decision=deny op=check_cap sender=init subject=0x0000000000001234 cap=statefs.read reason=not-granted",
      ]);
    },
  });
});

Deno.test("policyd: a policy.delegate grant lets a service CHECK_CAP its clients, not ROUTE them", async () => {
  await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: [...GRANTS, { subject: "statefsd", caps: [DELEGATE_GRANT] }] },
    clientName: "statefsd",
    client: async (sys, slots) => {
      const cc = (s: string, c: string) => policyCheckCap(sys, slots.policyd, slots.reply, s, c);
      assertEquals(await cc("selftest-client", "statefs.read"), PO_ALLOW);
      assertEquals(await cc("selftest-client", "statefs.boot"), PO_DENY);
      assertEquals(await cc("keystored", "statefs.keystore"), PO_ALLOW);
      assertEquals(
        await policyRoute(sys, slots.policyd, slots.reply, "selftest-client", "bundlemgrd"),
        PO_DENY,
      );
      const audit = await logQuery(sys, slots.logd, slots.reply);
      assertEquals(audit.records.map((r) => r.text), [
        "decision=allow op=check_cap sender=statefsd subject=selftest-client cap=statefs.read reason=granted",
        "decision=deny op=check_cap sender=statefsd subject=selftest-client cap=statefs.boot reason=not-granted",
        "decision=allow op=check_cap sender=statefsd subject=keystored cap=statefs.keystore reason=granted",
        "decision=deny op=route sender=statefsd subject=selftest-client cap=route:bundlemgrd reason=requester-spoof",
      ]);
    },
  });
});

Deno.test("policyd: deny by default without grants", async () => {
  await runService(policyd, {
    peers: [{ module: logd }],
    clientName: "selftest-client",
    client: async (sys, slots) => {
      assertEquals(await policyCheck(sys, slots.policyd, slots.reply, "statefs.read"), PO_DENY);
      assertEquals(
        await policyRoute(sys, slots.policyd, slots.reply, "selftest-client", "samgrd"),
        PO_DENY,
      );
    },
  });
});

Deno.test("policyd: malformed and unsupported frames are refused, audited, and never crash it", async () => {
  await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: GRANTS },
    clientName: "selftest-client",
    client: async (sys, slots) => {
      const cases: Array<[Uint8Array, number, number]> = [
        [frameWriter("OP", 1, PO_OP_CHECK).u8(1).str("a").finish(), 0x81, PO_MALFORMED],
        [new Uint8Array([0x50]), 0x80, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_CHECK).finish(), 0x81, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_CHECK).u8(0).finish(), 0x81, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_CHECK).u8(4).str("ab").finish(), 0x81, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_CHECK).u8(1).str("ab").finish(), 0x81, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_CHECK).u8(1).u8(0xff).finish(), 0x81, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_CHECK_CAP).u32(1).finish(), 0x84, PO_MALFORMED],
        [frameWriter("PO", 1, PO_OP_ROUTE).u64(1n).u8(0).finish(), 0x82, PO_MALFORMED],
        [frameWriter("PO", 2, PO_OP_CHECK).u8(1).str("a").finish(), 0x81, PO_UNSUPPORTED],
        [frameWriter("PO", 1, 3).u8(1).str("a").finish(), 0x83, PO_UNSUPPORTED],
        [frameWriter("PO", 1, 0x81).finish(), 0x81, PO_UNSUPPORTED],
      ];
      for (const [frame, op, status] of cases) {
        const reply = (await call(sys, slots.policyd, slots.reply, frame)).data;
        assertEquals([...reply], [0x50, 0x4f, 1, op, status], `reply to ${[...frame]}`);
      }
      // A full-size garbage frame too.
      const huge = new Uint8Array(8192).fill(0x50);
      assertEquals((await call(sys, slots.policyd, slots.reply, huge)).data[4], PO_MALFORMED);
      // Still serving.
      assertEquals(await policyCheck(sys, slots.policyd, slots.reply, "statefs.read"), PO_ALLOW);
      const audit = await logQuery(sys, slots.logd, slots.reply);
      assertEquals(audit.records.length, cases.length + 2);
      assertEquals(
        audit.records[0].text,
        "decision=malformed op=check sender=selftest-client reason=malformed",
      );
      assertEquals(
        audit.records[10].text,
        "decision=unsupported op=0x03 sender=selftest-client reason=unsupported",
      );
    },
  });
});

Deno.test("policyd: never blocks on a stalled logd; the backlog and its losses reach logd later", async () => {
  const STALL_NS = 1_000_000_000;
  const received: string[] = [];
  const stalledLogd: ServiceModule = {
    name: "logd",
    requiredSlots: [{ name: "inbox", kind: "endpoint", rights: RIGHT_RECV, use: "audit" }],
    async main(sys, env) {
      await sys.sleep(STALL_NS);
      for (;;) {
        const req = decodeLogRequest((await sys.recv(env.slots.inbox)).data);
        if (req.kind === "append") received.push(req.text);
      }
    },
  };
  const burst = AUDIT_BACKLOG + 6;
  await runService(policyd, {
    peers: [{ module: stalledLogd, inboxDepth: 2 }],
    config: { grants: GRANTS },
    clientName: "selftest-client",
    client: async (sys, slots) => {
      for (let i = 0; i < burst; i++) {
        assertEquals(await policyCheck(sys, slots.policyd, slots.reply, `cap.${i}`), PO_DENY);
      }
      assert(sys.now() < STALL_NS, "policyd answered every check while logd was stalled");
      await sys.sleep(STALL_NS);
      // Each later decision flushes what logd's queue takes.
      for (let i = 0; i < 60; i++) {
        await policyCheck(sys, slots.policyd, slots.reply, "statefs.read");
      }
    },
  });
  const denied = received.filter((t) => t.includes("reason=not-granted")).map((t) =>
    Number(/cap=cap\.(\d+)/.exec(t)![1])
  );
  // Two went straight into logd's queue; four of the backlog were the oldest lost.
  const expected = [0, 1, ...Array.from({ length: burst - 6 }, (_, i) => i + 6)];
  assertEquals(denied, expected);
  assertEquals(received[2], "audit-lost count=4");
});

Deno.test("policyd: bad grants are a startup failure; a missing logd cap fails the slot check", async () => {
  const bad = await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: [{ subject: "x", caps: "statefs.read" }] },
  });
  assert(
    bad.lines.includes(
      "policyd: FAIL config: grant 0 (x): caps must be a list of 1..255-byte strings",
    ),
  );
  assert(!bad.lines.includes("policyd: ready"));
  const missing = await runService(policyd, { peers: [{ module: logd }], omit: ["logd"] });
  assert(missing.lines.some((l) => l.startsWith("SLOT MISSING: policyd needs logd at slot")));
  assert(!missing.lines.includes("policyd: ready"));
});

Deno.test("parseGrants: shapes", () => {
  assertEquals(parseGrants(undefined), []);
  assertEquals(parseGrants([{ subject: "a", caps: [] }]), [{ subject: "a", caps: [] }]);
  for (
    const bad of [
      "nope",
      [null],
      [{ subject: "", caps: [] }],
      [{ subject: 3, caps: [] }],
      [{ subject: "a" }],
      [{ subject: "a", caps: [""] }],
      [{ subject: "a", caps: ["x".repeat(256)] }],
    ]
  ) {
    assertThrows(() => parseGrants(bad), GrantsError);
  }
});

Deno.test("Policy: grants for one subject add up; names resolve or print as identities", () => {
  const policy = new Policy(GRANTS);
  const st = fnv1a64("selftest-client");
  assert(policy.allows(st, "statefs.read") && policy.allows(st, "statefs.write"));
  assert(!policy.allows(st, "statefs.keystore"));
  assertEquals(policy.nameOf(fnv1a64("init")), "init");
  assertEquals(policy.nameOf(1n), "0x0000000000000001");
  const d = policy.decide(st, { kind: "route", subject: st, name: "bundlemgrd" });
  assertEquals(d, {
    op: PO_OP_ROUTE,
    status: PO_ALLOW,
    reason: "granted",
    subject: st,
    cap: "route:bundlemgrd",
  });
});

Deno.test("policyd codecs: byte layouts, reply decoding, client-side limits", async () => {
  assertEquals([...encodeCheck("ab")], [0x50, 0x4f, 1, 1, 2, 0x61, 0x62]);
  const id = fnv1a64("init");
  const idBytes = new Uint8Array(8);
  new DataView(idBytes.buffer).setBigUint64(0, id, true);
  assertEquals([...encodeCheckCap("init", "c")], [0x50, 0x4f, 1, 4, ...idBytes, 1, 0x63]);
  assertEquals([...encodeRoute(id, "s")], [0x50, 0x4f, 1, 2, ...idBytes, 1, 0x73]);
  assertEquals(decodeReply(new Uint8Array([0x50, 0x4f, 1, 0x84, 1])), {
    op: PO_OP_CHECK_CAP,
    status: PO_DENY,
  });
  assertEquals(decodeReply(new Uint8Array([0x50, 0x4f, 1, 0x04, 1])), null);
  assertEquals(decodeReply(new Uint8Array([0x50, 0x4f, 1, 0x84])), null);
  assertThrows(() => encodeCheck(""), RangeError);
  assertThrows(() => encodeRoute("a", "n".repeat(256)), RangeError);
  // A peer answering something else is reported, not trusted.
  await runService(policyd, {
    peers: [{ module: logd }, { name: "liar", handler: () => new Uint8Array([1, 2, 3, 4, 5]) }],
    client: async (sys, slots) => {
      await assertRejects(() => policyCheck(sys, slots.liar, slots.reply, "x"), PolicydError);
    },
  });
});
