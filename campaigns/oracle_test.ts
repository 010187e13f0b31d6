import { assert, assertEquals } from "../tests/assert.ts";
import { checkCrashState, type LoggedOp } from "./oracle.ts";

const v = (n: number) => new Uint8Array([n]);
const st = (...kv: Array<[string, number]>) => new Map(kv.map(([k, n]) => [k, v(n)]));
const put = (key: string, n: number, ack: LoggedOp["ack"] = "ok"): LoggedOp => ({
  kind: "put",
  key,
  value: v(n),
  ack,
});
const sync: LoggedOp = { kind: "sync", ack: "ok" };

Deno.test("oracle: any prefix after the last acknowledged sync is allowed", () => {
  const ops = [put("/state/a", 1), sync, put("/state/b", 2), put("/state/a", 3)];
  for (
    const after of [
      st(["/state/a", 1]),
      st(["/state/a", 1], ["/state/b", 2]),
      st(["/state/a", 3], ["/state/b", 2]),
    ]
  ) {
    assertEquals(checkCrashState(new Map(), ops, after), { ok: true });
  }
});

Deno.test("oracle: an acknowledged write before the last sync must survive with its value", () => {
  const ops = [put("/state/a", 1), sync, put("/state/b", 2)];
  const r = checkCrashState(new Map(), ops, st(["/state/b", 2]));
  assert(!r.ok);
  assert(
    r.problems.some((p) => p.includes("/state/a acknowledged before the last sync")),
    r.problems.join(),
  );
});

Deno.test("oracle: a later write without the earlier one is not a prefix", () => {
  const ops = [sync, put("/state/a", 1), put("/state/b", 2)];
  assert(!checkCrashState(new Map(), ops, st(["/state/b", 2])).ok);
});

Deno.test("oracle: a half-visible batch and a never-written value are caught", () => {
  const batch: LoggedOp = {
    kind: "batch",
    abort: false,
    ack: "ok",
    ops: [{ op: "put", key: "/state/x", value: v(1) }, { op: "put", key: "/state/y", value: v(2) }],
  };
  assert(!checkCrashState(new Map(), [sync, batch], st(["/state/x", 1])).ok);
  assertEquals(checkCrashState(new Map(), [sync, batch], st(["/state/x", 1], ["/state/y", 2])), {
    ok: true,
  });
  const r = checkCrashState(new Map(), [put("/state/a", 1), sync], st(["/state/a", 9]));
  assert(!r.ok && r.problems.some((p) => p.includes("never written")), JSON.stringify(r));
});

Deno.test("oracle: an aborted batch stays invisible; an uncertain write may or may not land", () => {
  const aborted: LoggedOp = {
    kind: "batch",
    abort: true,
    ack: "ok",
    ops: [{ op: "put", key: "/state/x", value: v(1) }],
  };
  assert(!checkCrashState(new Map(), [aborted, sync], st(["/state/x", 1])).ok);
  const ops = [put("/state/a", 1, "maybe"), put("/state/b", 2), sync];
  assertEquals(checkCrashState(new Map(), ops, st(["/state/b", 2])), { ok: true });
  assertEquals(checkCrashState(new Map(), ops, st(["/state/a", 1], ["/state/b", 2])), { ok: true });
  assert(
    !checkCrashState(new Map(), [put("/state/a", 1, "refused"), sync], st(["/state/a", 1])).ok,
  );
});
