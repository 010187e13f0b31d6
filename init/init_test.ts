import { assert, assertEquals, assertMatch, assertThrows } from "../tests/assert.ts";
import { fnv1a64 } from "../core/kernel/fnv.ts";
import { call, serve } from "../core/kernel/rpc.ts";
import type { ServiceEnv, SlotNeed } from "../core/kernel/service.ts";
import { checkSlots } from "../core/kernel/slot_check.ts";
import {
  type MmioDevice,
  RIGHT_MAP,
  RIGHT_RECV,
  RIGHT_SEND,
  type Syscalls,
} from "../core/kernel/types.ts";
import {
  decodeRequest as decodePolicy,
  encodeReply as encodePolicyReply,
  PO_ALLOW,
  PO_DENY,
} from "../services/policyd/protocol.ts";
import {
  decodeRequest as decodeUpdated,
  encodeReply as encodeUpdatedReply,
  UD_FAILED,
  UD_OK,
} from "../services/updated/protocol.ts";
import { createInit, POLICY_TIMEOUT_NS, RESPONDER_TICK_NS } from "./init.ts";
import { parseManifest } from "./manifest.ts";
import {
  decodeRouteReply,
  encodeRouteGet,
  IH_DENIED,
  IH_FAILED,
  IH_OK,
  reportHealth,
  routeGet,
  RT_DENIED,
  RT_MALFORMED,
  RT_NOT_FOUND,
  RT_OK,
} from "../core/kernel/init_protocol.ts";
import { type FakeMain, fakeModule, runInit, type RunInitOptions } from "./testing.ts";

const MINI = `
[init.slots]
inbox = { slot = 4, rights = ["recv"], endpoint = "init" }
reply = { slot = 5, rights = ["send", "recv"], endpoint = "init.reply" }
policyd = { slot = 6, rights = ["send"], endpoint = "policyd" }
updated = { slot = 7, rights = ["send"], endpoint = "updated" }

[[service]]
name = "policyd"
module = "policyd"
[service.slots]
inbox = { slot = 3, rights = ["recv"], endpoint = "policyd" }

[[service]]
name = "updated"
module = "updated"
[service.slots]
inbox = { slot = 3, rights = ["recv"], endpoint = "updated" }

[[service]]
name = "beta"
module = "beta"
[service.slots]
inbox = { slot = 3, rights = ["recv"], endpoint = "beta" }
gamma = { slot = 9, rights = ["send"], endpoint = "gamma" }

[[service]]
name = "gamma"
module = "gamma"
[service.slots]
inbox = { slot = 5, rights = ["recv"], endpoint = "gamma" }

[[service]]
name = "alpha"
module = "alpha"
[service.slots]
reply = { slot = 3, rights = ["send", "recv"], endpoint = "alpha.reply" }
beta = { slot = 4, rights = ["send"], endpoint = "beta" }
gamma = { slot = 6, rights = ["send"], endpoint = "gamma" }
[service.config]
greeting = "hi"

[[endpoint]]
name = "init"
owner = "init"
depth = 16
[[endpoint]]
name = "init.reply"
owner = "init"
depth = 4
[[endpoint]]
name = "policyd"
owner = "policyd"
depth = 8
[[endpoint]]
name = "updated"
owner = "updated"
depth = 8
[[endpoint]]
name = "beta"
owner = "beta"
depth = 8
[[endpoint]]
name = "gamma"
owner = "gamma"
depth = 8
[[endpoint]]
name = "alpha.reply"
owner = "alpha"
depth = 4

[[policy.grant]]
subject = "alpha"
caps = ["route:beta", "init.health"]
[[policy.grant]]
subject = "beta"
caps = ["route:gamma"]
`;

const SERVICES = ["policyd", "updated", "beta", "gamma", "alpha"];

const need = (name: string, rights: number, kind: SlotNeed["kind"] = "endpoint"): SlotNeed => ({
  name,
  kind,
  rights,
  use: "test",
});
const NEEDS: Record<string, SlotNeed[]> = {
  policyd: [need("inbox", RIGHT_RECV)],
  updated: [need("inbox", RIGHT_RECV)],
  beta: [need("inbox", RIGHT_RECV), need("gamma", RIGHT_SEND)],
  gamma: [need("inbox", RIGHT_RECV)],
  alpha: [
    need("reply", RIGHT_SEND | RIGHT_RECV),
    need("beta", RIGHT_SEND),
    need("gamma", RIGHT_SEND),
  ],
};

