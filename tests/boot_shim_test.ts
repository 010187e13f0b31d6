/**
 * scripts/qemu-test.sh maps the original harness's variables onto `nexus boot` flags.
 * NEXUS_SHIM_ECHO=1 makes it print the command (one argument per line) instead of running it.
 */
import { assertEquals } from "./assert.ts";

const SHIM = new URL("../scripts/qemu-test.sh", import.meta.url).pathname;
const DENO_DIR = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));

async function shim(env: Record<string, string>, args: string[] = []): Promise<string[]> {
  const out = await new Deno.Command(SHIM, {
    args,
    env: { PATH: `${DENO_DIR}:/usr/bin:/bin`, NEXUS_SHIM_ECHO: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const argv = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  // deno is on PATH here, so the shim runs it directly.
  assertEquals(argv.slice(0, 5), ["deno", "task", "--quiet", "nexus", "boot"]);
  return argv.slice(5);
}

Deno.test("shim: the original command line maps onto nexus boot flags", async () => {
  assertEquals(
    await shim({
      RUN_PHASE: "mmio",
      RUN_UNTIL_MARKER: "1",
      RUN_TIMEOUT: "120s",
      INIT_LITE_WATCHDOG_TICKS: "800",
    }),
    ["--phase", "mmio", "--until-marker", "--timeout", "120s", "--watchdog-ticks", "800"],
  );
});

Deno.test("shim: a marker string, kept image and cold boot; extra arguments pass through", async () => {
  assertEquals(
    await shim(
      { RUN_UNTIL_MARKER: "init: ready", NEXUS_KEEP_BLK: "1", REQUIRE_STATEFS_COLD_BOOT: "1" },
      ["--seed", "7"],
    ),
    ["--until-marker=init: ready", "--keep-image", "--require-cold-boot", "--seed", "7"],
  );
});

Deno.test("shim: unset, empty and zero values add nothing", async () => {
  assertEquals(await shim({}), []);
  assertEquals(
    await shim({
      RUN_UNTIL_MARKER: "0",
      NEXUS_KEEP_BLK: "0",
      REQUIRE_STATEFS_COLD_BOOT: "",
      RUN_PHASE: "",
    }),
    [],
  );
});
