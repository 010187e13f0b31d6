// deno-lint-ignore-file require-await
// Task bodies that never block are valid entries; they are async only to match TaskEntry.

import fc from "fast-check";
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "../../tests/assert.ts";
import { fnv1a64, fnv1a64Bytes } from "./fnv.ts";
import {
  BOOTSTRAP_DEPTH,
  Kernel,
  KERNEL_PID,
  KILLED_EXIT_CODE,
  PANIC_EXIT_CODE,
  PRIVILEGED_FACTORY_SLOT,
  SYSCALL_COST_NS,
} from "./kernel.ts";
import { bytes, outcome, syncOutcome, text, wire } from "./test_util.ts";
import {
  CAP_SLOTS,
  KernelError,
  MAX_FRAME,
  type Message,
  RIGHT_MANAGE,
  RIGHT_MAP,
  RIGHT_RECV,
  RIGHT_SEND,
  RIGHTS_ALL,
  type SyscallEvent,
  type Syscalls,
  type TraceEvent,
} from "./types.ts";

const idle = async (_sys: Syscalls) => {};

Deno.test("identity: FNV-1a-64 vectors", () => {
  assertEquals(fnv1a64(""), 0xcbf29ce484222325n);
  assertEquals(fnv1a64("a"), 0xaf63dc4c8601ec8cn);
  assertEquals(fnv1a64("foobar"), 0x85944171f73967e8n);
  // The hash runs over UTF-8 bytes, not UTF-16 code units.
  assertEquals(fnv1a64("\u00e9"), fnv1a64Bytes(new Uint8Array([0xc3, 0xa9])));
  assertNotEquals(fnv1a64("\u00e9"), fnv1a64Bytes(new Uint8Array([0xe9])));
  // A name hashed before answers from memory with the same value.
  assertEquals([fnv1a64("foobar"), fnv1a64("a")], [0x85944171f73967e8n, 0xaf63dc4c8601ec8cn]);
});

Deno.test("identity: tasks carry FNV-1a-64 of their name and receivers see it from the kernel", async () => {
  const k = new Kernel();
  const got: Message[] = [];
  const a = k.spawn("alpha", async (sys) => {
    assertEquals(sys.serviceId, fnv1a64("alpha"));
    await sys.send(5, bytes("I am beta"));
  });
  const b = k.spawn("beta", async (sys) => {
    got.push(await sys.recv(5));
  });
  wire(k, b, 5, a, 5);
  assertEquals((await k.run()).reason, "all-exited");
  assertEquals(got[0].senderPid, a);
  assertEquals(got[0].senderServiceId, fnv1a64("alpha"));
  assertEquals(k.taskList().map((t) => t.serviceId), [fnv1a64("alpha"), fnv1a64("beta")]);
});

Deno.test("spawn: slot 0 bootstrap endpoint, reserved slots empty, privilege = MANAGE on slot 0", async () => {
  const k = new Kernel();
  const seen: Record<string, unknown> = {};
  const init = k.spawn("init", async (sys) => {
    const boot = sys.capQuery(0)!;
    seen.initBoot = boot.rights;
    seen.initOwner = boot.endpoint?.ownerPid;
    seen.initDepth = boot.endpoint?.depth;
    seen.initFactory = sys.capQuery(PRIVILEGED_FACTORY_SLOT);
    seen.initReserved = [sys.capQuery(1), sys.capQuery(2)];
    seen.childPid = sys.spawn("child", async (c) => {
      seen.childBoot = c.capQuery(0)!.rights;
      seen.childFactory = c.capQuery(PRIVILEGED_FACTORY_SLOT);
      seen.childSpawn = syncOutcome(() => c.spawn("x", idle));
      seen.childTaskList = syncOutcome(() => c.taskList());
      seen.childTransfer = syncOutcome(() => c.capTransfer(0, 1, RIGHT_SEND));
    });
    seen.taskList = sys.taskList().map((t) => t.name);
  }, { privileged: true });
  assertEquals(init, 1);
  await k.run();
  assertEquals(seen.initBoot, RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE);
  assertEquals(seen.initOwner, 1);
  assertEquals(seen.initDepth, BOOTSTRAP_DEPTH);
  assertEquals(seen.initFactory, {
    slot: PRIVILEGED_FACTORY_SLOT,
    kind: "endpoint-factory",
    rights: RIGHT_MANAGE,
  });
  assertEquals(seen.initReserved, [null, null]);
  assertEquals(seen.childPid, 2);
  assertEquals(seen.childBoot, RIGHT_SEND | RIGHT_RECV);
  assertEquals(seen.childFactory, null);
  assertEquals(seen.childSpawn, "PERMISSION_DENIED");
  assertEquals(seen.childTaskList, "PERMISSION_DENIED");
  assertEquals(seen.childTransfer, "PERMISSION_DENIED");
  assertEquals(seen.taskList, ["init", "child"]);
});

Deno.test("caps: rights never amplify through derive or transfer", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const init = k.spawn("init", async (sys) => {
    const ep = sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 4);
    const sendOnly = sys.capDerive(ep, RIGHT_SEND);
    r.sendOnly = sys.capQuery(sendOnly)!.rights;
    r.deriveUp = syncOutcome(() => sys.capDerive(sendOnly, RIGHT_SEND | RIGHT_RECV));
    r.deriveMap = syncOutcome(() => sys.capDerive(ep, RIGHT_MAP));
    r.deriveBadBits = syncOutcome(() => sys.capDerive(ep, 16));
    r.transferUp = syncOutcome(() => sys.capTransfer(sendOnly, 2, RIGHT_SEND | RIGHT_RECV));
    const clone = sys.capClone(sendOnly);
    r.clone = sys.capQuery(clone)!.rights;
    r.cloneSame = sys.capQuery(clone)!.endpoint!.id === sys.capQuery(ep)!.endpoint!.id;
    const given = sys.capTransfer(ep, 2, RIGHT_RECV);
    r.given = given;
  }, { privileged: true });
  const child = k.spawn("child", async (sys) => {
    await sys.yield();
    const slot = r.given as number;
    r.childRights = sys.capQuery(slot)!.rights;
    r.childDeriveUp = syncOutcome(() => sys.capDerive(slot, RIGHT_RECV | RIGHT_SEND));
  });
  assertEquals([init, child], [1, 2]);
  await k.run();
  assertEquals(r.sendOnly, RIGHT_SEND);
  assertEquals(r.deriveUp, "PERMISSION_DENIED");
  assertEquals(r.deriveMap, "PERMISSION_DENIED");
  assertEquals(r.deriveBadBits, "INVALID_ARGUMENT");
  assertEquals(r.transferUp, "PERMISSION_DENIED");
  assertEquals(r.clone, RIGHT_SEND);
  assertEquals(r.cloneSame, true);
  assertEquals(r.given, 1); // child's first free slot
  assertEquals(r.childRights, RIGHT_RECV);
  assertEquals(r.childDeriveUp, "PERMISSION_DENIED");
});

