/**
 * `nexus boot` end to end, spawned as a user would: verdicts on the real simulated system, the
 * reports it leaves, image handling, determinism, failure kinds, usage errors and the
 * environment aliases. Every boot runs in a temporary working directory.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootIn, nexus } from "./cli_helpers.ts";
import { readRange, withTempDir } from "./helpers.ts";
import { checkJunit } from "./junit_check.ts";
import { makeSmallImage } from "./small_image.ts";

const SYSTEM = new URL("../images/system.toml", import.meta.url).pathname;
const LADDER = new URL("../images/ladder.toml", import.meta.url).pathname;
const SENTINEL = new TextEncoder().encode("SENTINEL");

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function noStack(stderr: string): void {
  assert(!stderr.includes("    at "), `no stack trace in: ${stderr}`);
}

/** Writes a marker 1 MiB before the end of the image (outside the StateFS area). */
async function plantSentinel(path: string): Promise<void> {
  const f = await Deno.open(path, { write: true });
  try {
    const size = (await f.stat()).size;
    await f.seek(size - 1024 * 1024, Deno.SeekMode.Start);
    await f.write(SENTINEL);
  } finally {
    f.close();
  }
}

async function hasSentinel(path: string): Promise<boolean> {
  const size = (await Deno.stat(path)).size;
  const data = await readRange(path, size - 1024 * 1024, SENTINEL.length);
  return SENTINEL.every((b, i) => data[i] === b);
}

/** The default manifest with `edit` applied, written into `dir`. */
async function manifest(dir: string, name: string, edit: (s: string) => string): Promise<string> {
  const text = await Deno.readTextFile(SYSTEM);
  const changed = edit(text);
  assert(changed !== text, "the edit changed the manifest");
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, changed);
  return path;
}

