/**
 * `nexus slots` end to end, spawned as a user runs it.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexusIn as nexus } from "./cli_helpers.ts";

const DEFAULT = new URL("../images/system.toml", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

function noTrace(text: string): void {
  assert(!text.includes("    at "), `stack trace in:\n${text}`);
}

/** Writes the default manifest with `edits` applied to a temporary file; returns its path. */
function mutated(...edits: Array<[string | RegExp, string]>): string {
  let text = Deno.readTextFileSync(DEFAULT);
  for (const [from, to] of edits) {
    const next = text.replace(from, to);
    assert(next !== text, `edit did not apply: ${from}`);
    text = next;
  }
  const path = Deno.makeTempFileSync({ suffix: ".toml" });
  Deno.writeTextFileSync(path, text);
  return path;
}

Deno.test("slots validate: the default manifest is valid (exit 0)", async () => {
  const r = await nexus(["slots", "validate"], { cwd: ROOT });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout, "slots: images/system.toml is valid (10 services, 40 slots)\n");
  assertEquals(r.stderr, "");
});

Deno.test("slots validate: every problem with service, slot, line and fix; exit 1", async () => {
  const path = mutated(
    [/^logd = \{ slot = 6, .*\n/m, ""],
    ["rngd = { slot = 7,", "rngd = { slot = 6,"],
    [
      'statefsd = { slot = 4, rights = ["send"], endpoint = "statefsd" }',
      'statefsd = { slot = 4, rights = ["send"], endpoint = "statefs" }',
    ],
    ['caps = ["route:logd"]', 'caps = ["route:logd"]\nextra = 1'],
  );
  const r = await nexus(["slots", "validate", "--system", path]);
  assertEquals(r.code, 1, r.stderr);
  noTrace(r.stdout + r.stderr);
  const out = r.stdout;
  assertMatch(out, new RegExp(`${path}:\\d+: error UNKNOWN_KEY: unknown key "extra"`));
  assertMatch(out, /error MISSING_SLOT statefsd slot logd: statefsd needs slot logd/);
  assertMatch(out, /fix: add logd = \{ slot = 6, rights = \["send"\], endpoint = "logd" \}/);
  assertMatch(
    out,
    /error DUPLICATE_SLOT keystored slot rngd \(0x06\): slot 0x06 is assigned twice/,
  );
  assertMatch(
    out,
    /error UNKNOWN_TARGET selftest-client slot statefsd \(0x04\): .*"statefs".*did you mean "statefsd"/,
  );
  // statefsd keeps its route:logd grant without the slot, and selftest-client its route:statefsd.
  assertMatch(out, /warning GRANT_WITHOUT_SLOT statefsd: .*"route:logd"/);
  assertMatch(out, /slots: .* has 4 errors and 2 warnings\n$/);
  assertEquals(out.match(/^\S+ error /gm)?.length, 4);
});

Deno.test("slots validate --json: one object with every problem", async () => {
  const path = mutated(['"route:samgrd",\n', ""]);
  const r = await nexus(["slots", "validate", "--system", path, "--json"]);
  assertEquals(r.code, 1);
  const report = JSON.parse(r.stdout);
  assertEquals([report.valid, report.errors, report.warnings], [false, 1, 0]);
  assertEquals(report.problems[0].code, "ROUTE_NOT_GRANTED");
  assertEquals(report.problems[0].service, "selftest-client");
  assertEquals(report.problems[0].slot, "samgrd");
  assertEquals(report.problems[0].slotNumber, 6);
  assertEquals(report.problems[0].file, path);
  assertEquals(typeof report.problems[0].line, "number");
  const clean = await nexus(["slots", "validate", "--json"]);
  assertEquals(clean.code, 0);
  assertEquals(JSON.parse(clean.stdout).problems, []);
});

Deno.test("slots validate: warnings alone keep exit 0", async () => {
  const path = mutated([
    "[[mmio]]",
    '[[endpoint]]\nname = "spare"\nowner = "rngd"\ndepth = 2\n\n[[mmio]]',
  ]);
  const r = await nexus(["slots", "validate", "--system", path]);
  assertEquals(r.code, 0);
  assertMatch(r.stdout, /warning UNUSED_ENDPOINT rngd: endpoint "spare"/);
  assertMatch(r.stdout, /is valid \(10 services, 40 slots, 1 warning\)/);
});

Deno.test("slots: unreadable input is exit 2 with one line", async () => {
  const missing = await nexus(["slots", "validate", "--system", "/nonexistent/sys.toml"]);
  assertEquals(missing.code, 2);
  assertEquals(missing.stderr, "nexus: cannot read manifest /nonexistent/sys.toml: no such file\n");
  const bad = Deno.makeTempFileSync({ suffix: ".toml" });
  Deno.writeTextFileSync(bad, "version = 1\n[[service]\n");
  for (const cmd of ["validate", "show", "graph"]) {
    const r = await nexus(["slots", cmd, "--system", bad]);
    assertEquals(r.code, 2, cmd);
    assertMatch(r.stderr, new RegExp(`^nexus: ${bad}:2:\\d+: not valid TOML: .*\n$`));
    noTrace(r.stderr);
  }
});

Deno.test("slots show: the whole map, or one service with its reserved slots", async () => {
  const all = await nexus(["slots", "show"]);
  assertEquals(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split("\n");
  assertMatch(lines[0], /^SERVICE\s+SLOT\s+NAME\s+RIGHTS\s+TARGET\s+USE$/);
  assertEquals(lines.length, 1 + 40);
  const one = await nexus(["slots", "show", "updated"]);
  assertEquals(one.code, 0);
  const rows = one.stdout.trimEnd().split("\n").slice(1);
  assertEquals(rows.map((l) => l.split(/\s+/).slice(0, 3).join(" ")), [
    "updated 0x00 (bootstrap)",
    "updated 0x01 (init)",
    "updated 0x02 (control)",
    "updated 0x03 inbox",
    "updated 0x04 reply",
    "updated 0x05 statefsd",
    "updated 0x06 policyd",
    "updated 0x07 keystored",
    "updated 0x09 bundlemgrd",
  ]);
  const unknown = await nexus(["slots", "show", "updatd"]);
  assertEquals(unknown.code, 2);
  assertEquals(
    unknown.stderr,
    'nexus: no service "updatd" in the manifest (did you mean "updated"?)\n',
  );
});

Deno.test("slots graph: dot by default, mermaid on request, bad format is exit 2", async () => {
  const dot = await nexus(["slots", "graph"]);
  assertEquals(dot.code, 0, dot.stderr);
  assertMatch(dot.stdout, /digraph nexus \{/);
  assertMatch(dot.stdout, /"updated" -> "bundlemgrd" \[label="bundlemgrd 0x09", style=bold\];/);
  const mermaid = await nexus(["slots", "graph", "--format", "mermaid"]);
  assertEquals(mermaid.code, 0);
  assertMatch(mermaid.stdout, /^%%[^\n]*\n%%[^\n]*\nflowchart LR\n/);
  const bad = await nexus(["slots", "graph", "--format", "svg"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /Allowed choices are dot, mermaid/);
});

Deno.test("slots show --json gives the rows a program can read", async () => {
  const r = await nexus(["slots", "show", "statefsd", "--json"]);
  assertEquals(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert(Array.isArray(rows) && rows.length > 3);
  assert(rows.every((row: { service: string }) => row.service === "statefsd"));
  assert(rows.some((row: { name: string; slot: number }) => row.name === "blk" && row.slot === 8));
});