Deno.test("caps: any chain of derivations stays within the rights held (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 12 }),
      async (asks) => {
        const k = new Kernel();
        let ok = true;
        k.spawn("t", async (sys) => {
          let slot = 0;
          let held = sys.capQuery(0)!.rights;
          for (const ask of asks) {
            const r = syncOutcome(() => (slot = sys.capDerive(slot, ask)));
            const allowed = (ask & ~held) === 0;
            if (allowed !== (r === "ok")) ok = false;
            if (r !== "ok" && r !== "PERMISSION_DENIED") ok = false;
            const now = sys.capQuery(slot)!.rights;
            if ((now & ~held) !== 0) ok = false;
            held = now;
          }
        }, { privileged: asks[0] % 2 === 0 });
        await k.run();
        return ok;
      },
    ),
    { numRuns: 60, seed: 7 },
  );
});

Deno.test("caps: fixed-slot transfer rules", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  k.spawn("init", async (sys) => {
    await sys.yield(); // let "gone" run and exit
    const ep = sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 4);
    r.fixed = sys.capTransfer(ep, 2, RIGHT_SEND, 7);
    r.taken = syncOutcome(() => sys.capTransfer(ep, 2, RIGHT_SEND, 7));
    r.takenBoot = syncOutcome(() => sys.capTransfer(ep, 2, RIGHT_SEND, 0));
    r.outOfRange = syncOutcome(() => sys.capTransfer(ep, 2, RIGHT_SEND, CAP_SLOTS));
    r.negative = syncOutcome(() => sys.capTransfer(ep, 2, RIGHT_SEND, -1));
    r.noTask = syncOutcome(() => sys.capTransfer(ep, 99, RIGHT_SEND));
    r.emptySource = syncOutcome(() => sys.capTransfer(50, 2, RIGHT_SEND));
    r.firstFree = sys.capTransfer(ep, 2, RIGHT_SEND);
    // Fill the child's table: the next transfer has nowhere to go.
    for (let i = 0; i < CAP_SLOTS; i++) {
      if (sys.capTransfer(ep, 2, RIGHT_SEND) === CAP_SLOTS - 1) break;
    }
    r.full = syncOutcome(() => sys.capTransfer(ep, 2, RIGHT_SEND));
    r.exited = syncOutcome(() => sys.capTransfer(ep, 3, RIGHT_SEND));
  }, { privileged: true });
  k.spawn("child", async (sys) => {
    await sys.sleep(1_000_000);
  });
  k.spawn("gone", idle);
  await k.run();
  assertEquals(r.fixed, 7);
  assertEquals(r.taken, "SLOT_OCCUPIED");
  assertEquals(r.takenBoot, "SLOT_OCCUPIED");
  assertEquals(r.outOfRange, "INVALID_SLOT");
  assertEquals(r.negative, "INVALID_SLOT");
  assertEquals(r.noTask, "NO_SUCH_TASK");
  assertEquals(r.emptySource, "EMPTY_SLOT");
  assertEquals(r.firstFree, 1);
  assertEquals(r.full, "NO_FREE_SLOT");
  assertEquals(r.exited, "NO_SUCH_TASK");
});

Deno.test("caps: host placeCap honours fixed slots and validates", () => {
  const k = new Kernel();
  const pid = k.spawn("t", idle);
  const ep = k.createEndpoint(pid, 2);
  assertEquals(k.placeCap(pid, 9, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND }), 9);
  const e1 = assertThrows(
    () => k.placeCap(pid, 9, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND }),
    KernelError,
  );
  assertEquals(e1.code, "SLOT_OCCUPIED");
  assertEquals(k.placeCap(pid, undefined, { kind: "mmio", window: 0, rights: RIGHT_MAP }), 1);
  const e2 = assertThrows(
    () => k.placeCap(pid, 10, { kind: "endpoint", endpointId: 999, rights: RIGHT_SEND }),
    KernelError,
  );
  assertEquals(e2.code, "INVALID_ARGUMENT");
  const e3 = assertThrows(() => k.createEndpoint(pid, 0), KernelError);
  assertEquals(e3.code, "INVALID_ARGUMENT");
  const e4 = assertThrows(() => k.createEndpoint(42, 1), KernelError);
  assertEquals(e4.code, "NO_SUCH_TASK");
  const e5 = assertThrows(
    () => k.placeCap(pid, 11, { kind: "endpoint", endpointId: ep, rights: 32 }),
    KernelError,
  );
  assertEquals(e5.code, "INVALID_ARGUMENT");
});

Deno.test("caps: query, close, and endpoint descriptions", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const a = k.spawn("a", async (sys) => {
    r.oob = syncOutcome(() => sys.capQuery(CAP_SLOTS));
    r.empty = sys.capQuery(40);
    await sys.send(5, bytes("x"));
    r.desc = sys.capQuery(5);
    sys.capClose(5);
    r.closed = sys.capQuery(5);
    r.closeEmpty = syncOutcome(() => sys.capClose(5));
    r.sendClosedSlot = await outcome(sys.send(5, bytes("y")));
    r.mmio = sys.capQuery(6);
  });
  const b = k.spawn("b", async (sys) => {
    await sys.sleep(1);
  });
  const ep = wire(k, b, 5, a, 5, 3);
  k.placeCap(a, 6, { kind: "mmio", window: 2, rights: RIGHT_MAP });
  await k.run();
  assertEquals(r.oob, "INVALID_SLOT");
  assertEquals(r.empty, null);
  assertEquals(r.desc, {
    slot: 5,
    kind: "endpoint",
    rights: RIGHT_SEND,
    endpoint: { id: ep, ownerPid: b, ownerName: "b", depth: 3, queued: 1, closed: false },
  });
  assertEquals(r.closed, null);
  assertEquals(r.closeEmpty, "EMPTY_SLOT");
  assertEquals(r.sendClosedSlot, "EMPTY_SLOT");
  assertEquals(r.mmio, {
    slot: 6,
    kind: "mmio",
    rights: RIGHT_MAP,
    mmio: { window: 2, base: 0x10003000 },
  });
});

