import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { utf8 } from "../../core/kernel/frame.ts";
import { SLOT_A, SLOT_B } from "./protocol.ts";
import { BundleConfigError, MAX_PROPERTIES_BYTES, SlotTable } from "./slots.ts";

function rejects(config: Record<string, unknown>, why: string): void {
  assertThrows(() => SlotTable.fromConfig(config), BundleConfigError, why);
}

Deno.test("slot extras: anything but a table is refused, an absent or null slot is empty", () => {
  for (const extras of ["x", 5, true, [], [["k", "v"]]]) {
    rejects({ slots: { a: extras } }, "slots.a must be a table");
    rejects({ slots: { b: extras } }, "slots.b must be a table");
  }
  for (const extras of [undefined, null, {}]) {
    const table = SlotTable.fromConfig({ slots: { a: extras } });
    assertEquals(
      table.properties(SLOT_A),
      "build.fingerprint=nexus/a/0.1.0\nbuild.slot=a\nbuild.version=0.1.0\n",
    );
  }
});

Deno.test("slot extras: strings, numbers and booleans are kept as text; other values are refused", () => {
  const table = SlotTable.fromConfig({
    slots: { b: { s: "x", n: 42, f: false, version: "2.0" } },
  });
  assertEquals(
    table.properties(SLOT_B),
    "build.fingerprint=nexus/b/2.0\nbuild.slot=b\nbuild.version=2.0\nf=false\nn=42\ns=x\n",
  );
  assertEquals(table.rows().map((r) => r.version), ["0.1.0", "2.0"]);
  for (const raw of [null, {}, ["x"], 1n]) {
    rejects({ slots: { a: { k: raw } } }, "slots.a.k must be a string, number or boolean");
  }
});

Deno.test("slot extras: a value of 255 UTF-8 bytes is one line; 256 bytes or a newline is refused", () => {
  const ok = "é".repeat(127) + "x"; // 255 bytes, 128 characters
  assertEquals(utf8(ok).length, 255);
  const table = SlotTable.fromConfig({ slots: { a: { k: ok } } });
  assertEquals(table.properties(SLOT_A).split("\n").includes(`k=${ok}`), true);
  for (const bad of ["é".repeat(128), "x".repeat(256), "a\nb", "\n"]) {
    rejects({ slots: { a: { k: bad } } }, "slots.a.k must be one line of at most 255 bytes");
  }
});

Deno.test("slot properties: exactly the size limit is accepted, one byte more is refused", () => {
  // The three build.* lines take 65 bytes; 15 lines `kNN=<247 bytes>\n` and `k15=<246 bytes>\n`
  // take the other 4031.
  const extras = (last: number): Record<string, string> => {
    const out: Record<string, string> = {};
    for (let i = 0; i < 16; i++) out[`k${String(i).padStart(2, "0")}`] = "v".repeat(247);
    out.k15 = "v".repeat(last);
    return out;
  };
  const table = SlotTable.fromConfig({ slots: { a: extras(246) } });
  assertEquals(utf8(table.properties(SLOT_A)).length, MAX_PROPERTIES_BYTES);
  rejects(
    { slots: { a: extras(247) } },
    `slots.a: properties exceed ${MAX_PROPERTIES_BYTES} bytes`,
  );
  // The limit counts bytes, not characters.
  rejects(
    { slots: { a: { ...extras(246), k00: "é".repeat(124) } } },
    "properties exceed",
  );
});
