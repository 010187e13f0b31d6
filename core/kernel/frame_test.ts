import fc from "fast-check";
import { assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  ByteReader,
  ByteWriter,
  FrameError,
  frameWriter,
  fromUtf8,
  headerRefusal,
  isReplyTo,
  readHeader,
  REPLY_BIT,
  replyWriter,
  utf8,
} from "./frame.ts";

Deno.test("frame: writer lays fields out little-endian", () => {
  const bytes = new ByteWriter().u8(0xab).u16(0x1234).u32(0xdeadbeef).u64(0x0102030405060708n)
    .str("hi").bytes(new Uint8Array([9])).finish();
  assertEquals(
    [...bytes],
    [0xab, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 8, 7, 6, 5, 4, 3, 2, 1, 0x68, 0x69, 9],
  );
});

Deno.test("frame: writer grows past its initial buffer", () => {
  const w = new ByteWriter();
  for (let i = 0; i < 1000; i++) w.u32(i);
  const a = w.finish();
  assertEquals(a.length, 4000);
  assertEquals(new ByteReader(a.subarray(3996)).u32(), 999);
  assertEquals(new ByteReader(a).u32(), 0);
});

Deno.test("frame: a finished writer refuses further use instead of aliasing its frame", () => {
  const w = new ByteWriter().u8(1);
  const a = w.finish();
  assertThrows(() => w.u8(2), Error, "after finish");
  assertThrows(() => w.finish(), Error, "after finish");
  assertEquals([...a], [1]);
});

Deno.test("frame: writer wraps out-of-range numbers like a DataView would", () => {
  const mine = new ByteWriter().u8(-1).u8(256.7).u16(-2).u16(0x12345).u32(-1).u32(2 ** 32 + 7)
    .u32(NaN).u16(1.9).finish();
  const ref = new DataView(new ArrayBuffer(mine.length));
  ref.setUint8(0, -1);
  ref.setUint8(1, 256.7);
  ref.setUint16(2, -2, true);
  ref.setUint16(4, 0x12345, true);
  ref.setUint32(6, -1, true);
  ref.setUint32(10, 2 ** 32 + 7, true);
  ref.setUint32(14, NaN, true);
  ref.setUint16(18, 1.9, true);
  assertEquals([...mine], [...new Uint8Array(ref.buffer)]);
});

Deno.test("frame: reader copies are private and readers honour a view's offset", () => {
  const backing = new Uint8Array([0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const r = new ByteReader(backing.subarray(1));
  assertEquals(r.u8(), 1);
  assertEquals(r.u16(), 0x0302);
  assertEquals(r.u64(), 0x0b0a090807060504n);
  const copy = new ByteReader(backing.subarray(1)).bytes(3);
  backing[1] = 0x77;
  assertEquals([...copy], [1, 2, 3]);
});

Deno.test("frame: view reads without a copy, skip steps over bytes, both bounds-checked", () => {
  const backing = new Uint8Array([0xee, 1, 2, 3, 4, 5, 6]);
  const r = new ByteReader(backing.subarray(1));
  r.skip(1);
  const v = r.view(3);
  assertEquals([...v], [2, 3, 4]);
  backing[2] = 0x55; // the view is the frame's bytes, not a copy
  assertEquals(v[0], 0x55);
  assertEquals(r.offset, 4);
  assertThrows(() => r.view(3), FrameError);
  assertThrows(() => r.skip(3), FrameError);
  assertEquals([...r.view(2)], [5, 6]);
});

Deno.test("frame: reader round-trips every field type (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.string(),
      fc.uint8Array({ maxLength: 64 }),
      (a, b, c, d, s, raw) => {
        const body = utf8(s);
        const frame = new ByteWriter().u8(a).u16(b).u32(c).u64(d).u16(body.length).bytes(body)
          .bytes(raw).finish();
        const r = new ByteReader(frame);
        assertEquals([r.u8(), r.u16(), r.u32(), r.u64()], [a, b, c, d]);
        assertEquals(r.str(r.u16()), s);
        assertEquals(r.remaining, raw.length);
        assertEquals([...r.rest()], [...raw]);
        r.end();
      },
    ),
    { numRuns: 200, seed: 3 },
  );
});