Deno.test("endpoints: create validates depth, factory kind and owner privilege", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  k.spawn("init", async (sys) => {
    r.d0 = syncOutcome(() => sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 0));
    r.d257 = syncOutcome(() => sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 257));
    r.dFrac = syncOutcome(() => sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 1.5));
    r.wrongKind = syncOutcome(() => sys.endpointCreate(0, 4));
    r.d1 = sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 1, 20);
    r.d256 = sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 256);
    r.taken = syncOutcome(() => sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 4, 20));
    const forChild = sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 4, undefined, 2);
    r.forChild = sys.capQuery(forChild)!.endpoint!.ownerName;
    r.forChildRights = sys.capQuery(forChild)!.rights;
    r.noOwner = syncOutcome(() => sys.endpointCreate(PRIVILEGED_FACTORY_SLOT, 4, undefined, 77));
    sys.capTransfer(PRIVILEGED_FACTORY_SLOT, 2, RIGHT_MANAGE, 30);
    await sys.yield();
    await sys.yield();
  }, { privileged: true });
  k.spawn("child", async (sys) => {
    await sys.yield();
    // A factory alone does not let an unprivileged task create endpoints for others.
    r.childOwn = sys.capQuery(sys.endpointCreate(30, 2))!.endpoint!.ownerName;
    r.childOther = syncOutcome(() => sys.endpointCreate(30, 2, undefined, 1));
  });
  await k.run();
  assertEquals(r.d0, "INVALID_ARGUMENT");
  assertEquals(r.d257, "INVALID_ARGUMENT");
  assertEquals(r.dFrac, "INVALID_ARGUMENT");
  assertEquals(r.wrongKind, "WRONG_KIND");
  assertEquals(r.d1, 20);
  assertEquals(typeof r.d256, "number");
  assertEquals(r.taken, "SLOT_OCCUPIED");
  assertEquals(r.forChild, "child");
  assertEquals(r.forChildRights, RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE);
  assertEquals(r.noOwner, "NO_SUCH_TASK");
  assertEquals(r.childOwn, "child");
  assertEquals(r.childOther, "PERMISSION_DENIED");
});

Deno.test("ipc: FIFO order, frame limit, rights, NONBLOCK", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const got: string[] = [];
  // b runs first and finds the queue empty.
  const b = k.spawn("b", async (sys) => {
    r.emptyNonblock = await outcome(sys.recv(5, { nonblock: true }));
    r.noSendRight = await outcome(sys.send(5, bytes("x"), { nonblock: true }));
    await sys.sleep(100_000);
    for (let i = 0; i < 4; i++) got.push(text((await sys.recv(5)).data).slice(0, 5));
  });
  const a = k.spawn("a", async (sys) => {
    r.tooLarge = await outcome(sys.send(5, new Uint8Array(MAX_FRAME + 1)));
    r.max = await outcome(sys.send(5, new Uint8Array(MAX_FRAME)));
    await sys.send(5, bytes("one"));
    r.full = await outcome(sys.send(5, bytes("two"), { nonblock: true }));
    r.noRecvRight = await outcome(sys.recv(5, { nonblock: true }));
    r.wrongKind = await outcome(sys.send(6, bytes("x")));
    r.badSlot = await outcome(sys.send(200, bytes("x")));
    await sys.send(5, bytes("two"));
    await sys.send(5, bytes("three"));
  });
  wire(k, b, 5, a, 5, 2);
  k.placeCap(a, 6, { kind: "mmio", window: 0, rights: RIGHTS_ALL });
  assertEquals((await k.run()).reason, "all-exited");
  assertEquals(r.tooLarge, "FRAME_TOO_LARGE");
  assertEquals(r.max, "ok");
  assertEquals(r.full, "WOULD_BLOCK");
  assertEquals(r.noRecvRight, "PERMISSION_DENIED");
  assertEquals(r.wrongKind, "WRONG_KIND");
  assertEquals(r.badSlot, "INVALID_SLOT");
  assertEquals(r.emptyNonblock, "WOULD_BLOCK");
  assertEquals(r.noSendRight, "PERMISSION_DENIED");
  assertEquals(got, ["\0\0\0\0\0", "one", "two", "three"]);
});

Deno.test("ipc: the sender's buffer is copied at send time", async () => {
  const k = new Kernel();
  let got = "";
  const a = k.spawn("a", async (sys) => {
    const buf = bytes("abc");
    await sys.send(5, buf);
    buf[0] = 0x7a;
  });
  const b = k.spawn("b", async (sys) => {
    await sys.yield();
    got = text((await sys.recv(5)).data);
  });
  wire(k, b, 5, a, 5);
  await k.run();
  assertEquals(got, "abc");
});

Deno.test("CAP_MOVE: the cap travels when queued and lands in the receiver's first free slot", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const a = k.spawn("a", async (sys) => {
    const moved = sys.capDerive(0, RIGHT_SEND, 40);
    await sys.send(5, bytes("cap"), { moveCap: moved });
    r.senderAfter = sys.capQuery(40);
    const reply = await sys.recv(0);
    r.reply = text(reply.data);
    r.badMove = await outcome(sys.send(5, bytes("x"), { moveCap: 41 }));
    r.badMoveSlot = await outcome(sys.send(5, bytes("x"), { moveCap: 96 }));
  });
  const b = k.spawn("b", async (sys) => {
    const m = await sys.recv(5);
    r.capSlot = m.capSlot;
    r.landed = sys.capQuery(m.capSlot!)!;
    await sys.send(m.capSlot!, bytes("pong"));
  });
  wire(k, b, 5, a, 5);
  await k.run();
  assertEquals(r.senderAfter, null);
  assertEquals(r.capSlot, 1);
  const landed = r.landed as { rights: number; endpoint: { ownerPid: number } };
  assertEquals(landed.rights, RIGHT_SEND);
  assertEquals(landed.endpoint.ownerPid, a);
  assertEquals(r.reply, "pong");
  assertEquals(r.badMove, "EMPTY_SLOT");
  assertEquals(r.badMoveSlot, "INVALID_SLOT");
});

Deno.test("CAP_MOVE rollback: a refused send (full queue, timeout) keeps the cap", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const a = k.spawn("a", async (sys) => {
    const moved = sys.capDerive(0, RIGHT_SEND, 40);
    await sys.send(5, bytes("fill"));
    r.nonblock = await outcome(sys.send(5, bytes("m"), { moveCap: moved, nonblock: true }));
    r.afterNonblock = sys.capQuery(40)?.rights;
    r.timeout = await outcome(
      sys.send(5, bytes("m"), { moveCap: moved, deadline: sys.now() + 50_000 }),
    );
    r.timeoutAt = sys.now();
    r.afterTimeout = sys.capQuery(40)?.rights;
    // Blocked, then admitted when the receiver drains: the cap leaves at queue time.
    await sys.send(5, bytes("m"), { moveCap: moved });
    r.afterQueued = sys.capQuery(40);
  });
  const b = k.spawn("b", async (sys) => {
    await sys.sleep(200_000);
    const first = await sys.recv(5);
    r.first = [text(first.data), first.capSlot];
    const second = await sys.recv(5);
    r.second = [text(second.data), second.capSlot];
  });
  wire(k, b, 5, a, 5, 1);
  await k.run();
  assertEquals(r.nonblock, "WOULD_BLOCK");
  assertEquals(r.afterNonblock, RIGHT_SEND);
  assertEquals(r.timeout, "TIMED_OUT");
  assert((r.timeoutAt as number) >= 50_000);
  assertEquals(r.afterTimeout, RIGHT_SEND);
  assertEquals(r.afterQueued, null);
  assertEquals(r.first, ["fill", undefined]);
  assertEquals(r.second, ["m", 1]);
});

