import { assert, assertEquals, assertMatch } from "../tests/assert.ts";
import { Judge } from "./judge.ts";
import { parseLadder, selectRequirement } from "./ladder.ts";
import { type OutStream, Terminal, timeStamp } from "./terminal.ts";

class Capture implements OutStream {
  text = "";
  constructor(readonly tty: boolean) {}
  writeSync(p: Uint8Array): number {
    // Short writes exercise the write loop.
    const n = Math.min(p.length, 7);
    this.text += new TextDecoder().decode(p.subarray(0, n));
    return n;
  }
  isTerminal(): boolean {
    return this.tty;
  }
}

const V = new Judge(
  selectRequirement(parseLadder(`ladder = [{ phase = "end", marker = "x" }]`, "t")),
)
  .verdict({ reason: "eof", wallMs: 1 });

Deno.test("timeStamp prints seconds and microseconds of virtual time", () => {
  assertEquals(timeStamp(0), "[    0.000000]");
  assertEquals(timeStamp(1_234_567_890), "[    1.234567]");
});

Deno.test("lines stream with an optional time prefix; no progress off a terminal", () => {
  const out = new Capture(false), err = new Capture(false);
  const t = new Terminal({ out, err, timePrefix: true });
  t.line("init: start", 1_000);
  t.progress({ seen: 1, expected: 2, phase: "bring-up" });
  t.line("no time");
  t.verdict(V, false);
  assertEquals(out.text.split("\n").slice(0, 2), ["[    0.000001] init: start", "no time"]);
  assertMatch(out.text, /\nFAIL: /);
  assertEquals(err.text, "");
});

Deno.test("on a terminal the progress line is drawn on stderr and cleared before output", () => {
  const out = new Capture(true), err = new Capture(true);
  const t = new Terminal({ out, err, noColor: "1" });
  t.progress({ seen: 3, expected: 9, phase: "routing" });
  assertEquals(err.text, "\r\x1b[2K[nexus] phase routing: 3/9 markers");
  t.line("x");
  assertEquals(err.text.endsWith("\r\x1b[2K"), true);
  t.verdict(V, false);
  assert(!out.text.includes("\x1b[1;31m"), "NO_COLOR turns colour off");
  const colored = new Capture(true);
  new Terminal({ out: colored, err: new Capture(false) }).verdict(V, false);
  assert(
    colored.text.includes("\x1b[1m\x1b[31mFAIL\x1b[39m\x1b[22m"),
    "bold red FAIL on a terminal",
  );
  const dimErr = new Capture(true);
  new Terminal({ out: new Capture(true), err: dimErr }).progress({
    seen: 1,
    expected: 2,
    phase: "mmio",
  });
  assertEquals(dimErr.text, "\r\x1b[2K\x1b[2m[nexus] phase mmio: 1/2 markers\x1b[22m");
  const piped = new Capture(false);
  new Terminal({ out: piped, err: new Capture(false) }).verdict(V, false);
  assert(!piped.text.includes("\x1b"), "no colour into a pipe");
});

Deno.test("streaming can be switched off and notices go to stderr", () => {
  const out = new Capture(false), err = new Capture(false);
  const t = new Terminal({ out, err, stream: false });
  t.line("hidden");
  t.notice("notice: --phase x overrides RUN_PHASE=y");
  t.verdict(V, true);
  assertEquals(err.text, "nexus: notice: --phase x overrides RUN_PHASE=y\n");
  assertEquals(JSON.parse(out.text).status, "FAIL");
});