interface Behaviour {
  /** policyd never answers. */
  silentPolicy?: boolean;
  /** updated refuses HEALTH_OK. */
  refuseHealth?: boolean;
  /** alpha's body after its slot check. */
  alpha?: (sys: Syscalls, env: ServiceEnv) => Promise<void>;
}

/** Fake services: each checks its slots, prints `<name>: ready`, then does its job. */
function services(b: Behaviour = {}) {
  const grantsOf = (env: ServiceEnv) =>
    (env.config.grants as Array<{ subject: string; caps: string[] }>).map((g) => ({
      id: fnv1a64(g.subject),
      caps: g.caps,
    }));
  const mains: Record<string, FakeMain> = {
    policyd: async (sys, env) => {
      const grants = grantsOf(env);
      await serve(sys, env.slots.inbox, (m) => {
        const req = decodePolicy(m.data);
        sys.print(`policyd: ${req.kind} from ${m.senderPid}`);
        if (b.silentPolicy || req.kind !== "route") return null;
        const ok = grants.some((g) => g.id === req.subject && g.caps.includes(`route:${req.name}`));
        return encodePolicyReply(2, ok ? PO_ALLOW : PO_DENY);
      });
    },
    updated: async (sys, env) => {
      await serve(sys, env.slots.inbox, (m) => {
        const req = decodeUpdated(m.data);
        sys.print(`updated: ${req.kind} from ${m.senderPid}`);
        switch (req.kind) {
          case "health-ok":
            return b.refuseHealth
              ? encodeUpdatedReply(3, UD_FAILED, Uint8Array.of(5))
              : encodeUpdatedReply(3, UD_OK);
          case "status":
            return encodeUpdatedReply(4, UD_OK, Uint8Array.of(2, 0, 0, 1));
          case "boot-attempt":
            return encodeUpdatedReply(5, UD_OK, Uint8Array.of(0));
          default:
            return null;
        }
      });
    },
    beta: async (sys, env) => {
      await serve(sys, env.slots.inbox, (m) => {
        sys.print(`beta: got ${m.data.length} bytes from ${m.senderPid}`);
        return null;
      });
    },
    gamma: async (sys, env) => {
      await serve(sys, env.slots.inbox, () => null);
    },
    alpha: async (sys, env) => {
      await b.alpha?.(sys, env);
    },
  };
  const out: Record<string, ReturnType<typeof fakeModule>> = {};
  for (const name of SERVICES) {
    out[name] = fakeModule(name, NEEDS[name], async (sys, env) => {
      if (!checkSlots(sys, env, NEEDS[name])) return;
      sys.print(`${name}: ready`);
      await mains[name](sys, env);
    });
  }
  return out;
}

function boot(b: Behaviour = {}, extra: Partial<RunInitOptions> = {}) {
  return runInit({ manifest: MINI, services: services(b), ...extra });
}

Deno.test("init prints its markers in order and wires every service's slots", async () => {
  const run = await boot();
  const initLines = run.console.filter((l) => l.pid === run.initPid).map((l) => l.text);
  assertEquals(initLines, [
    "init: start",
    ...SERVICES.flatMap((s) => [`init: start ${s}`, `init: up ${s}`]),
    "slot-check: init all 4 slots ok",
    "init: ready",
    "init: boot attempt counted",
  ]);
  for (const s of SERVICES) {
    assert(run.lines.includes(`slot-check: ${s} all ${NEEDS[s].length} slots ok`), s);
    assert(run.lines.includes(`${s}: ready`), s);
  }
  // beta's gamma slot named a service started after it: placed when gamma's endpoint existed.
  assertEquals(run.result.reason, "idle");
});