Deno.test("CAP_MOVE: a receiver with a full table gets the frame and the cap is dropped", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const a = k.spawn("a", async (sys) => {
    const moved = sys.capDerive(0, RIGHT_SEND, 40);
    await sys.send(5, bytes("m"), { moveCap: moved });
    r.sender = sys.capQuery(40);
  });
  const b = k.spawn("b", async (sys) => {
    while (syncOutcome(() => sys.capClone(0)) === "ok");
    const m = await sys.recv(5);
    r.msg = [text(m.data), m.capSlot];
  });
  wire(k, b, 5, a, 5);
  await k.run();
  assertEquals(r.sender, null);
  assertEquals(r.msg, ["m", undefined]);
});

Deno.test("owner exit closes its endpoints and wakes blocked senders and receivers with CLOSED", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const owner = k.spawn("owner", async (sys) => {
    await sys.sleep(10_000);
    await sys.exit(3);
    r.afterExit = true;
  });
  const rx = k.spawn("rx", async (sys) => {
    r.rx = await outcome(sys.recv(5));
    r.rxAgain = await outcome(sys.recv(5));
    r.rxQuery = sys.capQuery(5)!.endpoint!.closed;
  });
  const tx = k.spawn("tx", async (sys) => {
    await sys.send(5, bytes("q"));
    r.tx = await outcome(sys.send(5, bytes("blocked")));
    r.txAgain = await outcome(sys.send(5, bytes("late")));
  });
  const drain = k.spawn("drain", async (sys) => {
    await sys.sleep(20_000);
    r.drained = text((await sys.recv(6)).data);
    r.drainedThen = await outcome(sys.recv(6));
  });
  // rx waits on an endpoint the owner owns; tx fills one (depth 1) and blocks.
  const e1 = k.createEndpoint(owner, 2);
  k.placeCap(rx, 5, { kind: "endpoint", endpointId: e1, rights: RIGHT_RECV });
  const e2 = k.createEndpoint(owner, 1);
  k.placeCap(tx, 5, { kind: "endpoint", endpointId: e2, rights: RIGHT_SEND });
  k.placeCap(drain, 6, { kind: "endpoint", endpointId: e2, rights: RIGHT_RECV });
  const blocked: string[] = [];
  await k.run({ maxSteps: 4 });
  for (const t of k.taskList()) {
    if (t.state === "blocked") blocked.push(`${t.name}:${t.blockedOn?.op}`);
  }
  assertEquals(blocked, ["owner:sleep", "rx:recv", "tx:send", "drain:sleep"]);
  assertEquals((await k.run()).reason, "all-exited");
  assertEquals(r.afterExit, undefined);
  assertEquals(r.rx, "CLOSED");
  assertEquals(r.rxAgain, "CLOSED");
  assertEquals(r.rxQuery, true);
  assertEquals(r.tx, "CLOSED");
  assertEquals(r.txAgain, "CLOSED");
  // A closed endpoint still hands out what was queued, then reports CLOSED.
  assertEquals(r.drained, "q");
  assertEquals(r.drainedThen, "CLOSED");
  assertEquals(k.taskList()[0].exitCode, 3);
});

Deno.test("deadlines: recv and send time out at the deadline; a past deadline fails at once", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const a = k.spawn("a", async (sys) => {
    r.recv = await outcome(sys.recv(5, { deadline: 1_000_000 }));
    r.recvAt = sys.now();
    await sys.send(6, bytes("fill"));
    r.send = await outcome(sys.send(6, bytes("x"), { deadline: 3_000_000 }));
    r.sendAt = sys.now();
    const before = sys.now();
    r.past = await outcome(sys.recv(5, { deadline: before }));
    r.pastCost = sys.now() - before;
    r.irqPast = await outcome(sys.irqWait(7, { deadline: 0 }));
  });
  const b = k.spawn("b", async (sys) => {
    await sys.sleep(10_000_000);
  });
  wire(k, a, 5, b, 5);
  wire(k, b, 6, a, 6, 1);
  k.attachMmio(0, { attach() {}, read32: () => 0, write32() {} });
  k.placeCap(a, 7, { kind: "mmio", window: 0, rights: RIGHT_MAP });
  await k.run();
  assertEquals(r.recv, "TIMED_OUT");
  // Time jumps to the deadline, then the resumed task's next syscall costs time.
  assertEquals(r.recvAt, 1_000_000);
  assertEquals(r.send, "TIMED_OUT");
  assertEquals(r.sendAt, 3_000_000);
  assertEquals(r.past, "TIMED_OUT");
  assertEquals(r.pastCost, SYSCALL_COST_NS);
  assertEquals(r.irqPast, "TIMED_OUT");
  // b's sleep began at its first syscall (2 µs in) and was the last event.
  assertEquals(k.now(), 10_000_000 + 2 * SYSCALL_COST_NS);
});

Deno.test("deadlines: a frame arriving before the deadline wins", async () => {
  const k = new Kernel();
  let got = "";
  const a = k.spawn("a", async (sys) => {
    got = text((await sys.recv(5, { deadline: 1_000_000 })).data);
  });
  const b = k.spawn("b", async (sys) => {
    await sys.sleep(500_000);
    await sys.send(5, bytes("in time"));
  });
  wire(k, a, 5, b, 5);
  await k.run();
  assertEquals(got, "in time");
});

