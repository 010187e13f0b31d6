import { assert, assertEquals } from "../../tests/assert.ts";
import { BOOTSTRAP_DEPTH, Kernel } from "./kernel.ts";
import { kerr } from "./state.ts";
import { KernelError } from "./types.ts";

Deno.test("errors: a routine KernelError is a KernelError without a captured stack", () => {
  const e = KernelError.routine("WOULD_BLOCK", "endpoint 3 is empty");
  assert(e instanceof KernelError && e instanceof Error);
  assertEquals([e.name, e.code, e.message], ["KernelError", "WOULD_BLOCK", "endpoint 3 is empty"]);
  assertEquals(e.stack, "KernelError: endpoint 3 is empty");
  assertEquals(String(e), "KernelError: endpoint 3 is empty");
  e.stack = "rewritten";
  assertEquals(e.stack, "rewritten");
  assertEquals(KernelError.routine("CLOSED", "other").stack, "KernelError: other");
});

Deno.test("errors: only WOULD_BLOCK, TIMED_OUT and CLOSED skip the stack", () => {
  for (const code of ["WOULD_BLOCK", "TIMED_OUT", "CLOSED"] as const) {
    assertEquals(kerr(code, "m").stack, "KernelError: m");
  }
  for (
    const code of ["INVALID_SLOT", "EMPTY_SLOT", "PERMISSION_DENIED", "INVALID_ARGUMENT"] as const
  ) {
    const e = kerr(code, "m");
    assertEquals(e.code, code);
    assert(e.stack!.includes("\n    at "), `${code} lost its stack`);
  }
});

Deno.test("errors: failed non-blocking send and recv reject with routine WOULD_BLOCKs", async () => {
  const k = new Kernel();
  const seen: unknown[] = [];
  k.spawn("poller", async (sys) => {
    seen.push(await sys.recv(0, { nonblock: true }).catch((e) => e));
    for (let i = 0; i < BOOTSTRAP_DEPTH; i++) await sys.send(0, new Uint8Array(1));
    seen.push(await sys.send(0, new Uint8Array(1), { nonblock: true }).catch((e) => e));
  });
  await k.run();
  assertEquals(seen.length, 2);
  for (const e of seen) {
    assert(e instanceof KernelError);
    assertEquals(e.code, "WOULD_BLOCK");
    assertEquals(e.stack, `KernelError: ${e.message}`);
  }
  assertEquals(k.taskCounts(1).syscalls, BOOTSTRAP_DEPTH + 2);
});