Deno.test("no service runs before init: ready; each starts at the START gate on slot 2", async () => {
  const run = await boot({
    alpha: async (sys, env) => {
      await routeGet(sys, env.slots.reply, "beta");
    },
  });
  const ready = run.events.findIndex((e) => e.kind === "line" && e.text === "init: ready");
  assert(ready > 0);
  const firstOther = run.events.findIndex((e) =>
    (e.kind === "call" && e.event.pid !== run.initPid) ||
    (e.kind === "line" && e.pid !== run.initPid)
  );
  assert(
    firstOther > ready,
    `a service ran at event ${firstOther}, before init: ready at ${ready}`,
  );
  const pids = new Set(run.kernel.taskList().map((t) => t.pid).filter((p) => p !== run.initPid));
  assertEquals(pids.size, SERVICES.length);
  for (const pid of pids) {
    const first = run.events.find((e) => e.kind === "call" && e.event.pid === pid);
    assert(first?.kind === "call");
    assertEquals([first.event.op, first.event.slot], ["recv", 2], `pid ${pid} starts at the gate`);
  }
  // init was already waiting on its endpoint when the first service ran.
  const initBlocked = run.events.findIndex((e) =>
    e.kind === "call" && e.event.pid === run.initPid && e.event.op === "recv" &&
    e.event.outcome === "blocked"
  );
  assert(initBlocked > ready && initBlocked < firstOther);
});

Deno.test("ROUTE_GET answers from the asking service's own table, with and without nonce", async () => {
  const run = await boot({
    alpha: async (sys, env) => {
      const withNonce = await routeGet(sys, env.slots.reply, "beta", { nonce: 0xdeadbeef });
      sys.print(`alpha: beta ${JSON.stringify(withNonce)}`);
      const raw = await call(sys, 1, env.slots.reply, encodeRouteGet("beta"));
      sys.print(`alpha: raw ${raw.data.length} ${JSON.stringify(decodeRouteReply(raw.data))}`);
      const me = await routeGet(sys, env.slots.reply, "@reply", { nonce: 5 });
      sys.print(`alpha: @reply ${me.status} ${me.sendSlot} ${me.recvSlot} ${me.nonce}`);
      // The answer is usable: a frame sent on it reaches beta.
      await sys.send(withNonce.sendSlot, Uint8Array.of(1, 2, 3));
    },
  });
  assert(run.lines.includes(
    `alpha: beta {"status":${RT_OK},"sendSlot":4,"recvSlot":3,"nonce":${0xdeadbeef}}`,
  ));
  assert(run.lines.includes(`alpha: raw 13 {"status":${RT_OK},"sendSlot":4,"recvSlot":3}`));
  assert(run.lines.includes(`alpha: @reply ${RT_OK} 3 3 5`));
  const alphaPid = run.kernel.taskList().find((t) => t.name === "alpha")!.pid;
  assert(run.lines.includes(`beta: got 3 bytes from ${alphaPid}`));
  // Every route was checked with policyd (init's pid asks), @reply was not.
  const policyPid = run.kernel.taskList().find((t) => t.name === "init")!.pid;
  assertEquals(run.lines.filter((l) => l === `policyd: route from ${policyPid}`).length, 2);
});

Deno.test("ROUTE_GET: NOT_FOUND without a slot, DENIED without a grant, nonce echoed", async () => {
  const run = await boot({
    alpha: async (sys, env) => {
      for (const name of ["gamma", "delta", "init", "policyd"]) {
        const r = await routeGet(sys, env.slots.reply, name, { nonce: 42 });
        sys.print(`alpha: ${name} ${r.status} ${r.sendSlot} ${r.recvSlot} ${r.nonce}`);
      }
    },
  });
  assert(run.lines.includes(`alpha: gamma ${RT_DENIED} 0 0 42`), run.lines.join("\n"));
  assert(run.lines.includes(`alpha: delta ${RT_NOT_FOUND} 0 0 42`));
  assert(run.lines.includes(`alpha: init ${RT_NOT_FOUND} 0 0 42`));
  assert(run.lines.includes(`alpha: policyd ${RT_NOT_FOUND} 0 0 42`));
});