Deno.test("TRUNCATE: a short buffer fails unless truncate, and the frame stays queued", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  const a = k.spawn("a", async (sys) => {
    r.tooLarge = await outcome(sys.recv(5, { maxLen: 4 }));
    r.queued = sys.capQuery(5)!.endpoint!.queued;
    const m = await sys.recv(5, { maxLen: 4, truncate: true });
    r.cut = [text(m.data), m.truncated];
    const whole = await sys.recv(5, { maxLen: 5, truncate: true });
    r.whole = [text(whole.data), whole.truncated];
    r.badLen = await outcome(sys.recv(5, { maxLen: -1 }));
    // Blocked with a small buffer: the arriving frame fails the receive and stays queued.
    r.blocked = await outcome(sys.recv(5, { maxLen: 2 }));
    r.after = text((await sys.recv(5)).data);
  });
  const b = k.spawn("b", async (sys) => {
    await sys.send(5, bytes("abcdefgh"));
    await sys.send(5, bytes("exact"));
    await sys.sleep(1_000_000);
    await sys.send(5, bytes("late frame"));
  });
  wire(k, a, 5, b, 5);
  await k.run();
  assertEquals(r.tooLarge, "FRAME_TOO_LARGE");
  assertEquals(r.queued, 2);
  assertEquals(r.cut, ["abcd", true]);
  assertEquals(r.whole, ["exact", false]);
  assertEquals(r.badLen, "INVALID_ARGUMENT");
  assertEquals(r.blocked, "FRAME_TOO_LARGE");
  assertEquals(r.after, "late frame");
});

