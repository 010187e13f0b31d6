import { assertEquals } from "../../tests/assert.ts";
import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { accessRule, listRule, ruleId } from "./access.ts";

Deno.test("access: keystore keys belong to keystored for reads and writes", () => {
  for (const write of [false, true]) {
    assertEquals(accessRule("/state/keystore/device.signing", write), {
      kind: "owner",
      owner: "keystored",
      serviceId: fnv1a64("keystored"),
    });
  }
  assertEquals(ruleId(accessRule("/state/keystore", true)), "owner:keystored");
  assertEquals(ruleId(accessRule("/state/keystorex", true)), "cap:statefs.write");
});

Deno.test("access: boot keys need statefs.boot to write, statefs.boot.read to read", () => {
  assertEquals(ruleId(accessRule("/state/boot/bootctl.v1", false)), "cap:statefs.boot.read");
  assertEquals(ruleId(accessRule("/state/boot/bootctl.v1", true)), "cap:statefs.boot");
  assertEquals(ruleId(accessRule("/state/bootx", false)), "cap:statefs.read");
  assertEquals(ruleId(accessRule("/state/app/x", false)), "cap:statefs.read");
  assertEquals(ruleId(accessRule("/state/app/x", true)), "cap:statefs.write");
});

Deno.test("access: list prefixes take the rule of the namespace they are in", () => {
  assertEquals(ruleId(listRule("/state/keystore/")), "owner:keystored");
  assertEquals(ruleId(listRule("/state/boot/")), "cap:statefs.boot.read");
  assertEquals(ruleId(listRule("/state/")), "cap:statefs.read");
  assertEquals(ruleId(listRule("/state/b")), "cap:statefs.read");
});
