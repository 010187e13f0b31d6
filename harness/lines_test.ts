import { assertEquals } from "../tests/assert.ts";
import { LineSplitter, splitLines } from "./lines.ts";

const enc = new TextEncoder();

Deno.test("LineSplitter joins lines split across chunks and drops CR of CRLF", () => {
  const sp = new LineSplitter();
  assertEquals(sp.push(enc.encode("init: st")), []);
  assertEquals(sp.push(enc.encode("art\r\ninit: ready\nlog")), ["init: start", "init: ready"]);
  assertEquals(sp.push(enc.encode("d: ready\n")), ["logd: ready"]);
  assertEquals(sp.flush(), []);
});

Deno.test("LineSplitter keeps a last line without newline and multi-byte characters split across chunks", () => {
  const sp = new LineSplitter();
  const bytes = enc.encode("caf\u00e9\nend");
  // Split inside the two-byte é.
  assertEquals(sp.push(bytes.subarray(0, 4)), []);
  assertEquals(sp.push(bytes.subarray(4)), ["caf\u00e9"]);
  assertEquals(sp.flush(), ["end"]);
});

Deno.test("LineSplitter cuts a line that never ends at its bound", () => {
  const sp = new LineSplitter(8);
  assertEquals(sp.push(enc.encode("0123456789abcdefXY")), ["01234567", "89abcdef"]);
  assertEquals(sp.flush(), ["XY"]);
});

Deno.test("splitLines keeps empty lines but adds none at the end", () => {
  assertEquals(splitLines("a\n\nb\n"), ["a", "", "b"]);
  assertEquals(splitLines(""), []);
});
