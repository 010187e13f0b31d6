import { assert, assertEquals, assertMatch } from "./assert.ts";
import { nexus, nexusIn } from "./cli_helpers.ts";
import { withTempDir } from "./helpers.ts";
import denoJson from "../deno.json" with { type: "json" };

Deno.test("nexus --version, run as a process, prints the version from deno.json", async () => {
  const r = await nexus(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(r.stdout.trim(), denoJson.version);
});

Deno.test("nexus --help lists the command groups", async () => {
  const r = await nexusIn(["--help"]);
  assertEquals(r.code, 0);
  for (const group of ["image", "slots", "boot", "scan"]) {
    assertMatch(r.stdout, new RegExp(`\\b${group}\\b`));
  }
});

Deno.test("usage errors of every command are one `nexus: ...` line naming its help (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["imgae"],
      /^nexus: unknown command 'imgae' \(Did you mean image\?\) \(see: nexus --help\)\n$/,
    ],
    [
      ["boot", "--frobnicate"],
      /^nexus: unknown option '--frobnicate' \(see: nexus boot --help\)\n$/,
    ],
    [
      ["image", "mkfs"],
      /^nexus: missing required argument 'image' \(see: nexus image mkfs --help\)\n$/,
    ],
    [
      ["slots", "graph", "--format", "png"],
      /^nexus: option '--format <format>' argument 'png' is invalid\..* \(see: nexus slots graph --help\)\n$/,
    ],
    [
      ["scan", "--phase"],
      /^nexus: option '--phase <name>' argument missing \(see: nexus scan --help\)\n$/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await nexusIn(args);
    assertEquals(r.code, 2, args.join(" "));
    assertMatch(r.stderr, re);
    assert(!r.stderr.includes("    at "), "no stack trace");
  }
});

Deno.test("relative paths resolve against INIT_CWD, the directory `deno task` was run from", async () => {
  await withTempDir("nexus-cwd-", async (dir) => {
    await Deno.mkdir(`${dir}/user`);
    const r = await nexus(["image", "mkfs", "mine.img", "--size", "36M"], {
      cwd: dir,
      env: { INIT_CWD: `${dir}/user` },
    });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assert((await Deno.stat(`${dir}/user/mine.img`)).isFile, "made in the user's directory");
  });
});