Deno.test("scheduler: yield is round-robin in pid order and sleep advances virtual time", async () => {
  const k = new Kernel();
  const order: string[] = [];
  for (const name of ["a", "b", "c"]) {
    k.spawn(name, async (sys) => {
      for (let i = 0; i < 3; i++) {
        order.push(`${name}${i}`);
        await sys.yield();
      }
    });
  }
  const res = await k.run();
  assertEquals(res.reason, "all-exited");
  assertEquals(order, ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
  assertEquals(res.time, 9 * SYSCALL_COST_NS);

  const k2 = new Kernel();
  const wakes: string[] = [];
  for (const [name, ns] of [["slow", 300], ["fast", 100], ["mid", 200], ["tie", 100]] as const) {
    k2.spawn(name, async (sys) => {
      await sys.sleep(ns * 1000);
      wakes.push(`${name}@${sys.now()}`);
    });
  }
  await k2.run();
  // Each sleep starts one syscall later than the previous task's; ties wake in pid order.
  assertEquals(wakes, ["fast@102000", "tie@104000", "mid@203000", "slow@301000"]);
});

Deno.test("scheduler: run reasons idle, all-exited, stopped, max-steps", async () => {
  const k = new Kernel();
  const a = k.spawn("a", async (sys) => {
    await sys.recv(5);
  });
  wire(k, a, 5, a, 6);
  const idleRes = await k.run();
  assertEquals(idleRes.reason, "idle");
  assertEquals(k.taskList()[0].state, "blocked");
  assertEquals(k.taskList()[0].blockedOn, { op: "recv", slot: 5, endpointId: 2, peer: "a" });

  const k2 = new Kernel();
  let n = 0;
  k2.spawn("spin", async (sys) => {
    for (;;) {
      n++;
      await sys.yield();
    }
  });
  const capped = await k2.run({ maxSteps: 10 });
  assertEquals([capped.reason, capped.steps, n], ["max-steps", 10, 10]);
  const stopped = await k2.run({ shouldStop: () => n >= 25 });
  assertEquals([stopped.reason, n], ["stopped", 25]);
  const more = await k2.run({ maxSteps: 1 });
  assertEquals([more.reason, n], ["max-steps", 26]);

  const k3 = new Kernel();
  assertEquals((await k3.run()).reason, "all-exited");
});

Deno.test("scheduler: a task that throws exits 1 and the kernel prints a panic line", async () => {
  const k = new Kernel();
  k.spawn("bad", async (sys) => {
    sys.print("before");
    await sys.yield();
    throw new Error("disk on fire");
  });
  k.spawn("kerr", async (sys) => {
    await sys.recv(77);
  });
  k.spawn(
    "sync-throw",
    (() => {
      throw new Error("not even async");
    }) as unknown as (sys: Syscalls) => Promise<void>,
  );
  await k.run();
  const lines = k.console.lines().map((l) => `${l.pid}:${l.text}`);
  assertEquals(lines, [
    "1:before",
    `${KERNEL_PID}:panic: kerr: EMPTY_SLOT: slot 77 is empty`,
    `${KERNEL_PID}:panic: sync-throw: not even async`,
    `${KERNEL_PID}:panic: bad: disk on fire`,
  ]);
  assertEquals(k.taskList().map((t) => t.exitCode), [PANIC_EXIT_CODE, 1, 1]);
});

Deno.test("scheduler: a NONBLOCK poller cannot starve the others", async () => {
  const k = new Kernel();
  let polls = 0;
  let got = "";
  const poller = k.spawn("poller", async (sys) => {
    for (;;) {
      polls++;
      const r = await outcome(sys.recv(5, { nonblock: true }));
      if (r === "ok") break;
    }
  });
  const sender = k.spawn("sender", async (sys) => {
    await sys.send(5, bytes("finally"));
    got = "sent";
  });
  wire(k, poller, 5, sender, 5);
  const res = await k.run({ maxSteps: 100 });
  assertEquals(res.reason, "all-exited");
  assertEquals(got, "sent");
  assert(polls > 1 && polls <= 300, `polls = ${polls}`);
});

Deno.test("scheduler: awaiting non-syscall promises keeps the schedule deterministic", async () => {
  async function once(): Promise<string[]> {
    const k = new Kernel();
    const log: string[] = [];
    for (const name of ["h1", "h2", "h3"]) {
      k.spawn(name, async (sys) => {
        for (let i = 0; i < 3; i++) {
          // Real asynchronous work of varying length between syscalls.
          const d = await crypto.subtle.digest("SHA-256", new Uint8Array(1000 * (4 - i)));
          await new Promise((r) => setTimeout(r, name === "h1" ? 3 : 0));
          log.push(`${name}:${i}:${new Uint8Array(d)[0]}@${sys.now()}`);
          await sys.yield();
        }
      });
    }
    await k.run();
    return log;
  }
  const first = await once();
  assertEquals(first.length, 9);
  assertEquals(first.map((l) => l.split(":").slice(0, 2).join(":")), [
    "h1:0",
    "h2:0",
    "h3:0",
    "h1:1",
    "h2:1",
    "h3:1",
    "h1:2",
    "h2:2",
    "h3:2",
  ]);
  assertEquals(await once(), first);
});

Deno.test("scheduler: a second syscall while one is in flight is refused", async () => {
  const k = new Kernel();
  const r: string[] = [];
  const a = k.spawn("a", async (sys) => {
    const p1 = outcome(sys.recv(5));
    const p2 = outcome(sys.sleep(10));
    r.push(await p2);
    r.push(await p1);
  });
  const b = k.spawn("b", async (sys) => {
    await sys.send(5, bytes("x"));
  });
  wire(k, a, 5, b, 5);
  await k.run();
  assertEquals(r, ["INVALID_ARGUMENT", "ok"]);
});

Deno.test("console: lines carry time and pid, multi-line prints split, subscribe streams", async () => {
  const k = new Kernel();
  const streamed: string[] = [];
  const unsub = k.console.subscribe((l) => streamed.push(l.text));
  k.spawn("p", async (sys) => {
    sys.print("one");
    await sys.sleep(5000);
    sys.print("two\nthree\n");
    unsub();
    sys.print("four");
  });
  await k.run();
  assertEquals(k.console.lines(), [
    { time: 0, pid: 1, text: "one" },
    { time: 6000, pid: 1, text: "two" },
    { time: 6000, pid: 1, text: "three" },
    { time: 6000, pid: 1, text: "four" },
  ]);
  assertEquals(streamed, ["one", "two", "three"]);
});

Deno.test("kill: the host ends a blocked task and its endpoints close", async () => {
  const k = new Kernel();
  const r: string[] = [];
  const victim = k.spawn("victim", async (sys) => {
    await sys.recv(0);
  });
  const waiter = k.spawn("waiter", async (sys) => {
    r.push(await outcome(sys.recv(5)));
  });
  const e = k.createEndpoint(victim, 1);
  k.placeCap(waiter, 5, { kind: "endpoint", endpointId: e, rights: RIGHT_RECV });
  assertEquals((await k.run()).reason, "idle");
  k.kill(victim);
  assertEquals(assertThrows(() => k.kill(victim), KernelError).code, "NO_SUCH_TASK");
  assertEquals((await k.run()).reason, "all-exited");
  assertEquals(r, ["CLOSED"]);
  assertEquals(k.taskList().map((t) => t.exitCode), [KILLED_EXIT_CODE, 0]);
});

Deno.test("taskList: blocked rows name the op, slot, endpoint, peer and since", async () => {
  const k = new Kernel();
  const srv = k.spawn("statefsd", async (sys) => {
    await sys.sleep(1_000_000_000);
  });
  const cli = k.spawn("client", async (sys) => {
    await sys.send(5, bytes("a"));
    await sys.send(5, bytes("b"));
  });
  const ep = wire(k, srv, 5, cli, 5, 1);
  await k.run({ maxSteps: 2 });
  const rows = k.taskList();
  assertEquals(rows[0].state, "blocked");
  assertEquals(rows[0].blockedOn, { op: "sleep" });
  assertEquals(rows[1].state, "blocked");
  assertEquals(rows[1].blockedOn, { op: "send", slot: 5, endpointId: ep, peer: "statefsd" });
  assertEquals(rows[1].since, 3 * SYSCALL_COST_NS);
});

Deno.test("tracer: every syscall is reported with its outcome, blocking calls twice", async () => {
  const events: SyscallEvent[] = [];
  const k = new Kernel({ tracer: (e) => e.kind === "syscall" && events.push(e) });
  const a = k.spawn("a", async (sys) => {
    const m = await sys.recv(5);
    sys.capQuery(m.capSlot!);
    await outcome(sys.recv(5, { nonblock: true }));
  });
  const b = k.spawn("b", async (sys) => {
    sys.print("hi");
    await sys.send(5, bytes("12345"), { moveCap: sys.capDerive(0, RIGHT_SEND) });
  });
  wire(k, a, 5, b, 5);
  await k.run();
  const fmt = events.map((e) =>
    `${e.time} ${e.task} ${e.op} ${e.slot ?? "-"} ${e.size ?? "-"} ${e.outcome}`
  );
  assertEquals(fmt, [
    "1000 a recv 5 - blocked",
    "1000 b print - - ok",
    "1000 b capDerive 0 - ok",
    "2000 b send 5 5 ok",
    "2000 a recv 5 5 ok",
    "2000 a capQuery 1 - ok",
    "3000 a recv 5 - WOULD_BLOCK",
  ]);
});

Deno.test("MMIO: reads and writes reach the device at the cap's window; offsets are checked", async () => {
  const k = new Kernel();
  const writes: string[] = [];
  let hostNow = -1;
  k.attachMmio(3, {
    attach(host) {
      hostNow = host.now();
    },
    read32: (off) => off === 0 ? 0x74726976 : off | 0x80000000,
    async write32(off, v) {
      await new Promise((r) => setTimeout(r, 1));
      writes.push(`${off}=${v.toString(16)}`);
    },
  });
  const r: Record<string, unknown> = {};
  k.spawn("drv", async (sys) => {
    r.magic = await sys.mmioRead32(5, 0);
    r.high = await sys.mmioRead32(5, 0x10);
    await sys.mmioWrite32(5, 0x70, -1);
    r.afterWrite = writes.length;
    r.unaligned = await outcome(sys.mmioRead32(5, 2));
    r.beyond = await outcome(sys.mmioRead32(5, 0x1000));
    r.noMap = await outcome(sys.mmioRead32(6, 0));
    r.wrongKind = await outcome(sys.mmioRead32(0, 0));
    r.noDevice = await outcome(sys.mmioWrite32(7, 0, 1));
    r.badValue = await outcome(sys.mmioWrite32(5, 0, 1.5));
  });
  k.placeCap(1, 5, { kind: "mmio", window: 3, rights: RIGHT_MAP });
  k.placeCap(1, 6, { kind: "mmio", window: 3, rights: RIGHT_SEND });
  k.placeCap(1, 7, { kind: "mmio", window: 4, rights: RIGHT_MAP });
  await k.run();
  assertEquals(hostNow, 0);
  assertEquals(r.magic, 0x74726976);
  assertEquals(r.high, 0x80000010);
  assertEquals(writes, ["112=ffffffff"]);
  assertEquals(r.afterWrite, 1);
  assertEquals(r.unaligned, "INVALID_ARGUMENT");
  assertEquals(r.beyond, "INVALID_ARGUMENT");
  assertEquals(r.noMap, "PERMISSION_DENIED");
  assertEquals(r.wrongKind, "WRONG_KIND");
  assertEquals(r.noDevice, "NO_DEVICE");
  assertEquals(r.badValue, "INVALID_ARGUMENT");
  assertEquals(
    assertThrows(() => k.attachMmio(3, { attach() {}, read32: () => 0, write32() {} }), KernelError)
      .code,
    "SLOT_OCCUPIED",
  );
});

Deno.test("MMIO irq: a pending irq is consumed at once; a waiter wakes when the device raises it", async () => {
  const k = new Kernel();
  let raise = () => {};
  k.attachMmio(0, {
    attach(host) {
      raise = () => host.raiseIrq();
    },
    read32: () => 0,
    write32(off) {
      if (off === 0x50) raise();
    },
  });
  const r: string[] = [];
  const waiter = k.spawn("waiter", async (sys) => {
    r.push(`nonblock:${await outcome(sys.irqWait(5, { nonblock: true }))}`);
    r.push(`timeout:${await outcome(sys.irqWait(5, { deadline: sys.now() + 10_000 }))}`);
    await sys.irqWait(5);
    r.push(`woke@${sys.now()}`);
    await sys.sleep(100_000);
    // Raised while nobody waited: pending, consumed at once, then gone.
    r.push(`pending:${await outcome(sys.irqWait(5, { nonblock: true }))}`);
    r.push(`again:${await outcome(sys.irqWait(5, { nonblock: true }))}`);
    r.push(`noMap:${await outcome(sys.irqWait(6))}`);
  });
  k.spawn("kick", async (sys) => {
    await sys.sleep(50_000);
    r.push(`kick@${sys.now()}`);
    await sys.mmioWrite32(5, 0x50, 0);
    await sys.mmioWrite32(5, 0x50, 0);
  });
  k.placeCap(waiter, 5, { kind: "mmio", window: 0, rights: RIGHT_MAP });
  k.placeCap(waiter, 6, { kind: "mmio", window: 0, rights: RIGHT_SEND });
  k.placeCap(2, 5, { kind: "mmio", window: 0, rights: RIGHT_MAP });
  await k.run();
  assertEquals(r, [
    "nonblock:WOULD_BLOCK",
    "timeout:TIMED_OUT",
    // waiter: irq timeout at 12 µs; kick: sleep from 3 µs, writes at 54 µs (raise, waiter
    // wakes) and 55 µs (pending); the waiter resumes after kick exits.
    "kick@53000",
    "woke@55000",
    "pending:ok",
    "again:WOULD_BLOCK",
    "noMap:PERMISSION_DENIED",
  ]);
});

Deno.test("DMA: allocate, read, write own memory; BAD_ADDRESS elsewhere; NO_DEVICE without memory", async () => {
  const { SimpleMemory } = await import("./memory.ts");
  const memory = new SimpleMemory(1 << 16);
  const k = new Kernel({ memory });
  const r: Record<string, unknown> = {};
  let seenByDevice = "";
  k.attachMmio(0, {
    attach(host) {
      seenByDevice = String(host.memory.size);
    },
    read32: () => 0,
    write32() {},
  });
  k.spawn("a", async (sys) => {
    const addr = sys.dmaAlloc(64, 4096);
    r.aligned = addr % 4096;
    sys.memWrite(addr + 8, bytes("ring"));
    r.read = text(sys.memRead(addr + 8, 4));
    r.device = text(memory.read(addr + 8, 4));
    r.overrun = syncOutcome(() => sys.memRead(addr + 60, 8));
    r.badAlign = syncOutcome(() => sys.dmaAlloc(8, 3));
    r.badSize = syncOutcome(() => sys.dmaAlloc(0));
    r.exhausted = syncOutcome(() => sys.dmaAlloc(1 << 20));
    r.addr = addr;
    await sys.yield();
  });
  k.spawn("b", async (sys) => {
    r.foreign = syncOutcome(() => sys.memRead(r.addr as number, 4));
    r.foreignWrite = syncOutcome(() => sys.memWrite(r.addr as number, bytes("x")));
  });
  await k.run();
  assertEquals(seenByDevice, String(1 << 16));
  assertEquals(r.aligned, 0);
  assertEquals(r.read, "ring");
  assertEquals(r.device, "ring");
  assertEquals(r.overrun, "BAD_ADDRESS");
  assertEquals(r.badAlign, "INVALID_ARGUMENT");
  assertEquals(r.badSize, "INVALID_ARGUMENT");
  assertEquals(r.exhausted, "INVALID_ARGUMENT");
  assertEquals(r.foreign, "BAD_ADDRESS");
  assertEquals(r.foreignWrite, "BAD_ADDRESS");

  const bare = new Kernel();
  let noMem = "";
  bare.spawn("a", async (sys) => {
    noMem = syncOutcome(() => sys.dmaAlloc(16));
  });
  await bare.run();
  assertEquals(noMem, "NO_DEVICE");
});

/** A small system: a server, clients doing request/reply with moved caps, sleepers, a poller. */
async function workload(): Promise<{ trace: string; console: string; result: string }> {
  const events: TraceEvent[] = [];
  const k = new Kernel({ tracer: (e) => events.push(e) });
  const server = k.spawn("server", async (sys) => {
    for (;;) {
      const m = await outcome(
        sys.recv(5, { deadline: 40_000_000 }).then(async (req) => {
          const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(req.data)));
          sys.print(`server: ${text(req.data)} from ${req.senderPid} h=${d[0]}`);
          await sys.send(req.capSlot!, d.subarray(0, 4), { nonblock: true });
          sys.capClose(req.capSlot!);
        }),
      );
      if (m !== "ok") {
        sys.print(`server: stop ${m}`);
        return;
      }
    }
  });
  const clients: number[] = [];
  for (const name of ["c1", "c2", "c3"]) {
    clients.push(k.spawn(name, async (sys) => {
      for (let i = 0; i < 4; i++) {
        const reply = sys.capDerive(0, RIGHT_SEND);
        await sys.send(6, bytes(`${name}-${i}`), { moveCap: reply });
        const m = await sys.recv(0);
        sys.print(`${name}: reply ${m.data.join(",")} at ${sys.now()}`);
        await sys.sleep((name.charCodeAt(1) - 48) * 1_000_000);
      }
    }));
  }
  const ep = k.createEndpoint(server, 2);
  k.placeCap(server, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
  for (const c of clients) {
    k.placeCap(c, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  }
  const res = await k.run();
  return {
    trace: JSON.stringify(events),
    console: JSON.stringify(k.console.lines()),
    result: JSON.stringify(res),
  };
}

Deno.test("determinism: a workload run twice gives identical traces and console", async () => {
  const a = await workload();
  const b = await workload();
  assert(a.trace.length > 1000);
  assertEquals(b.trace, a.trace);
  assertEquals(b.console, a.console);
  assertEquals(b.result, a.result);
  assert(a.console.includes("server: stop TIMED_OUT"));
  assertEquals((a.console.match(/reply/g) ?? []).length, 12);
});

Deno.test("tracer: a parked call is traced under its syscall name, before and after", async () => {
  const events: SyscallEvent[] = [];
  const k = new Kernel({ tracer: (e) => e.kind === "syscall" && events.push(e) });
  let raise = () => {};
  k.attachMmio(1, {
    attach(host) {
      raise = () => host.raiseIrq();
    },
    read32: () => 0,
    write32: () => raise(),
  });
  const w = k.spawn("waiter", async (sys) => {
    await sys.irqWait(5);
  });
  const d = k.spawn("driver", async (sys) => {
    await sys.mmioWrite32(5, 0x50, 1);
  });
  k.placeCap(w, 5, { kind: "mmio", window: 1, rights: RIGHT_MAP });
  k.placeCap(d, 5, { kind: "mmio", window: 1, rights: RIGHT_MAP });
  await k.run();
  assertEquals(events.map((e) => `${e.task} ${e.op} ${e.outcome}`), [
    "waiter irqWait blocked",
    "driver mmioWrite32 ok",
    "waiter irqWait ok",
  ]);
});

Deno.test("run: the host can stop a task stuck outside any syscall", async () => {
  const k = new Kernel();
  let polls = 0;
  k.spawn("stuck", async (sys) => {
    sys.print("about to hang");
    await new Promise(() => {});
  });
  k.spawn("never", async (sys) => {
    sys.print("never runs");
  });
  const res = await k.run({ shouldStop: () => polls++ > 0 });
  assertEquals([res.reason, res.steps], ["stopped", 1]);
  assertEquals(k.taskList().map((t) => t.state), ["running", "ready"]);
  assertEquals(k.console.lines().map((l) => l.text), ["about to hang"]);
  // Without a way to stop, a later run would wait for the stuck step; with one it stops again.
  const again = await k.run({ shouldStop: () => true });
  assertEquals([again.reason, again.steps], ["stopped", 0]);
});

Deno.test("scheduler: sleep(0) yields, exit defaults to code 0, run is not re-entrant", async () => {
  const k = new Kernel();
  const order: string[] = [];
  const r: Record<string, unknown> = {};
  k.spawn("a", async (sys) => {
    order.push("a1");
    await sys.sleep(0);
    order.push("a2");
    await sys.sleep(-5);
    order.push("a3");
    await sys.exit();
  });
  k.spawn("b", async (sys) => {
    order.push("b1");
    await sys.yield();
    order.push("b2");
    await sys.yield();
    order.push("b3");
    r.bad = await outcome(sys.sleep(Number.NaN));
  });
  const running = k.run();
  await assertRejects(() => k.run(), Error, "already running");
  await running;
  assertEquals(order, ["a1", "b1", "a2", "b2", "a3", "b3"]);
  assertEquals(r.bad, "INVALID_ARGUMENT");
  assertEquals(k.taskList().map((t) => t.exitCode), [0, 0]);
  assertEquals(assertThrows(() => k.spawn("", idle), KernelError).code, "INVALID_ARGUMENT");
});

type Op =
  | { kind: "send"; to: number; len: number; nonblock: boolean }
  | { kind: "recv"; deadline: number | null }
  | { kind: "sleep"; ns: number }
  | { kind: "yield" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("send" as const),
    to: fc.integer({ min: 0, max: 2 }),
    len: fc.integer({ min: 0, max: 64 }),
    nonblock: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("recv" as const),
    deadline: fc.option(fc.integer({ min: 0, max: 200_000 })),
  }),
  fc.record({ kind: fc.constant("sleep" as const), ns: fc.integer({ min: 0, max: 100_000 }) }),
  fc.record({ kind: fc.constant("yield" as const) }),
);

