/**
 * `nexus scan` end to end on saved console logs: every verdict kind, the reports, exit codes,
 * usage errors and the environment aliases.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexusIn as nexus } from "./cli_helpers.ts";
import { parseJunit as parseXml } from "./junit_check.ts";
import { loadNamedLadder } from "../harness/ladder.ts";

const FIX = new URL("./fixtures/", import.meta.url).pathname;
const fixture = (name: string) => `${FIX}${name}`;

function noStack(stderr: string): void {
  assert(!stderr.includes("    at "), `no stack trace in: ${stderr}`);
}

Deno.test("scan: a complete log passes with exit 0 and the marker count", async () => {
  const r = await nexus(["scan", fixture("scan_pass.log")]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertMatch(
    r.stdout,
    /^PASS: 86\/86 markers \(phase end; end of log\) in virtual n\/a, wall \d+ ms\n$/,
  );
  assertEquals(r.stderr, "");
});

Deno.test("scan: phases cut the ladder", async () => {
  const r = await nexus(["scan", "--phase", "mmio", fixture("scan_missing.log")]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /3 of 85 markers missing/);
  const b = await nexus(["scan", "--phase", "routing", fixture("scan_missing.log")]);
  assertEquals(b.code, 0, b.stdout);
  assertMatch(b.stdout, /^PASS: 51\/51 markers \(phase routing/);
});

Deno.test("scan: missing markers are all listed by phase, the first with its phase", async () => {
  const r = await nexus(["scan", fixture("scan_missing.log")]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /^FAIL: 4 of 86 markers missing \(phase end; ended: end of log\)/);
  assertMatch(r.stdout, /first missing: "SELFTEST: ota switch ok" \(phase ota\)/);
  assert(
    r.stdout.includes(
      "missing markers:\n  ota:\n    SELFTEST: ota switch ok\n    init: health ok (slot b)\n" +
        "    SELFTEST: bootctl persist ok\n  end:\n    SELFTEST: end\n",
    ),
  );
  assertMatch(r.stdout, /console excerpt \(lines \d+-\d+, around the end\):/);
});

Deno.test("scan: a FAIL line ends the run and is named", async () => {
  const r = await nexus(["scan", fixture("scan_fail_line.log")]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /ended: failure signature/);
  assertMatch(
    r.stdout,
    /failure lines:\n {2}line \d+: SELFTEST: ota switch FAIL \(route bundlemgrd: NOT_FOUND\)\n/,
  );
  assertMatch(r.stdout, /> \d+ \| SELFTEST: ota switch FAIL/);
});

Deno.test("scan: SLOT MISSING lines are failures naming the service and slot", async () => {
  const r = await nexus(["scan", "--phase", "bring-up", fixture("scan_slot_missing.log")]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /line \d+: SLOT MISSING: statefsd needs blk at slot 0x07\n/);
  assertMatch(r.stdout, /line \d+: slot-check: statefsd FAIL \(1 missing\)\n/);
  assertMatch(r.stdout, /^FAIL: line \d+: SLOT MISSING: .* \(during phase bring-up\)\n/);
});

Deno.test("scan: the watchdog's blocked-task table is in the excerpt", async () => {
  const r = await nexus(["scan", fixture("scan_watchdog.log")]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /line \d+: !fatal init-lite: watchdog fired \(800 ticks\)/);
  assertMatch(r.stdout, /around the failure\):/);
  assertMatch(r.stdout, /\| +9 +updated +blocked +recv slot 0x04 \(reply of bundlemgrd\)/);
  assertMatch(r.stdout, /\| init-lite: halted\n/);
});

Deno.test("scan: an out-of-order init marker fails with both lines", async () => {
  const r = await nexus(["scan", fixture("scan_order.log")]);
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /^FAIL: 1 init-marker order violation /);
  assertMatch(
    r.stdout,
    /"init: start policyd" \(line 6\) came after "init: up policyd" \(line 5\), which follows it in the ladder/,
  );
});

Deno.test("scan: --require-cold-boot demands the persist marker (CRLF logs read fine)", async () => {
  const cold = await nexus(["scan", "--require-cold-boot", fixture("scan_cold_boot.log")]);
  assertEquals(cold.code, 0, cold.stdout);
  const fresh = await nexus(["scan", "--require-cold-boot", fixture("scan_pass.log")]);
  assertEquals(fresh.code, 1);
  assertMatch(
    fresh.stdout,
    /SELFTEST: statefs cold-boot persist ok \(line \d+ has "SELFTEST: statefs cold-boot seeded" instead\)/,
  );
  const env = await nexus(["scan", fixture("scan_pass.log")], {
    env: { REQUIRE_STATEFS_COLD_BOOT: "1" },
  });
  assertEquals(env.code, 1, "REQUIRE_STATEFS_COLD_BOOT is an alias");
});

Deno.test("scan: --until-marker stops judging at a marker", async () => {
  const r = await nexus(["scan", "--until-marker", "init: ready", fixture("scan_fail_line.log")]);
  assertEquals(r.code, 0, r.stdout);
  assertMatch(r.stdout, /^PASS: 22\/22 markers \(phase end; until-marker reached\)/);
});

Deno.test("scan: --json prints one JSON object with the verdict", async () => {
  const r = await nexus(["scan", "--json", fixture("scan_fail_line.log")]);
  assertEquals(r.code, 1);
  const lines = r.stdout.trimEnd().split("\n");
  assertEquals(lines.length, 1);
  const v = JSON.parse(lines[0]);
  assertEquals(v.status, "FAIL");
  assertEquals(v.exitCode, 1);
  assertEquals(v.end, "failure");
  assertEquals(v.firstMissing, { marker: "SELFTEST: ota switch ok", phase: "ota" });
  assertEquals(v.failures.length, 1);
  assertEquals(v.missingByPhase.ota[0], "SELFTEST: ota switch ok");
  assertEquals(v.markers.expected, 86);
  assertEquals(v.ladder, "images/ladder.toml");
  const ok = JSON.parse((await nexus(["scan", "--json", fixture("scan_pass.log")])).stdout);
  assertEquals(ok.status, "PASS");
  assertEquals(ok.excerpt, null);
});

Deno.test("scan: --junit writes well-formed XML with one testcase per marker", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await nexus(["scan", "--junit", `${dir}/out/junit.xml`, fixture("scan_missing.log")]);
    assertEquals(r.code, 1);
    const root = parseXml(await Deno.readTextFile(`${dir}/out/junit.xml`));
    const [ladder, checks] = root.children;
    assertEquals(ladder.attrs.tests, "86");
    assertEquals(ladder.children.filter((c) => c.name === "testcase").length, 86);
    assertEquals(ladder.attrs.failures, "4");
    assertEquals(checks.attrs.failures, "0");
    assertEquals(root.attrs.tests, String(86 + checks.children.length));
    const failed = ladder.children.filter((c) => c.name === "testcase" && c.children.length > 0)
      .map((c) => c.attrs.name);
    assertEquals(failed, [
      "SELFTEST: ota switch ok",
      "init: health ok (slot b)",
      "SELFTEST: bootctl persist ok",
      "SELFTEST: end",
    ]);
    const pass = await nexus(["scan", "--junit", `${dir}/pass.xml`, fixture("scan_pass.log")]);
    assertEquals(pass.code, 0);
    assertEquals(parseXml(await Deno.readTextFile(`${dir}/pass.xml`)).attrs.failures, "0");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan: stdin is read with -, and --log-dir keeps uart.log and summary.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = await Deno.readTextFile(fixture("scan_pass.log"));
    const r = await nexus(["scan", "--log-dir", `${dir}/logs`, "-"], { stdin: log });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(r.stdout, log + r.stdout.slice(log.length), "stdin is echoed live");
    assertMatch(r.stdout.slice(log.length), /^PASS: 86\/86 markers .*\n$/, "then the verdict");
    assertEquals(await Deno.readTextFile(`${dir}/logs/uart.log`), log);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/logs/summary.json`));
    assertEquals(summary.status, "PASS");
    const quiet = await nexus(["scan", "--quiet", "-"], { stdin: log });
    assertEquals(quiet.stdout.split("\n").length - 1, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan: usage and configuration errors exit 2 with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.toml`, `ladder = [{ phase = "end", markr = "x" }]`);
    const cases: [string[], RegExp][] = [
      [
        ["scan", "--phase", "persist", fixture("scan_pass.log")],
        /unknown phase "persist"; valid phases: bring-up, routing, ota, policy, mmio, end/,
      ],
      [["scan", "--until-marker", "", fixture("scan_pass.log")], /--until-marker "" is empty/],
      [["scan", "--until-marker=", fixture("scan_pass.log")], /--until-marker "" is empty/],
      [
        ["scan", `--until-marker=${"x".repeat(100_000)}`, fixture("scan_pass.log")],
        /--until-marker "x{60}\.\.\." is 100000 characters long \(at most 4096\)/,
      ],
      [
        ["scan", `--until-marker=${"y".repeat(300)}`],
        /standard input is empty/,
      ],
      [["scan"], /standard input is empty: nothing to judge/],
      [
        ["scan", "--ladder", "original-2026-02-3", fixture("scan_pass.log")],
        /no ladder named "original-2026-02-3" \(did you mean "original-2026-02-03"\?\), and no such file; shipped ladders: default, original-2026-02-03, /,
      ],
      [
        [
          "scan",
          "--ladder",
          "original-2026-08-18-full",
          "--phase",
          "end",
          fixture("scan_pass.log"),
        ],
        /phase "end" ends at "SELFTEST: end", which is not in ladder images\/ladders\/original-2026-08-18-full\.toml/,
      ],
      [["scan", `${dir}/absent.log`], /cannot read log .*absent\.log: no such file/],
      [["scan", dir], /cannot read log .*: is a directory/],
      [
        ["scan", "--ladder", `${dir}/bad.toml`, fixture("scan_pass.log")],
        /unknown key "markr" in ladder entry 1 \(did you mean "marker"\?\)/,
      ],
      [
        ["scan", "--ladder", `${dir}/none.toml`, fixture("scan_pass.log")],
        /cannot read ladder .*none\.toml: no such file/,
      ],
      [["scan", "a.log", "b.log"], /scan takes one log file/],
      [["scan", "--run"], /--run needs a command/],
      [
        ["scan", "--junit", `${dir}/bad.toml/x.xml`, fixture("scan_pass.log")],
        /cannot write .*bad\.toml\/x\.xml: /,
      ],
      [
        ["scan", "--until-marker", fixture("scan_pass.log")],
        /--until-marker took ".*scan_pass\.log" as its marker; put the log first/,
      ],
      [
        ["scan", "--timeout", "soon", fixture("scan_pass.log")],
        /--timeout "soon" is not a duration/,
      ],
      [
        ["scan", "--run", "--", "/nonexistent/nexus-cmd"],
        /cannot run \/nonexistent\/nexus-cmd: command not found/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await nexus(args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assertMatch(r.stderr, re);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      noStack(r.stderr);
    }
    const opt = await nexus(["scan", "--frobnicate"]);
    assertEquals(opt.code, 2);
    assertMatch(opt.stderr, /unknown option '--frobnicate'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan: environment aliases apply, and a flag wins with a notice", async () => {
  const env = await nexus(["scan", fixture("scan_missing.log")], { env: { RUN_PHASE: "routing" } });
  assertEquals(env.code, 0, env.stdout);
  assertMatch(env.stdout, /phase routing/);
  assertEquals(env.stderr, "");
  const both = await nexus(["scan", "--phase", "end", fixture("scan_missing.log")], {
    env: { RUN_PHASE: "routing" },
  });
  assertEquals(both.code, 1);
  assertEquals(both.stderr, "nexus: notice: --phase end overrides RUN_PHASE=routing\n");
  const until = await nexus(["scan", fixture("scan_fail_line.log")], {
    env: { RUN_UNTIL_MARKER: "init: ready" },
  });
  assertEquals(until.code, 0, until.stdout);
  const bad = await nexus(["scan", fixture("scan_pass.log")], { env: { RUN_PHASE: "nope" } });
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /unknown phase "nope"/);
  const badEnv = await nexus(["scan", fixture("scan_pass.log")], {
    env: { REQUIRE_STATEFS_COLD_BOOT: "perhaps" },
  });
  assertEquals(badEnv.code, 2);
  assertMatch(
    badEnv.stderr,
    /^nexus: REQUIRE_STATEFS_COLD_BOOT "perhaps" is not a boolean \(use 1 or 0\)\n$/,
  );
  // Knobs that belong to boot only are not scan's business.
  const ignored = await nexus(["scan", fixture("scan_pass.log")], {
    env: { INIT_LITE_WATCHDOG_TICKS: "x", NEXUS_KEEP_BLK: "x" },
  });
  assertEquals(ignored.code, 0);
});

Deno.test("scan: output has no colour without a terminal", async () => {
  const r = await nexus(["scan", fixture("scan_fail_line.log")], { env: { NO_COLOR: "" } });
  assert(!r.stdout.includes("\x1b["));
});

Deno.test("scan: --ladder NAME judges by a shipped original ladder, naming marker and phase", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ladder = await loadNamedLadder("original-2026-02-03");
    const seq = ladder.entries.map((e) => e.markers[0]);
    await Deno.writeTextFile(`${dir}/ok.log`, seq.map((m) => `${m}\r\n`).join(""));
    const ok = await nexus(["scan", "--ladder", "original-2026-02-03", `${dir}/ok.log`]);
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
    assertMatch(ok.stdout, /^PASS: 125\/125 markers \(phase all; end of log\)/);
    const gone = seq.filter((m) => m !== "SELFTEST: statefs persist ok");
    await Deno.writeTextFile(`${dir}/gone.log`, gone.join("\n") + "\n");
    const r = await nexus([
      "scan",
      "--ladder",
      "original-2026-02-03",
      "--phase",
      "mmio",
      "--json",
      `${dir}/gone.log`,
    ]);
    assertEquals(r.code, 1);
    const v = JSON.parse(r.stdout);
    assertEquals(v.firstMissing, { marker: "SELFTEST: statefs persist ok", phase: "mmio" });
    assertEquals(v.ladder, "images/ladders/original-2026-02-03.toml");
    assertEquals(v.start, { marker: "neuron vers.", seen: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan: --until-marker 1 means the phase's end, as RUN_UNTIL_MARKER=1 does", async () => {
  const r = await nexus([
    "scan",
    "--phase",
    "routing",
    "--until-marker",
    "1",
    fixture("scan_pass.log"),
  ]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertMatch(r.stdout, /^PASS: \d+\/\d+ markers \(phase routing; every required marker seen\)/);
  const env = await nexus(["scan", "--phase", "routing", fixture("scan_pass.log")], {
    env: { RUN_UNTIL_MARKER: "1" },
  });
  assertEquals(env.stdout.split(" in ")[0], r.stdout.split(" in ")[0]);
});
