import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { AuditSink, MAX_CAPACITY } from "./sink.ts";

Deno.test("AuditSink: keeps the newest records in order across many wraps", () => {
  const sink = new AuditSink(4);
  for (let i = 0; i < 11; i++) sink.append(7n, i * 10, `t${i}`);
  const q = sink.query(0, 100);
  assertEquals(q.records.map((r) => [r.seq, r.time, r.text]), [
    [7, 70, "t7"],
    [8, 80, "t8"],
    [9, 90, "t9"],
    [10, 100, "t10"],
  ]);
  assertEquals([q.held, q.appended, q.dropped, q.rejected], [4, 11, 7, 0]);
  assertEquals(sink.query(9, 100).records.map((r) => r.seq), [9, 10]);
  assertEquals(sink.query(11, 100).records, []);
  assertEquals(sink.query(2, 2).records.map((r) => r.seq), [7, 8]);
});

Deno.test("AuditSink: counts rejections and validates its capacity", () => {
  const sink = new AuditSink(1);
  sink.reject();
  sink.reject();
  assertEquals(sink.rejected, 2);
  assertEquals(sink.held, 0);
  for (const bad of [0, -3, 2.5, MAX_CAPACITY + 1, Number.NaN]) {
    assertThrows(() => new AuditSink(bad), RangeError);
  }
});