/** Runs three tasks executing `programs` over a full mesh of depth-2 endpoints. */
async function runPrograms(programs: Op[][]): Promise<string> {
  const events: TraceEvent[] = [];
  const k = new Kernel({ tracer: (e) => events.push(e) });
  const pids = programs.map((prog, i) =>
    k.spawn(`t${i}`, async (sys) => {
      for (const op of prog) {
        let r: string;
        if (op.kind === "send") {
          r = await outcome(sys.send(10 + op.to, new Uint8Array(op.len).fill(i), op));
        } else if (op.kind === "recv") {
          const deadline = op.deadline === null ? undefined : sys.now() + op.deadline;
          r = await outcome(sys.recv(5, { deadline, nonblock: deadline === undefined }));
        } else if (op.kind === "sleep") r = await outcome(sys.sleep(op.ns));
        else r = await outcome(sys.yield());
        sys.print(`${op.kind} ${r}`);
      }
    })
  );
  for (const owner of pids) {
    const ep = k.createEndpoint(owner, 2);
    k.placeCap(owner, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_RECV });
    for (const sender of pids) {
      k.placeCap(sender, 10 + owner - 1, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
    }
  }
  const res = await k.run({ maxSteps: 10_000 });
  return JSON.stringify(
    [res, events, k.console.lines(), k.taskList()],
    (_k, v) => typeof v === "bigint" ? v.toString() : v,
  );
}

