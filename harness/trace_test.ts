import { assertEquals } from "../tests/assert.ts";
import { TraceFile } from "./trace.ts";

Deno.test("the trace file holds one JSON object per event, in order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = TraceFile.create(`${dir}/sub/trace.jsonl`);
    t.tracer({ kind: "syscall", time: 0, pid: 1, task: "init", op: "print", outcome: "ok" });
    t.tracer({
      kind: "syscall",
      time: 5,
      pid: 2,
      task: "logd",
      op: "recv",
      slot: 3,
      outcome: "blocked",
    });
    assertEquals(t.events, 2);
    t.close();
    const lines = (await Deno.readTextFile(`${dir}/sub/trace.jsonl`)).trimEnd().split("\n");
    assertEquals(lines.map((l) => JSON.parse(l).op), ["print", "recv"]);
    assertEquals(JSON.parse(lines[1]), {
      kind: "syscall",
      time: 5,
      pid: 2,
      task: "logd",
      op: "recv",
      slot: 3,
      outcome: "blocked",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
