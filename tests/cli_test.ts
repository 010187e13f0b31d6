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

Deno.test("each image subcommand's help footer names only the exit codes it can give", async () => {
  const footer = async (cmd: string) => {
    const r = await nexusIn(["image", cmd, "--help"]);
    assertEquals(r.code, 0);
    const line = r.stdout.split("\n").find((l) => l.startsWith("Exit codes:"));
    assert(line !== undefined, `image ${cmd} --help has an exit-code footer`);
    return line;
  };
  for (const cmd of ["mkfs", "inspect", "ls", "put", "restore"]) {
    assert(!(await footer(cmd)).includes("key not found"), `image ${cmd}: no "key not found"`);
  }
  for (const cmd of ["get", "rm"]) assertMatch(await footer(cmd), /1 key not found/);
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

Deno.test("completions: bash completes commands and options from the live command tree", async () => {
  const r = await nexusIn(["completions", "bash"]);
  assertEquals(r.code, 0, r.stderr);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/nexus.bash`, r.stdout);
    const complete = async (words: string[]) => {
      const script = `source ${dir}/nexus.bash; COMP_WORDS=(${
        words.map((w) => `'${w}'`).join(" ")
      }); COMP_CWORD=${words.length - 1}; _nexus; echo "\${COMPREPLY[@]}"`;
      const out = await new Deno.Command("bash", { args: ["-c", script], cwd: dir }).output();
      return new TextDecoder().decode(out.stdout).trim();
    };
    assertEquals(await complete(["nexus", "sl"]), "slots");
    assertEquals(await complete(["nexus", "boot", "--tra"]), "--trace --trace-format");
    assertEquals(await complete(["nexus", "slots", "sh"]), "show");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  for (const shell of ["zsh", "fish"]) {
    const s = await nexusIn(["completions", shell]);
    assertEquals(s.code, 0);
    assertMatch(s.stdout, shell === "zsh" ? /^#compdef nexus/ : /complete -c nexus .* -a boot/);
  }
  const bad = await nexusIn(["completions", "tcsh"]);
  assertEquals(bad.code, 2);
  assertEquals(bad.stderr, 'nexus: unknown shell "tcsh"; use one of: bash, zsh, fish\n');
});

Deno.test("a run loads only the command group it names; the table names every top-level command", async () => {
  const { buildProgram, COMMAND_NAMES } = await import("../cli/main.ts");
  const names = (p: { commands: readonly { name(): string }[] }) => p.commands.map((c) => c.name());
  assertEquals(names(await buildProgram()), [...COMMAND_NAMES], "the whole tree, in help order");
  assertEquals(names(await buildProgram(["ps", "--json"])), ["ps", "caps"]);
  assertEquals(names(await buildProgram(["scan", "x.log"])), ["scan"]);
  assertEquals(names(await buildProgram(["--version"])), []);
  for (const args of [["--help"], ["help", "boot"], ["imgae"], ["completions", "bash"]]) {
    assertEquals(names(await buildProgram(args)), [...COMMAND_NAMES], args.join(" "));
  }
});
