import { assert, assertEquals } from "../../tests/assert.ts";
import { frameWriter, isReplyTo } from "../../core/kernel/frame.ts";
import {
  encodeMalformed,
  encodeProbeReply,
  isProbe,
  UG_MAGIC,
  UG_MALFORMED,
  UG_OK,
  UG_OP_PROBE,
  UG_VERSION,
} from "./protocol.ts";

Deno.test("UG: only a v1 PROBE frame is a probe", () => {
  assert(isProbe(frameWriter(UG_MAGIC, UG_VERSION, UG_OP_PROBE).finish()));
  assert(!isProbe(frameWriter(UG_MAGIC, 2, UG_OP_PROBE).finish()));
  assert(!isProbe(frameWriter(UG_MAGIC, UG_VERSION, 2).finish()));
  assert(!isProbe(frameWriter("KS", UG_VERSION, UG_OP_PROBE).finish()));
  assert(!isProbe(Uint8Array.of(0x55, 0x47, 1)));
});

Deno.test("UG: the PROBE reply carries the three statuses in order; a refusal carries none", () => {
  const ok = encodeProbeReply({ sign: 5, bootAttempt: 4, health: 2 });
  assert(isReplyTo(ok, UG_MAGIC, UG_VERSION, UG_OP_PROBE));
  assertEquals([...ok.slice(4)], [UG_OK, 5, 4, 2]);
  const bad = encodeMalformed();
  assert(isReplyTo(bad, UG_MAGIC, UG_VERSION, UG_OP_PROBE));
  assertEquals([...bad.slice(4)], [UG_MALFORMED]);
});
