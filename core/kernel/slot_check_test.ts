import { assertEquals } from "../../tests/assert.ts";
import { Kernel } from "./kernel.ts";
import type { ServiceEnv, SlotNeed } from "./service.ts";
import { checkSlots, probeSlots, slotHex } from "./slot_check.ts";
import { RIGHT_MAP, RIGHT_RECV, RIGHT_SEND } from "./types.ts";

const NEEDS: SlotNeed[] = [
  { name: "statefs", kind: "endpoint", rights: RIGHT_SEND, use: "persist keys", sync: true },
  { name: "inbox", kind: "endpoint", rights: RIGHT_RECV | RIGHT_SEND, use: "requests" },
  { name: "blk", kind: "mmio", rights: RIGHT_MAP, use: "virtio-blk window" },
];

/** Boots one task "svc" with caps placed by `setup`, runs the slot check, returns lines and verdict. */
async function check(
  slots: Record<string, number>,
  setup: (k: Kernel, pid: number, ep: number) => void,
): Promise<{ ok: boolean; lines: string[] }> {
  const k = new Kernel();
  let ok = false;
  const env: ServiceEnv = { slots, seed: 1, config: {} };
  const pid = k.spawn("svc", async (sys) => {
    ok = checkSlots(sys, env, NEEDS);
    await sys.yield();
  });
  setup(k, pid, k.createEndpoint(pid, 4));
  await k.run();
  return { ok, lines: k.console.lines().map((l) => l.text) };
}

const SLOTS = { statefs: 5, inbox: 6, blk: 0x1f };

function full(k: Kernel, pid: number, ep: number): void {
  k.placeCap(pid, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  k.placeCap(pid, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND | RIGHT_RECV });
  k.placeCap(pid, 0x1f, { kind: "mmio", window: 0, rights: RIGHT_MAP | RIGHT_SEND });
}

Deno.test("slot_check: every slot in place prints the ok marker", async () => {
  const res = await check(SLOTS, full);
  assertEquals(res, { ok: true, lines: ["slot-check: svc all 3 slots ok"] });
});

Deno.test("slot_check: an empty slot prints SLOT MISSING and FAIL", async () => {
  const res = await check(SLOTS, (k, pid, ep) => {
    k.placeCap(pid, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND | RIGHT_RECV });
    k.placeCap(pid, 0x1f, { kind: "mmio", window: 0, rights: RIGHT_MAP });
  });
  assertEquals(res, {
    ok: false,
    lines: ["SLOT MISSING: svc needs statefs at slot 0x05", "slot-check: svc FAIL (1 missing)"],
  });
});

Deno.test("slot_check: wrong kind and missing rights are reported per slot", async () => {
  const res = await check(SLOTS, (k, pid, ep) => {
    k.placeCap(pid, 5, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
    k.placeCap(pid, 6, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
    k.placeCap(pid, 0x1f, { kind: "endpoint", endpointId: ep, rights: RIGHT_MAP });
  });
  assertEquals(res, {
    ok: false,
    lines: [
      "SLOT MISSING: svc needs inbox at slot 0x06 (missing-rights)",
      "SLOT MISSING: svc needs blk at slot 0x1f (wrong-kind)",
      "slot-check: svc FAIL (2 missing)",
    ],
  });
});

Deno.test("slot_check: a need the manifest gives no (valid) slot counts as missing", async () => {
  const res = await check({ statefs: 5, inbox: 200 }, full);
  assertEquals(res, {
    ok: false,
    lines: [
      "SLOT MISSING: svc needs inbox at slot 0xc8",
      "SLOT MISSING: svc needs blk at slot (none assigned)",
      "slot-check: svc FAIL (2 missing)",
    ],
  });
});

Deno.test("slot_check: probeSlots reports reasons without printing", async () => {
  const k = new Kernel();
  let problems: unknown;
  const pid = k.spawn("svc", async (sys) => {
    problems = probeSlots(sys, { slots: { statefs: 5, inbox: 6 }, seed: 0, config: {} }, NEEDS);
    await sys.yield();
  });
  const ep = k.createEndpoint(pid, 1);
  k.placeCap(pid, 6, { kind: "mmio", window: 1, rights: RIGHT_MAP });
  k.placeCap(pid, 7, { kind: "endpoint", endpointId: ep, rights: RIGHT_SEND });
  await k.run();
  assertEquals(problems, [
    { name: "statefs", slot: 5, reason: "empty" },
    { name: "inbox", slot: 6, reason: "wrong-kind" },
    { name: "blk", slot: -1, reason: "unassigned" },
  ]);
  assertEquals(k.console.lines(), []);
});

Deno.test("slot_check: slotHex pads to two hex digits", () => {
  assertEquals([slotHex(0), slotHex(5), slotHex(0x1f), slotHex(95)], [
    "0x00",
    "0x05",
    "0x1f",
    "0x5f",
  ]);
});
