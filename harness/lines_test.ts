import { assert, assertEquals } from "../tests/assert.ts";
import { fileStream, LineSplitter, splitLines } from "./lines.ts";

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

Deno.test("fileStream reads a file in chunks of the given size and closes it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = "init: start\r\nSELFTEST: end\nno newline at the end";
    await Deno.writeTextFile(`${dir}/log`, text);
    const file = await Deno.open(`${dir}/log`);
    const sizes: number[] = [];
    const sp = new LineSplitter();
    const lines: string[] = [];
    for await (const chunk of fileStream(file, 7)) {
      sizes.push(chunk.length);
      lines.push(...sp.push(chunk));
    }
    lines.push(...sp.flush());
    assertEquals(lines, ["init: start", "SELFTEST: end", "no newline at the end"]);
    assert(sizes.every((n) => n <= 7) && sizes.length >= text.length / 7);
    // Closed at the end: closing again fails.
    let closed = false;
    try {
      file.close();
    } catch {
      closed = true;
    }
    assert(closed, "the file was closed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