Deno.test("malformed frames get MALFORMED (RT) or FAILED (IH) and never stop the responder", async () => {
  const frames: Array<[string, number[]]> = [
    ["short", [0x52, 0x54]],
    ["magic", [0x58, 0x58, 1, 0x40, 1, 0x62]],
    ["version", [0x52, 0x54, 2, 0x40, 1, 0x62]],
    ["op", [0x52, 0x54, 1, 0x41, 1, 0x62]],
    ["empty", [0x52, 0x54, 1, 0x40, 0]],
    ["cut", [0x52, 0x54, 1, 0x40, 9, 0x62]],
    ["trailing", [0x52, 0x54, 1, 0x40, 1, 0x62, 0, 0]],
    ["utf8", [0x52, 0x54, 1, 0x40, 1, 0xff]],
    ["ih-version", [0x49, 0x48, 2, 1]],
    ["ih-op", [0x49, 0x48, 1, 2]],
    ["ih-len", [0x49, 0x48, 1, 1, 0]],
  ];
  const run = await boot({
    alpha: async (sys, env) => {
      for (const [label, bytes] of frames) {
        const r = await call(sys, 1, env.slots.reply, Uint8Array.from(bytes));
        sys.print(`alpha: ${label} ${[...r.data].join(",")}`);
      }
      const after = await routeGet(sys, env.slots.reply, "beta");
      sys.print(`alpha: after ${after.status}`);
    },
  });
  const rtMalformed = [0x52, 0x54, 1, 0x41, RT_MALFORMED, 0, 0, 0, 0, 0, 0, 0, 0].join(",");
  const ihFailed = [0x49, 0x48, 1, 0x81, IH_FAILED].join(",");
  for (const [label] of frames) {
    const want = label.startsWith("ih-") ? ihFailed : rtMalformed;
    assert(run.lines.includes(`alpha: ${label} ${want}`), `${label}: ${run.lines.join("\n")}`);
  }
  assert(run.lines.includes(`alpha: after ${RT_OK}`));
});

Deno.test("a route check policyd never answers is DENIED after the timeout", async () => {
  const run = await boot({
    silentPolicy: true,
    alpha: async (sys, env) => {
      const t0 = sys.now();
      const r = await routeGet(sys, env.slots.reply, "beta", { nonce: 1 });
      sys.print(`alpha: ${r.status} after ${sys.now() - t0 >= POLICY_TIMEOUT_NS}`);
      const again = await routeGet(sys, env.slots.reply, "beta", { nonce: 2 });
      sys.print(`alpha: again ${again.status} ${again.nonce}`);
    },
  });
  assert(run.lines.includes(`alpha: ${RT_DENIED} after true`), run.lines.join("\n"));
  assert(run.lines.includes(`alpha: again ${RT_DENIED} 2`));
  assert(run.lines.includes(
    "init: route check alpha -> beta got no answer from policyd (TIMED_OUT): denied",
  ));
});

Deno.test("HEALTH_OK is forwarded to updated; init prints the slot updated reports", async () => {
  const run = await boot({
    alpha: async (sys, env) => {
      const s = await reportHealth(sys, env.slots.reply, { nonce: 77 });
      sys.print(`alpha: health ${s}`);
      const plain = await reportHealth(sys, env.slots.reply);
      sys.print(`alpha: health plain ${plain}`);
    },
  });
  assert(run.lines.includes(`alpha: health ${IH_OK}`), run.lines.join("\n"));
  assert(run.lines.includes(`alpha: health plain ${IH_OK}`));
  assertEquals(run.lines.filter((l) => l === "init: health ok (slot b)").length, 2);
  const initPid = run.initPid;
  assertEquals(run.lines.filter((l) => l === `updated: health-ok from ${initPid}`).length, 2);
  // The health line comes only after updated answered.
  const ok = run.lines.indexOf("init: health ok (slot b)");
  assert(run.lines.indexOf(`updated: status from ${initPid}`) < ok);
});

Deno.test("HEALTH_OK refused by updated answers FAILED; without updated init accepts it", async () => {
  const refused = await boot({
    refuseHealth: true,
    alpha: async (sys, env) => {
      sys.print(`alpha: health ${await reportHealth(sys, env.slots.reply, { nonce: 3 })}`);
    },
  });
  assert(refused.lines.includes(`alpha: health ${IH_FAILED}`));
  assert(refused.lines.includes("init: health from alpha refused by updated (status 3)"));
  assert(!refused.lines.some((l) => l.startsWith("init: health ok")));

  const noUpdated = MINI.replace(
    /\[\[service\]\]\nname = "updated"\nmodule = "updated"\n\[service\.slots\]\ninbox = .*\n/,
    "",
  )
    .replace(/^updated = .*\n/m, "")
    .replace(/\[\[endpoint\]\]\nname = "updated"\nowner = "updated"\ndepth = 8\n/, "");
  const svc = services({
    alpha: async (sys, env) => {
      sys.print(`alpha: health ${await reportHealth(sys, env.slots.reply)}`);
    },
  });
  const run = await runInit({ manifest: noUpdated, services: svc });
  assert(run.lines.includes("slot-check: init all 3 slots ok"), run.lines.join("\n"));
  assert(run.lines.includes(`alpha: health ${IH_OK}`));
  assert(run.lines.includes("init: health ok (no updated)"));
  assert(!run.lines.some((l) => l.includes("boot attempt")));
});

