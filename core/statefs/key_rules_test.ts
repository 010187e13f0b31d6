/**
 * The key rules at their edges: the UTF-8 length the engine computes without encoding, the
 * 255-byte cap counted in bytes (not UTF-16 units), keys that are not well-formed, and "." or
 * ".." as a last component. A key the rules let through under another name would be stored
 * under bytes nobody asked for.
 */
import fc from "fast-check";
import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { MemoryBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { StateFsError } from "./errors.ts";
import { checkKey, MAX_KEY_BYTES, utf8Length } from "./journal.ts";

const enc = new TextEncoder();

function code(key: string): string {
  try {
    checkKey(key);
    return "ok";
  } catch (err) {
    if (err instanceof StateFsError) return err.code;
    throw err;
  }
}

/**
 * A code point of each UTF-8 width in turn (surrogates excluded), so every width and its edges
 * come up often. fast-check's own `unit: "binary"` gives the same strings but takes over a second
 * to build.
 */
const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0x7ff }),
  fc.integer({ min: 0x800, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xffff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
).map((c) => String.fromCodePoint(c));

Deno.test("utf8Length is the encoded length of every well-formed string (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: codePoint, maxLength: 40 }), (s) => {
      assertEquals(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
    }),
    { numRuns: 200 },
  );
  // One of each width, the edges between them, and a wide character followed by another (a
  // count that took it for a surrogate pair would skip the second).
  for (
    const c of [
      "\x7f",
      "\x80",
      "\u07ff",
      "\u0800",
      "\ud7ff",
      "\ue000",
      "\uffff",
      "\u{10000}",
      "\u{10ffff}",
      "\ue000\u00e9",
      "\uffff\u0800",
    ]
  ) {
    assertEquals(utf8Length(c), enc.encode(c).length, `U+${c.codePointAt(0)!.toString(16)}`);
  }
});

Deno.test("the key cap counts UTF-8 bytes: 255 pass, 256 do not, whatever the widths", () => {
  const head = "/state/";
  for (const ch of ["k", "é", "€", "\u{1f600}"]) {
    const width = enc.encode(ch).length;
    const room = MAX_KEY_BYTES - head.length;
    const fill = ch.repeat(Math.floor(room / width)) + "k".repeat(room % width);
    assertEquals(enc.encode(head + fill).length, MAX_KEY_BYTES);
    assertEquals(code(head + fill), "ok", `${MAX_KEY_BYTES} bytes of ${ch}`);
    assertEquals(checkKey(head + fill), MAX_KEY_BYTES);
    assertEquals(code(head + fill + "k"), "KEY_TOO_LONG", `${MAX_KEY_BYTES + 1} bytes of ${ch}`);
  }
  // As many UTF-16 units as the cap has bytes, one of them two bytes wide: over the cap.
  const units = head + "é" + "k".repeat(MAX_KEY_BYTES - head.length - 1);
  assertEquals(units.length, MAX_KEY_BYTES);
  assertEquals(code(units), "KEY_TOO_LONG");
});

Deno.test("a key that is not well-formed, or ends in a . or .. component, is refused", async () => {
  assertEquals(code("/state/a\ud800b"), "INVALID_KEY");
  assertEquals(code("/state/\udfff"), "INVALID_KEY");
  for (const k of ["/state/a/.", "/state/a/..", "/state/./a", "/state/a/../b"]) {
    assertEquals(code(k), "INVALID_KEY", k);
  }
  for (const k of ["/state/a/.b", "/state/.x", "/state/a..", "/state/a/...", "/state/a.b/c"]) {
    assertEquals(code(k), "ok", k);
  }
  // The engine takes the same rules on its write path.
  const dev = new MemoryBlockDevice(256);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev);
  for (const k of ["/state/\ud800", "/state/a/."]) {
    const err = await assertRejects(() => fs.put(k, new Uint8Array([1])), StateFsError);
    assertEquals(err.code, "INVALID_KEY", k);
  }
  assertEquals(fs.list("/state/", 10), []);
});
