import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { SLOT_A, SLOT_B } from "../bundlemgrd/protocol.ts";
import { bootAttempt, factoryBootCtl, healthOk, stage, switchTo } from "./bootctl.ts";
import { type BootCtl, BootCtlError, decodeBootCtl, encodeBootCtl } from "./protocol.ts";

Deno.test("bootctl: factory record encodes to the documented layout", () => {
  assertEquals(Array.from(encodeBootCtl(factoryBootCtl())), [1, 1, 0xff, 0xff, 0, 1]);
});

Deno.test("bootctl: records round-trip through every state the transitions reach", () => {
  let s: BootCtl = factoryBootCtl();
  const seen: BootCtl[] = [s];
  s = stage(s);
  seen.push(s);
  s = switchTo(s, 3);
  seen.push(s);
  s = bootAttempt(s).state;
  seen.push(s);
  s = healthOk(s);
  seen.push(s);
  for (const state of seen) assertEquals(decodeBootCtl(encodeBootCtl(state)), state);
});

Deno.test("bootctl: stage marks the standby slot, switch makes it active and pending", () => {
  const staged = stage(factoryBootCtl());
  assertEquals(staged.staged, SLOT_B);
  const switched = switchTo(staged, 2);
  assertEquals(switched, {
    active: SLOT_B,
    pending: SLOT_B,
    staged: null,
    triesLeft: 2,
    healthOk: false,
  });
  assertEquals(Array.from(encodeBootCtl(switched)), [1, 2, 2, 0xff, 2, 0]);
});

Deno.test("bootctl: health-ok clears pending and marks healthy", () => {
  const s = healthOk(switchTo(stage(factoryBootCtl()), 2));
  assertEquals(s, { active: SLOT_B, pending: null, staged: null, triesLeft: 0, healthOk: true });
});

Deno.test("bootctl: boot attempts count down and roll back at zero", () => {
  let s = switchTo(stage(factoryBootCtl()), 2);
  let r = bootAttempt(s);
  assertEquals(r.rolledBackTo, null);
  assert(r.changed);
  assertEquals(r.state.triesLeft, 1);
  assertEquals(r.state.active, SLOT_B);
  s = r.state;
  r = bootAttempt(s);
  assertEquals(r.rolledBackTo, SLOT_A);
  assertEquals(r.state, {
    active: SLOT_A,
    pending: null,
    staged: null,
    triesLeft: 0,
    healthOk: true,
  });
});

Deno.test("bootctl: a boot attempt without a pending switch changes nothing", () => {
  const s = stage(factoryBootCtl());
  const r = bootAttempt(s);
  assertEquals(r, { state: s, rolledBackTo: null, changed: false });
});

Deno.test("bootctl: switch from B rolls back to B", () => {
  const onB = healthOk(switchTo(stage(factoryBootCtl()), 1));
  const toA = switchTo(stage(onB), 1);
  assertEquals(toA.active, SLOT_A);
  const r = bootAttempt(toA);
  assertEquals(r.rolledBackTo, SLOT_B);
  assertEquals(r.state.active, SLOT_B);
});

Deno.test("bootctl: refused transitions carry stable codes", () => {
  const f = factoryBootCtl();
  assertEquals(assertThrows(() => switchTo(f, 1), BootCtlError).code, "NOTHING_STAGED");
  assertEquals(assertThrows(() => switchTo(stage(f), 0), BootCtlError).code, "BAD_TRIES");
  assertEquals(assertThrows(() => switchTo(stage(f), 256), BootCtlError).code, "BAD_TRIES");
  const pending = switchTo(stage(f), 1);
  assertEquals(assertThrows(() => stage(pending), BootCtlError).code, "SWITCH_PENDING");
  assertEquals(
    assertThrows(() => switchTo({ ...pending, staged: SLOT_A }, 1), BootCtlError).code,
    "SWITCH_PENDING",
  );
});

Deno.test("bootctl: damaged records are refused", () => {
  const bad = [
    [1, 1, 0xff, 0xff, 0],
    [1, 1, 0xff, 0xff, 0, 1, 0],
    [2, 1, 0xff, 0xff, 0, 1],
    [1, 0xff, 0xff, 0xff, 0, 1],
    [1, 3, 0xff, 0xff, 0, 1],
    [1, 1, 0, 0xff, 0, 1],
    [1, 1, 0xff, 7, 0, 1],
    [1, 1, 0xff, 0xff, 0, 2],
    [1, 1, 2, 0xff, 1, 0],
    [1, 1, 0xff, 1, 0, 1],
  ];
  for (const b of bad) {
    const err = assertThrows(() => decodeBootCtl(Uint8Array.from(b)), BootCtlError);
    assertEquals(err.code, "BAD_RECORD", `record ${b}`);
  }
});