Deno.test("HEALTH_OK from a sender without the init.health grant is DENIED and not forwarded", async () => {
  const run = await runInit({
    manifest: MINI.replace('caps = ["route:beta", "init.health"]', 'caps = ["route:beta"]'),
    services: services({
      alpha: async (sys, env) => {
        sys.print(`alpha: health ${await reportHealth(sys, env.slots.reply, { nonce: 5 })}`);
      },
    }),
  });
  assert(run.lines.includes(`alpha: health ${IH_DENIED}`), run.lines.join("\n"));
  assert(run.lines.includes('init: health from alpha denied (no "init.health" grant)'));
  assert(!run.lines.some((l) => l.includes("health-ok from")));
});

Deno.test("exactly one BOOT_ATTEMPT per boot, after init: ready", async () => {
  const run = await boot();
  const attempts = run.lines.filter((l) => l === `updated: boot-attempt from ${run.initPid}`);
  assertEquals(attempts.length, 1);
  assert(run.lines.indexOf("init: ready") < run.lines.indexOf(attempts[0]));
});

Deno.test("watchdog: a hung service trips it; the table names the task and what it waits on", async () => {
  const run = await boot({
    alpha: async (sys, env) => {
      // beta takes the request and never answers: alpha waits on its reply inbox forever.
      await call(sys, env.slots.beta, env.slots.reply, Uint8Array.of(9));
    },
  }, { watchdogTicks: 5 });
  const fatal = run.lines.findIndex((l) => l.startsWith("!fatal init-lite: watchdog fired"));
  assert(fatal > 0, run.lines.join("\n"));
  assertMatch(run.lines[fatal], /after 5 responder iterations \(limit 5\) at t=\d+\.\d{6}ms$/);
  const table = run.lines.slice(fatal + 1).filter((l) => l.startsWith("init-lite: "));
  assertMatch(table[0], /^init-lite: unfinished tasks \(6\) at t=/);
  assertMatch(table[1], /^init-lite: pid\s+task\s+state\s+since\s+blocked on$/);
  const alpha = table.find((l) => / alpha /.test(l));
  assert(alpha, table.join("\n"));
  assertMatch(
    alpha,
    /blocked\s+t=0\.\d{6}ms\s+reply from beta \(recv slot 0x03 reply\)$/,
  );
  const beta = table.find((l) => / beta /.test(l))!;
  assertMatch(beta, /recv slot 0x03 inbox on endpoint "beta" of beta$/);
  assert(table.some((l) => / init +running/.test(l)));
  // The watchdog halts init: nothing after the table, and the run ends.
  assertEquals(run.lines.length, fatal + 1 + table.length);
  assertEquals(run.result.reason, "idle");
  // Iterations: updated's answer to the boot attempt, four receive timeouts, then the fifth
  // timeout is one too many.
  assertEquals(Math.floor(run.result.time / RESPONDER_TICK_NS), 5);
});

Deno.test("watchdog: a system that finished goes idle without firing", async () => {
  // Two requests (updated's boot-attempt answer, alpha's route), then one timeout finds the
  // system done: three iterations are enough.
  for (const ticks of [3, 4, 50]) {
    const run = await boot({
      alpha: async (sys, env) => {
        await routeGet(sys, env.slots.reply, "beta");
      },
    }, { watchdogTicks: ticks });
    assert(!run.lines.some((l) => l.includes("watchdog")), `ticks ${ticks}`);
    assertEquals(run.result.reason, "idle");
  }
});