Deno.test("determinism: random three-task programs replay byte-identically (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 3, maxLength: 3 }),
      async (programs) => {
        const first = await runPrograms(programs);
        const second = await runPrograms(programs);
        assertEquals(second, first);
      },
    ),
    { numRuns: 40, seed: 11 },
  );
});

Deno.test("privilege: a task cannot promote itself by putting another MANAGE cap in slot 0", async () => {
  const k = new Kernel();
  const r: Record<string, unknown> = {};
  k.spawn("init", async (sys) => {
    // Hand the child a factory: it can create endpoints (with MANAGE) for itself.
    sys.capTransfer(PRIVILEGED_FACTORY_SLOT, 2, RIGHT_MANAGE, 9);
    await sys.yield();
    r.initStill = syncOutcome(() => sys.taskList());
    // Dropping and restoring its own bootstrap cap keeps init privileged.
    const copy = sys.capClone(0);
    sys.capClose(0);
    r.initWithout = syncOutcome(() => sys.taskList());
    sys.capDerive(copy, RIGHTS_ALL & ~RIGHT_MAP, 0);
    r.initRestored = syncOutcome(() => sys.taskList());
  }, { privileged: true });
  k.spawn("child", async (sys) => {
    const mine = sys.endpointCreate(9, 1);
    sys.capClose(0);
    sys.capDerive(mine, RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE, 0);
    r.childRights = sys.capQuery(0)!.rights;
    r.childSpawn = syncOutcome(() => sys.spawn("rogue", idle));
    r.childTransfer = syncOutcome(() => sys.capTransfer(0, 1, RIGHT_SEND));
  });
  await k.run();
  assertEquals(r.childRights, RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE);
  assertEquals(r.childSpawn, "PERMISSION_DENIED");
  assertEquals(r.childTransfer, "PERMISSION_DENIED");
  assertEquals(r.initStill, "ok");
  assertEquals(r.initWithout, "PERMISSION_DENIED");
  assertEquals(r.initRestored, "ok");
  assertEquals(k.taskList().length, 2);
});