Deno.test("frame: reader refuses to read past the end and reports trailing bytes", () => {
  const r = new ByteReader(new Uint8Array([1, 2, 3]));
  assertEquals(r.u16(), 0x0201);
  assertEquals(r.offset, 2);
  assertThrows(() => r.u16(), FrameError, "frame too short");
  // A failed read consumes nothing.
  assertEquals(r.offset, 2);
  assertThrows(() => r.end(), FrameError, "1 trailing bytes");
  assertThrows(() => r.bytes(-1), FrameError);
  assertEquals(r.u8(), 3);
  r.end();
  assertThrows(() => new ByteReader(new Uint8Array(7)).u64(), FrameError);
});

Deno.test("frame: reader works on a view into a larger buffer", () => {
  const big = new Uint8Array([0xee, 0x01, 0x00, 0xee]);
  const r = new ByteReader(big.subarray(1, 3));
  assertEquals(r.u16(), 1);
  r.end();
});

Deno.test("frame: strict UTF-8", () => {
  assertEquals(fromUtf8(utf8("statefsd \u00e9\u{1f511}")), "statefsd \u00e9\u{1f511}");
  assertThrows(() => fromUtf8(new Uint8Array([0xc3])), FrameError, "invalid UTF-8");
  assertThrows(() => new ByteReader(new Uint8Array([0xff, 0xfe])).str(2), FrameError);
});

Deno.test("frame: request and reply headers", () => {
  const req = frameWriter("RT", 1, 0x40).u8(3).finish();
  assertEquals([...req], [0x52, 0x54, 1, 0x40, 3]);
  assertEquals(readHeader(req), { magic: "RT", version: 1, op: 0x40 });
  const rep = replyWriter("RT", 1, 0x40, 2).finish();
  assertEquals([...rep], [0x52, 0x54, 1, 0x40 | REPLY_BIT, 2]);
  // Setting the reply bit is idempotent and stays within a byte.
  assertEquals(replyWriter("IH", 1, 0x81, 0).finish()[3], 0x81);
  assertEquals(readHeader(new Uint8Array([0x52, 0x54, 1])), null);
  assertEquals(readHeader(new Uint8Array(0)), null);
  assertThrows(() => frameWriter("R", 1, 1), RangeError);
  assertThrows(() => frameWriter("RTX", 1, 1), RangeError);
});

Deno.test("headerRefusal: short or foreign frames are malformed, other versions unsupported", () => {
  const MALFORMED = 6, UNSUPPORTED = 8;
  const refuse = (frame: Uint8Array) => headerRefusal(frame, "SF", 1, MALFORMED, UNSUPPORTED);
  assertEquals(refuse(Uint8Array.of(0x53, 0x46, 1)), MALFORMED, "shorter than a header");
  assertEquals(refuse(Uint8Array.of(0x53, 0x47, 1, 1)), MALFORMED, "another magic");
  assertEquals(refuse(Uint8Array.of(0x53, 0x46, 2, 1)), UNSUPPORTED, "another version");
  assertEquals(refuse(Uint8Array.of(0x53, 0x46, 1, 1, 9, 9)), null);
});

Deno.test("isReplyTo: magic, version, the reply bit or the exact op, and a status byte", () => {
  const reply = replyWriter("KS", 1, 11, 0).finish();
  assertEquals(isReplyTo(reply, "KS", 1, 11), true);
  assertEquals(isReplyTo(reply, "KS", 1), true, "any reply op");
  assertEquals(isReplyTo(reply, "KS", 1, 12), false, "another op");
  assertEquals(isReplyTo(reply, "KS", 2, 11), false, "another version");
  assertEquals(isReplyTo(reply, "UD", 1, 11), false, "another magic");
  assertEquals(isReplyTo(reply.subarray(0, 4), "KS", 1, 11), false, "no status byte");
  assertEquals(isReplyTo(frameWriter("KS", 1, 11).u8(0).finish(), "KS", 1), false, "a request");
});
