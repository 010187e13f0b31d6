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
      /^nexus: option '--format' argument 'png' is invalid\..* \(see: nexus slots graph --help\)\n$/,
    ],
    [
      ["scan", "--phase"],
      /^nexus: option '--phase' argument missing \(see: nexus scan --help\)\n$/,
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
  const names = async (args?: string[]) => {
    const { root } = await buildProgram(args);
    assert("getAllEntries" in root, "the root is a route map");
    return root.getAllEntries().map((e) => e.name.original);
  };
  assertEquals(await names(), [...COMMAND_NAMES], "the whole tree, in help order");
  assertEquals(await names(["ps", "--json"]), ["ps", "caps"]);
  assertEquals(await names(["scan", "x.log"]), ["scan"]);
  for (const args of [["--help"], ["help", "boot"], ["imgae"], ["completions", "bash"]]) {
    assertEquals(await names(args), [...COMMAND_NAMES], args.join(" "));
  }
});

Deno.test("the version, `help CMD` and a mistyped flag's suggestion", async () => {
  for (const flag of ["--version", "-v", "-V"]) {
    const r = await nexusIn([flag]);
    assertEquals([r.code, r.stdout.trim()], [0, denoJson.version], flag);
  }
  const help = await nexusIn(["help", "boot"]);
  assertEquals(help.code, 0);
  assertEquals(help.stdout, (await nexusIn(["boot", "--help"])).stdout, "help boot is boot --help");
  const typo = await nexusIn(["boot", "--keep-imag"]);
  assertEquals(typo.code, 2);
  assertEquals(
    typo.stderr,
    "nexus: unknown option '--keep-imag' (Did you mean --keep-image?) (see: nexus boot --help)\n",
  );
});

Deno.test("`--name=` is an empty value, not an argument; after `--` it is left alone", async () => {
  const marker = await nexusIn(["boot", "--until-marker="]);
  assertEquals([marker.code, marker.stderr], [2, 'nexus: --until-marker "" is empty\n']);
  const phase = await nexusIn(["boot", "--phase="]);
  assertEquals(phase.code, 2);
  assertMatch(phase.stderr, /^nexus: unknown phase ""; valid phases: /);
  const child = await nexusIn([
    "scan",
    "--run",
    "--phase",
    "bring-up",
    "--timeout",
    "5s",
    "--",
    "sh",
    "-c",
    'echo "$1"',
    "sh",
    "--x=",
  ]);
  assertMatch(child.stdout, /^--x=$/m, "the child got its argument as typed");
});
