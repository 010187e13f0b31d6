import { assert, assertEquals, assertNotEquals } from "../../tests/assert.ts";
import { WORKLOAD_KEYS, workloadSteps } from "./workload.ts";

Deno.test("workload: a seed always gives the same steps, another seed others", () => {
  assertEquals(workloadSteps(5, 120), workloadSteps(5, 120));
  assertNotEquals(workloadSteps(5, 120), workloadSteps(6, 120));
  assertEquals(workloadSteps(5, 120).slice(0, 30), workloadSteps(5, 30));
});

Deno.test("workload: every kind of step, aborted batches, big values and deletes of live keys", () => {
  const steps = workloadSteps(1, 400);
  const kinds = new Set(steps.map((s) => s.kind));
  assertEquals([...kinds].sort(), ["batch", "compact", "delete", "put", "reopen", "sync"]);
  assert(steps.some((s) => s.kind === "batch" && s.abort));
  assert(steps.some((s) => s.kind === "batch" && !s.abort && s.ops.some((o) => o.op === "delete")));
  const values = steps.flatMap((s) =>
    s.kind === "put"
      ? [s.value]
      : s.kind === "batch"
      ? s.ops.flatMap((o) => o.op === "put" ? [o.value] : [])
      : []
  );
  assert(values.some((v) => v.length === 0), "empty values");
  assert(values.some((v) => v.length >= 1200), "values of a kilobyte and more");
  // A delete names a key that a put (or a committed batch) left live.
  const live = new Set<string>();
  for (const s of steps) {
    if (s.kind === "put") live.add(s.key);
    if (s.kind === "delete") assert(live.delete(s.key), `delete of ${s.key}, which is not live`);
    if (s.kind === "batch" && !s.abort) {
      for (const o of s.ops) o.op === "put" ? live.add(o.key) : live.delete(o.key);
    }
  }
  assert(steps.every((s) => s.kind !== "put" || WORKLOAD_KEYS.includes(s.key)));
});

Deno.test("workload: distinct values never repeat", () => {
  const seen = new Set<string>();
  for (const s of workloadSteps(3, 300, { distinct: true })) {
    const vs = s.kind === "put"
      ? [s.value]
      : s.kind === "batch"
      ? s.ops.flatMap((o) => o.op === "put" ? [o.value] : [])
      : [];
    for (const v of vs) {
      const hex = v.toHex();
      assert(!seen.has(hex), "a value repeats");
      seen.add(hex);
    }
  }
  assert(seen.size > 100);
});