Deno.test("without a watchdog a hung system goes idle at once, no deadline ticks", async () => {
  const run = await boot({
    alpha: async (sys, env) => {
      await call(sys, env.slots.beta, env.slots.reply, Uint8Array.of(9));
    },
  });
  assertEquals(run.result.reason, "idle");
  assert(run.result.time < RESPONDER_TICK_NS, `time ${run.result.time}`);
  assert(!run.lines.some((l) => l.includes("watchdog")));
  const alpha = run.kernel.taskList().find((t) => t.name === "alpha")!;
  assertEquals([alpha.state, alpha.blockedOn?.op, alpha.blockedOn?.slot], ["blocked", "recv", 3]);
});

Deno.test("the same boot twice gives the same console, line for line and time for time", async () => {
  const script = {
    alpha: async (sys: Syscalls, env: ServiceEnv) => {
      await routeGet(sys, env.slots.reply, "beta", { nonce: 1 });
      await reportHealth(sys, env.slots.reply);
      await call(sys, env.slots.beta, env.slots.reply, Uint8Array.of(9));
    },
  };
  const a = await boot(script, { watchdogTicks: 3 });
  const b = await boot(script, { watchdogTicks: 3 });
  assertEquals(a.console, b.console);
  assert(a.lines.some((l) => l.startsWith("!fatal")));
});

Deno.test("services get their env: slots from the manifest, seed, config, grants for policyd", async () => {
  const seen: Record<string, ServiceEnv> = {};
  const svc = services();
  for (const name of ["alpha", "policyd"]) {
    const inner = svc[name].main;
    svc[name] = fakeModule(name, NEEDS[name], (sys, env) => {
      seen[name] = env;
      return inner(sys, env);
    });
  }
  await runInit({ manifest: MINI, services: svc, seed: 99 });
  assertEquals(seen.alpha.slots, { reply: 3, beta: 4, gamma: 6 });
  assertEquals(seen.alpha.seed, 99);
  assertEquals(seen.alpha.config, { greeting: "hi" });
  assertEquals(seen.policyd.config.grants, [
    { subject: "alpha", caps: ["route:beta", "init.health"] },
    { subject: "beta", caps: ["route:gamma"] },
  ]);
  assert(Object.isFrozen(seen.alpha.slots));
});

Deno.test("statefsd gets the names of every service in start order, whatever its config says", async () => {
  const seen: Record<string, ServiceEnv> = {};
  const record = (name: string) =>
    fakeModule(name, [], (_sys, env) => {
      seen[name] = env;
      return Promise.resolve();
    });
  await runInit({
    manifest: `
[init.slots]
inbox = { slot = 4, rights = ["recv"], endpoint = "init" }
[[service]]
name = "logd"
module = "logd"
[[service]]
name = "statefsd"
module = "statefsd"
[service.config]
services = ["stale"]
partition = "state"
[[service]]
name = "late"
module = "late"
[[endpoint]]
name = "init"
owner = "init"
depth = 4
`,
    services: { logd: record("logd"), statefsd: record("statefsd"), late: record("late") },
  });
  assertEquals(seen.statefsd.config, {
    services: ["logd", "statefsd", "late"],
    partition: "state",
  });
  assertEquals(seen.logd.config, {});
  assert(Object.isFrozen(seen.statefsd.config));
});

Deno.test("wiring problems are loud FAIL lines; the rest of the system still comes up", async () => {
  const cases: Array<[string, string, RegExp, RegExp?]> = [
    ['module = "gamma"', 'module = "gama"', /^init: FAIL start gamma: no service module "gama"$/],
    [
      'beta = { slot = 4, rights = ["send"], endpoint = "beta" }',
      'beta = { slot = 6, rights = ["send"], endpoint = "beta" }',
      /^init: FAIL wire alpha slot gamma at 0x06: SLOT_OCCUPIED/,
    ],
    [
      'gamma = { slot = 6, rights = ["send"], endpoint = "gamma" }',
      'gamma = { slot = 6, rights = ["send"], endpoint = "gama" }',
      /^init: FAIL wire alpha slot gamma at 0x06: endpoint "gama" was never created/,
      /^SLOT MISSING: alpha needs gamma at slot 0x06$/,
    ],
    [
      'gamma = { slot = 6, rights = ["send"], endpoint = "gamma" }',
      'gamma = { slot = 1, rights = ["send"], endpoint = "gamma" }',
      /^init: FAIL wire alpha slot gamma at 0x01: SLOT_OCCUPIED/,
    ],
    [
      'name = "alpha.reply"\nowner = "alpha"',
      'name = "alpha.reply"\nowner = "alfa"',
      /^init: FAIL endpoint "alpha.reply": owner "alfa" is not a service$/,
    ],
  ];
  for (const [from, to, fail, missing] of cases) {
    assert(MINI.includes(from), from);
    const run = await runInit({ manifest: MINI.replace(from, to), services: services() });
    assert(run.lines.some((l) => fail.test(l)), `${to}\n${run.lines.join("\n")}`);
    if (missing) assert(run.lines.some((l) => missing.test(l)), `${to}: slot check`);
    assert(run.lines.includes("init: ready"), "init still serves");
    assert(run.lines.includes("policyd: ready"));
  }
});

