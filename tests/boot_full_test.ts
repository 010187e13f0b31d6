/**
 * The whole ladder on the real simulated system, spawned as a user would: the canonical
 * run, the natural end, the cold-boot lane on a kept image, and the original harness's command
 * line through scripts/qemu-test.sh.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootIn } from "./cli_helpers.ts";
import { withTempDir } from "./helpers.ts";
import { makeSmallImage } from "./small_image.ts";

const SHIM = new URL("../scripts/qemu-test.sh", import.meta.url).pathname;
const DENO_DIR = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));

Deno.test("full: --phase mmio --until-marker passes on a fresh image with the watchdog at 800", async () => {
  await withTempDir("nexus-full-", async (dir) => {
    const r = await bootIn(dir, ["--phase", "mmio", "--until-marker", "--watchdog-ticks", "800"]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertMatch(r.stdout, /^PASS: 85\/85 markers \(phase mmio; every required marker seen\)/m);
    assert(!r.stdout.includes("watchdog fired"));
    assertMatch(r.stdout, /^SELFTEST: statefs cold-boot seeded$/m);
  });
});

Deno.test("full: without --until-marker the system runs to its natural end and passes", async () => {
  await withTempDir("nexus-full-", async (dir) => {
    const r = await bootIn(dir, ["--json"]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const v = JSON.parse(r.stdout);
    assertEquals(v.status, "PASS");
    assertEquals(v.phase, "end");
    assertEquals(v.markers, { expected: 86, seen: 86 });
    assert(["idle", "all-exited"].includes(v.end), v.end);
    assertEquals(v.failures, []);
  });
});

Deno.test("full: two boots with the same seed print byte-identical consoles", async () => {
  await withTempDir("nexus-full-", async (dir) => {
    // Each on a fresh small image of its own: what the seed decides does not depend on the size.
    const a = await bootIn(dir, [
      "--log-dir",
      "a",
      "--image",
      await makeSmallImage(`${dir}/a.img`),
    ]);
    const b = await bootIn(dir, [
      "--log-dir",
      "b",
      "--image",
      await makeSmallImage(`${dir}/b.img`),
    ]);
    assertEquals([a.code, b.code], [0, 0], a.stdout + b.stdout);
    const uart = await Deno.readFile(`${dir}/a/uart.log`);
    assertEquals(uart, await Deno.readFile(`${dir}/b/uart.log`));
    assertMatch(new TextDecoder().decode(uart), /SELFTEST: end\n/);
  });
});

Deno.test("full: --keep-image is the cold-boot lane; --require-cold-boot demands persistence", async () => {
  await withTempDir("nexus-full-", async (dir) => {
    const args = ["--phase", "mmio", "--until-marker", "--require-cold-boot"];
    const fresh = await bootIn(dir, args);
    assertEquals(fresh.code, 1, "a fresh image can only seed");
    assertMatch(
      fresh.stdout,
      /SELFTEST: statefs cold-boot persist ok \(line \d+ has "SELFTEST: statefs cold-boot seeded" instead\)/,
    );
    const cold = await bootIn(dir, [...args, "--keep-image"]);
    assertEquals(cold.code, 0, cold.stdout + cold.stderr);
    assertMatch(cold.stdout, /^SELFTEST: statefs cold-boot persist ok$/m);
    assertMatch(cold.stdout, /^SELFTEST: device key reloaded ok$/m);
    assertMatch(cold.stdout, /^PASS: 85\/85 markers/m);
    // The boot before ended in a power cut; the cold boot ran under the next seed, both recorded.
    const run = JSON.parse(await Deno.readTextFile(`${dir}/build/logs/summary.json`)).run;
    assertEquals(run.seed, 2);
    assertEquals(run.powerCut.previous, { seed: 1, powerCut: "reorder" });
    assertEquals(run.powerCut.mode, "reorder");
    // The same through the original variables.
    const env = await bootIn(dir, ["--phase", "mmio", "--until-marker"], {
      env: { NEXUS_KEEP_BLK: "1", REQUIRE_STATEFS_COLD_BOOT: "1" },
    });
    assertEquals(env.code, 0, env.stdout + env.stderr);
  });
});

Deno.test("full: the original command line runs as is through scripts/qemu-test.sh", async () => {
  await withTempDir("nexus-full-", async (dir) => {
    const out = await new Deno.Command(SHIM, {
      args: ["--image", `${dir}/blk.img`, "--log-dir", `${dir}/logs`],
      env: {
        PATH: `${DENO_DIR}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        NO_COLOR: "1",
        RUN_PHASE: "mmio",
        RUN_UNTIL_MARKER: "1",
        RUN_TIMEOUT: "120s",
        INIT_LITE_WATCHDOG_TICKS: "800",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
    assertMatch(stdout, /^PASS: 85\/85 markers \(phase mmio; every required marker seen\)/m);
    assertEquals(new TextDecoder().decode(out.stderr), "", "flags and variables agree: no notice");
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/logs/summary.json`));
    assertEquals(summary.status, "PASS");
  });
});