/** keystored's statefsd slot aimed at an endpoint nobody receives on: keystored hangs. */
Deno.test("boot: bring-up passes on a fresh default image, with uart.log and summary.json", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const r = await bootIn(dir, ["--phase", "bring-up", "--until-marker", "--seed", "0"]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const out = r.stdout.split("\n");
    const verdict = out.at(-2)!;
    assertMatch(
      verdict,
      /^PASS: 42\/42 markers \(phase bring-up; every required marker seen\) in virtual [\d.]+ us, wall [\d.]+ m?s$/,
    );
    assertEquals(out[0], "init: start", "console lines stream first");
    const image = await Deno.stat(`${dir}/build/blk.img`);
    assertEquals(image.size, 131072 * 512);
    const uart = await Deno.readTextFile(`${dir}/build/logs/uart.log`);
    assertEquals(
      uart,
      out.slice(0, -2).join("\n") + "\n",
      "uart.log holds exactly the streamed lines",
    );
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/build/logs/summary.json`));
    assertEquals(summary.status, "PASS");
    assertEquals(summary.markers, { expected: 42, seen: 42 });
    assert(summary.virtualNs > 0);
    // The saved log can be judged again with the same verdict.
    const again = await nexus([
      "scan",
      `${dir}/build/logs/uart.log`,
      "--phase",
      "bring-up",
      "--until-marker",
    ]);
    assertEquals(again.code, 0, again.stdout);
    assertMatch(again.stdout, /^PASS: 42\/42 markers/);
  });
});

Deno.test("boot: the same seed gives byte-identical console and trace", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const args = [
      "--phase",
      "mmio",
      "--until-marker",
      "SELFTEST: statefs crash-atomic ok",
      "--time",
    ];
    // Each run on a fresh small image of its own: what a seed decides does not depend on its size.
    for (const n of ["a", "b", "c"]) await makeSmallImage(`${dir}/${n}.img`);
    const a = await bootIn(dir, [
      ...args,
      "--image",
      "a.img",
      "--log-dir",
      "a",
      "--trace",
      "a/trace.json",
    ]);
    const b = await bootIn(dir, [
      ...args,
      "--image",
      "b.img",
      "--log-dir",
      "b",
      "--trace",
      "b/trace.json",
    ]);
    assertEquals(a.code, b.code);
    const uartA = await Deno.readFile(`${dir}/a/uart.log`);
    assertEquals(uartA, await Deno.readFile(`${dir}/b/uart.log`));
    assert(new TextDecoder().decode(uartA).includes("SELFTEST: statefs put ok"), "the run got far");
    const traceA = await Deno.readTextFile(`${dir}/a/trace.json`);
    assertEquals(traceA, await Deno.readTextFile(`${dir}/b/trace.json`), "timelines match");
    assert(JSON.parse(traceA).traceEvents.length > 100, "the timeline holds the boot");
    const streamed = (s: string) => s.split("\n").filter((l) => l.startsWith("["));
    assertEquals(streamed(a.stdout), streamed(b.stdout), "time-prefixed lines match too");
    assertMatch(a.stdout, /^\[ {4}0\.000000\] init: start$/m);
    // Another seed is another run (rngd's entropy differs), yet just as repeatable.
    const c = await bootIn(dir, [
      ...[...args, "--image", "c.img", "--seed", "2", "--log-dir", "c", "--trace", "c/t.jsonl"],
    ]);
    const events = (await Deno.readTextFile(`${dir}/c/t.jsonl`)).trimEnd().split("\n")
      .map((l) => JSON.parse(l));
    assert(events.some((e) => e.op === "send") && events.some((e) => e.task === "statefsd"));
    assertEquals(c.code, a.code);
  });
});

Deno.test("boot: the default image is made fresh for every boot unless kept", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const args = ["--phase", "bring-up", "--until-marker"];
    assertEquals((await bootIn(dir, args)).code, 0);
    const img = `${dir}/build/blk.img`;
    await plantSentinel(img);
    assertEquals((await bootIn(dir, [...args, "--keep-image"])).code, 0);
    assert(await hasSentinel(img), "--keep-image kept the image");
    assertEquals((await bootIn(dir, args, { env: { NEXUS_KEEP_BLK: "1" } })).code, 0);
    assert(await hasSentinel(img), "NEXUS_KEEP_BLK=1 kept the image");
    assertEquals((await bootIn(dir, args)).code, 0);
    assert(!(await hasSentinel(img)), "a plain boot recreated the image");
  });
});

Deno.test("boot: an image named with --image is never recreated, only created when missing", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const args = ["--phase", "bring-up", "--until-marker", "--image", "mine/disk.img"];
    const first = await bootIn(dir, args);
    assertEquals(first.code, 0, first.stdout + first.stderr);
    await plantSentinel(`${dir}/mine/disk.img`);
    assertEquals((await bootIn(dir, args)).code, 0);
    assert(await hasSentinel(`${dir}/mine/disk.img`), "the named image was kept");
    let missing = true;
    try {
      await Deno.stat(`${dir}/build/blk.img`);
      missing = false;
    } catch { /* expected */ }
    assert(missing, "the default image was not touched");
  });
});

Deno.test("boot: unusable images are configuration errors (exit 2)", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    await Deno.mkdir(`${dir}/adir`);
    await Deno.writeTextFile(`${dir}/small.img`, "not a disk image");
    await Deno.writeFile(`${dir}/empty.img`, new Uint8Array());
    for (
      const [image, re] of [
        ["adir", /image .*adir is not a regular file/],
        ["small.img", /small\.img: not a disk image/],
        ["empty.img", /empty\.img: the image is empty/],
      ] as const
    ) {
      const r = await bootIn(dir, ["--image", image, "--phase", "bring-up"]);
      assertEquals(r.code, 2, `${image}: ${r.stdout}${r.stderr}`);
      assertMatch(r.stderr, re);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1);
      noStack(r.stderr);
    }
    assertEquals(await Deno.readTextFile(`${dir}/small.img`), "not a disk image", "left alone");
  });
});

Deno.test("boot: a manifest the validator rejects is exit 2 with its lines and fix hints, before booting (the same verdict as slots validate)", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const cases: Array<[string, (s: string) => string, RegExp]> = [
      [
        "noblk.toml",
        (s) => s.replace(/^blk = \{ slot = 8.*\n/m, ""),
        /statefsd needs slot blk .*; add blk = /,
      ],
      [
        "nomod.toml",
        (s) => s.replace('module = "samgrd"', 'module = "samgrdx"'),
        /samgrd uses module "samgrdx"/,
      ],
      [
        "norngd.toml",
        (s) => s.replace('"route:rngd", ', ""),
        /keystored holds send to rngd .*; add "route:rngd" to caps of the \[\[policy.grant\]\] for keystored/,
      ],
      [
        "nosign.toml",
        (s) => s.replace('  "keystore.sign",\n', ""),
        /selftest-client needs the grant "keystore.sign" .*; add "keystore.sign" to caps/,
      ],
    ];
    for (const [name, edit, line] of cases) {
      const system = await manifest(dir, name, edit);
      const r = await bootIn(dir, ["--system", system, "--phase", "bring-up"]);
      assertEquals(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assertMatch(r.stderr, new RegExp(`^nexus: ${name}:\\d+: `));
      assertMatch(r.stderr, line, name);
      assertEquals(r.stdout, "", "nothing booted, no verdict");
      noStack(r.stderr);
    }
    assertEquals(await exists(`${dir}/build/blk.img`), false, "no image was made");
  });
});

Deno.test("boot: a manifest that cannot boot is refused before booting (exit 2, one line)", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const nomod = await manifest(
      dir,
      "nomod.toml",
      (s) => s.replace('module = "samgrd"', 'module = "samgrdx"'),
    );
    const r = await bootIn(dir, ["--system", nomod, "--phase", "bring-up", "--json"]);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertEquals(r.stdout, "", "nothing booted");
    assertMatch(
      r.stderr,
      /^nexus: nomod\.toml:\d+: samgrd uses module "samgrdx", which is not a known service module \(did you mean "samgrd"\?\); set module to one of: /,
    );
    assertEquals(r.stderr.trimEnd().split("\n").length, 1);
    await Deno.writeTextFile(`${dir}/empty.toml`, "");
    const empty = await bootIn(dir, ["--system", "empty.toml", "--phase", "bring-up"]);
    assertEquals(empty.code, 2, empty.stdout + empty.stderr);
    assertEquals(
      empty.stderr,
      "nexus: empty.toml: declares no services, so there is nothing to boot\n",
    );
    assertEquals(await exists(`${dir}/build/blk.img`), false, "no image was made");
  });
});

Deno.test("boot: a watchdog that fires puts its task table in the excerpt", async () => {
  // The validator refuses a manifest that would hang, so the watchdog is made to fire early on a
  // healthy system: one responder iteration is all it allows.
  await withTempDir("nexus-boot-", async (dir) => {
    const r = await bootIn(dir, [
      ...["--phase", "mmio", "--until-marker", "--watchdog-ticks", "1", "--seed", "0"],
    ]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertMatch(r.stdout, /line \d+: !fatal init-lite: watchdog fired/);
    const excerpt = r.stdout.slice(r.stdout.indexOf("console excerpt"));
    assertMatch(excerpt, /> +\d+ \| !fatal init-lite: watchdog fired/);
    // init's table and the host's word keystored's wait alike.
    assertMatch(excerpt, /init-lite: \d+ +keystored +blocked +t=[\d.]+ms +recv slot 0x03 inbox/);
    assertMatch(r.stdout, /\n\d+ +keystored +blocked +t=[\d.]+ms +recv slot 0x03 inbox/);
    assertMatch(
      r.stdout,
      /^FAIL: line \d+: !fatal init-lite: watchdog fired .* \(during phase [\w-]+\)$/m,
    );
    // The same through the environment alias.
    const env = await bootIn(dir, ["--phase", "mmio", "--until-marker", "--seed", "0"], {
      env: { INIT_LITE_WATCHDOG_TICKS: "1" },
    });
    assertEquals(env.code, 1);
    assertMatch(env.stdout, /watchdog fired/);
  });
});

Deno.test("boot: a system that goes idle with markers missing lists them and the blocked tasks", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    // A ladder asking for one marker the system never prints: it runs until idle.
    const ladder = `${dir}/extra.toml`;
    await Deno.writeTextFile(
      ladder,
      (await Deno.readTextFile("images/ladder.toml")).replace(
        '  { phase = "routing", marker = "SELFTEST: ipc routing samgrd ok" },',
        '  { phase = "routing", marker = "SELFTEST: never printed" },\n  { phase = "routing", marker = "SELFTEST: ipc routing samgrd ok" },',
      ),
    );
    await makeSmallImage(`${dir}/small.img`);
    const r = await bootIn(dir, [
      ...["--ladder", ladder, "--phase", "mmio", "--until-marker", "--seed", "0"],
      ...["--image", "small.img"],
    ]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertMatch(r.stdout, /^FAIL: 1 of 86 markers missing \(phase mmio; ended: system idle\)/m);
    assertMatch(r.stdout, /first missing: "SELFTEST: never printed" \(phase routing\)/);
    assertMatch(r.stdout, /unfinished tasks \(\d+\) at t=[\d.]+ms:\n/);
    assertMatch(
      r.stdout,
      /\n\d+ +keystored +blocked +t=[\d.]+ms +recv slot 0x03 inbox on endpoint #\d+ of keystored\n/,
    );
  });
});

Deno.test("boot: init markers out of ladder order fail with both lines", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const ladder = `${dir}/swapped.toml`;
    const text = await Deno.readTextFile(LADDER);
    await Deno.writeTextFile(
      ladder,
      text.replace('  "samgrd",\n  "rngd",', '  "rngd",\n  "samgrd",'),
    );
    const r = await bootIn(dir, ["--ladder", ladder, "--phase", "bring-up", "--until-marker"]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertMatch(r.stdout, /^FAIL: 2 init-marker order violations \(phase bring-up/m);
    assert(!r.stdout.includes("unfinished tasks"), "no task table when the judge stopped the run");
    assertMatch(
      r.stdout,
      /"init: start rngd" \(line \d+\) came after "init: start samgrd" \(line \d+\), which follows it in the ladder/,
    );
  });
});

Deno.test("boot: the wall-clock timeout stops the run and fails it", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const r = await bootIn(dir, ["--phase", "mmio", "--until-marker", "--timeout", "1ms"]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertMatch(r.stdout, /\(phase mmio; ended: timeout after 1ms\)/);
  });
});

Deno.test("boot: --json prints only the verdict object; --junit writes one testcase per marker", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const r = await bootIn(dir, [
      "--phase",
      "bring-up",
      "--until-marker",
      "--json",
      "--junit",
      "ci/junit.xml",
    ]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(r.stdout.trimEnd().split("\n").length, 1);
    const v = JSON.parse(r.stdout);
    assertEquals(v.status, "PASS");
    assertEquals(v.end, "complete");
    assertEquals(typeof v.virtualNs, "number");
    assert(Array.isArray(v.tasks));
    const root = await checkJunit(await Deno.readTextFile(`${dir}/ci/junit.xml`));
    assertEquals(root.children[0].attrs.tests, "42");
    assertEquals(root.children[0].children.length, 42);
    assertEquals(root.attrs.failures, "0");
    assert(
      await Deno.readTextFile(`${dir}/build/logs/uart.log`),
      "uart.log is written with --json too",
    );
  });
});

Deno.test("boot: usage and configuration errors exit 2 with one line, before any image is made", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [
        ["--phase", "persistence"],
        /unknown phase "persistence"; valid phases: bring-up, routing, ota, policy, mmio, end/,
      ],
      [[`--until-marker=${"x".repeat(5000)}`], /is 5000 characters long \(at most 4096\)/],
      [
        ["--phase", "bring-up", "--until-marker", "SELFTEST: end"],
        /belongs to phase end, beyond phase bring-up/,
      ],
      [["--seed", "abc"], /--seed "abc" must be a non-negative integer/],
      [["--watchdog-ticks", "0"], /--watchdog-ticks "0" must be a positive integer/],
      [["--timeout", "never"], /--timeout "never" is not a duration/],
      [[], /RUN_TIMEOUT "soon" is not a duration/, { RUN_TIMEOUT: "soon" }],
      [[], /unknown phase "boot"/, { RUN_PHASE: "boot" }],
      [["--ladder", "none.toml"], /cannot read ladder none\.toml: no such file/],
      [
        ["--system", "none.toml", "--phase", "bring-up"],
        /cannot read manifest none\.toml: no such file/,
      ],
    ];
    for (const [args, re, env] of cases) {
      const r = await bootIn(dir, args, { env });
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assertMatch(r.stderr, re);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      noStack(r.stderr);
    }
    await Deno.writeTextFile(`${dir}/afile`, "x");
    for (
      const [args, re] of [
        [["--log-dir", "afile/logs"], /cannot write afile\/logs\/summary\.json: /],
        [["--junit", "afile/j.xml"], /cannot write afile\/j\.xml: /],
        [["--trace", "afile/t.jsonl"], /cannot write afile\/t\.jsonl: /],
      ] as const
    ) {
      const r = await bootIn(dir, [...args]);
      assertEquals(r.code, 2, r.stdout + r.stderr);
      assertMatch(r.stderr, re);
      noStack(r.stderr);
    }
    const unknown = await bootIn(dir, ["--frobnicate"]);
    assertEquals(unknown.code, 2);
    let built = true;
    try {
      await Deno.stat(`${dir}/build/blk.img`);
    } catch {
      built = false;
    }
    assertEquals(built, false, "no error case made an image");
  });
});

Deno.test("boot: environment aliases apply; a conflicting flag wins with a notice", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const env = { RUN_PHASE: "bring-up", RUN_UNTIL_MARKER: "1", RUN_TIMEOUT: "120s" };
    const r = await bootIn(dir, [], { env });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertMatch(r.stdout, /PASS: 42\/42 markers \(phase bring-up; every required marker seen\)/);
    assertEquals(r.stderr, "");
    const marker = await bootIn(dir, ["--phase", "bring-up"], {
      env: { RUN_UNTIL_MARKER: "init: ready" },
    });
    assertEquals(marker.code, 0, marker.stdout);
    assertMatch(marker.stdout, /PASS: 22\/22 markers \(phase bring-up; until-marker reached\)/);
    const both = await bootIn(dir, ["--phase", "bring-up", "--until-marker", "init: ready"], {
      env,
    });
    assertEquals(both.code, 0, both.stdout + both.stderr);
    assertEquals(
      both.stderr,
      'nexus: notice: --until-marker "init: ready" overrides RUN_UNTIL_MARKER=1\n',
    );
  });
});

Deno.test("boot: paths the system refuses and odd inputs are one-line errors (exit 2)", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    await Deno.writeTextFile(`${dir}/afile`, "x");
    await Deno.symlink(`${dir}/loop-a`, `${dir}/loop-b`);
    await Deno.symlink(`${dir}/loop-b`, `${dir}/loop-a`);
    const made = await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    assertEquals(made.code, 0);
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [
        ["--image", `${"d".repeat(300)}/x.img`],
        /^nexus: image d+\.\.\.d+\/x\.img: file name too long\n$/,
      ],
      [["--image", "afile/x.img"], /^nexus: image afile\/x\.img: a part of the path is a file/],
      [["--image", "loop-a"], /^nexus: image loop-a: too many levels of symbolic links/],
      [["--ladder", "fifo"], /^nexus: cannot read ladder fifo: is a FIFO, not a regular file/],
      [["--system", "fifo"], /^nexus: cannot read manifest fifo: is a FIFO, not a regular file/],
      [["--timeout", "600h"], /^nexus: --timeout "600h" is longer than the longest limit, 596h/],
      [[], /^nexus: RUN_TIMEOUT "1000h" is longer than the longest limit/, {
        RUN_TIMEOUT: "1000h",
      }],
    ];
    for (const [args, re, env] of cases) {
      const r = await bootIn(dir, ["--phase", "bring-up", ...args], { env });
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assertMatch(r.stderr, re);
      assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      noStack(r.stderr);
    }
    // `build` is a regular file: the default image and logs cannot go there.
    const sub = `${dir}/sub`;
    await Deno.mkdir(sub);
    await Deno.writeTextFile(`${sub}/build`, "mine");
    const r = await bootIn(sub, ["--phase", "bring-up"]);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertMatch(
      r.stderr,
      /^nexus: (image build\/blk\.img|cannot write build\/logs\/summary\.json): /,
    );
    assertEquals(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assertEquals(await Deno.readTextFile(`${sub}/build`), "mine", "left alone");
  });
});

Deno.test("boot: summary.json says what ran; an exit-2 run leaves no earlier verdict standing", async () => {
  await withTempDir("nexus-boot-", async (dir) => {
    const pass = await bootIn(dir, [
      "--phase",
      "bring-up",
      "--until-marker",
      "--seed",
      "3",
      "--quiet",
      "--junit",
      "junit.xml",
    ]);
    assertEquals(pass.code, 0, pass.stdout + pass.stderr);
    assertEquals(pass.stdout.split("\n").length, 2, "--quiet: only the verdict");
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/build/logs/summary.json`));
    assertEquals(summary.schemaVersion, 1);
    assertMatch(summary.nexusVersion, /^\d+\.\d+\.\d+/);
    assertEquals(summary.status, "PASS");
    assertEquals(summary.run.command, [
      "nexus",
      "boot",
      "--phase",
      "bring-up",
      "--until-marker",
      "--seed",
      "3",
      "--quiet",
      "--junit",
      "junit.xml",
    ]);
    assertEquals(summary.run.seed, 3);
    // Every boot ends in a power cut of its write cache (default reorder, seeded by the boot).
    assertEquals(summary.run.powerCut.mode, "reorder");
    assertEquals(summary.run.powerCut.seed, 3);
    assertEquals(summary.run.image.path, `${dir}/build/blk.img`);
    assertEquals(summary.run.image.sizeBytes, 131072 * 512);
    assertEquals(
      summary.run.image.partitions.map((p: { name: string }) => p.name),
      ["nexus-state", "system-a", "system-b"],
    );
    assertMatch(summary.run.manifest, /images\/system\.toml$/);
    assertMatch(summary.run.ladder, /images\/ladder\.toml$/);
    const uart = await Deno.readTextFile(`${dir}/build/logs/uart.log`);
    assert(uart.length > 0);
    // The same object comes with --json.
    const json = await bootIn(dir, ["--phase", "bring-up", "--until-marker", "--json"]);
    const v = JSON.parse(json.stdout);
    assertEquals([v.schemaVersion, v.run.seed], [1, 1]);
    await bootIn(dir, ["--phase", "bring-up", "--until-marker", "--junit", "junit.xml"]);
    const uartBefore = await Deno.readTextFile(`${dir}/build/logs/uart.log`);
    // Now a run that cannot start: an empty image.
    await Deno.writeFile(`${dir}/empty.img`, new Uint8Array());
    const bad = await bootIn(dir, ["--image", "empty.img", "--junit", "junit.xml"]);
    assertEquals(bad.code, 2, bad.stdout + bad.stderr);
    const after = JSON.parse(await Deno.readTextFile(`${dir}/build/logs/summary.json`));
    assertEquals(after.status, "ERROR");
    assertEquals(after.exitCode, 2);
    assertMatch(after.error, /empty\.img: the image is empty/);
    assertEquals(
      await Deno.readTextFile(`${dir}/build/logs/uart.log`),
      uartBefore,
      "the last run's console is not truncated",
    );
    const junit = await checkJunit(await Deno.readTextFile(`${dir}/junit.xml`));
    assertEquals(junit.attrs.errors, "1", "the JUnit file says the run errored");
    // A usage error replaces it too.
    await bootIn(dir, ["--phase", "bring-up", "--until-marker"]);
    const usage = await bootIn(dir, ["--phase", "nope"]);
    assertEquals(usage.code, 2);
    const third = JSON.parse(await Deno.readTextFile(`${dir}/build/logs/summary.json`));
    assertEquals(third.status, "ERROR");
    assertMatch(third.error, /unknown phase "nope"/);
  });
});