Deno.test("MMIO: a granted window reaches its slot; ungranted or missing windows fail", async () => {
  const device: MmioDevice = { attach() {}, read32: () => 0x74726976, write32() {} };
  const text = MINI.replace(
    'inbox = { slot = 5, rights = ["recv"], endpoint = "gamma" }',
    'inbox = { slot = 5, rights = ["recv"], endpoint = "gamma" }\nblk = { slot = 8, rights = ["map"], mmio = 0 }',
  ) + '\n[[mmio]]\nwindow = 0\ndevice = "virtio-blk"\nservices = ["gamma"]\n';
  const svc = services();
  NEEDS.gamma = [need("inbox", RIGHT_RECV), need("blk", RIGHT_MAP, "mmio")];
  try {
    svc.gamma = fakeModule("gamma", NEEDS.gamma, async (sys, env) => {
      if (!checkSlots(sys, env, NEEDS.gamma)) return;
      const magic = await sys.mmioRead32(env.slots.blk, 0);
      sys.print(`gamma: magic 0x${magic.toString(16)} window ${sys.capQuery(8)?.mmio?.window}`);
    });
    const ok = await runInit({ manifest: text, services: svc, mmio: [{ window: 0, device }] });
    assert(ok.lines.includes("slot-check: gamma all 2 slots ok"), ok.lines.join("\n"));
    assert(ok.lines.includes("gamma: magic 0x74726976 window 0"));

    const none = await runInit({ manifest: text, services: svc });
    assert(
      none.lines.includes(
        "init: FAIL wire gamma slot blk at 0x08: no device cap for MMIO window 0",
      ),
    );

    const ungranted = await runInit({
      manifest: text.replace('services = ["gamma"]', 'services = ["beta"]'),
      services: svc,
      mmio: [{ window: 0, device }],
    });
    assert(ungranted.lines.includes(
      "init: FAIL wire gamma slot blk at 0x08: MMIO window 0 is not granted to gamma",
    ));
  } finally {
    NEEDS.gamma = [need("inbox", RIGHT_RECV)];
  }
});

Deno.test("caps the kernel or host left on slots init declares are moved out of the way", async () => {
  // The kernel puts init's endpoint factory in slot 3 and the host's MMIO cap lands in init's
  // first free slot (1); declare both for other uses.
  const device: MmioDevice = { attach() {}, read32: () => 0, write32() {} };
  const text = MINI.replace(
    'inbox = { slot = 4, rights = ["recv"], endpoint = "init" }',
    'inbox = { slot = 1, rights = ["recv"], endpoint = "init" }',
  ).replace(
    'reply = { slot = 5, rights = ["send", "recv"], endpoint = "init.reply" }',
    'reply = { slot = 3, rights = ["send", "recv"], endpoint = "init.reply" }',
  );
  const run = await runInit({
    manifest: text,
    services: services(),
    mmio: [{ window: 0, device }],
  });
  assert(run.lines.includes("slot-check: init all 4 slots ok"), run.lines.join("\n"));
  assert(run.lines.includes("init: boot attempt counted"));
});

Deno.test("init refuses to run unprivileged and rejects a bad watchdog limit", async () => {
  const run = await boot({}, { unprivileged: true });
  assertEquals(run.lines, [
    "init: start",
    "init: FAIL no endpoint factory in init's table (init must be spawned privileged)",
  ]);
  const manifest = parseManifest(MINI).manifest;
  for (const bad of [0, -1, 1.5]) {
    assertThrows(
      () => createInit({ manifest, services: {}, seed: 1, watchdogTicks: bad }),
      RangeError,
    );
  }
});
