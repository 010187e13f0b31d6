import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../tests/assert.ts";
import { RIGHT_MAP, RIGHT_RECV, RIGHT_SEND } from "../core/kernel/types.ts";
import {
  DEFAULT_MANIFEST_PATH,
  loadManifest,
  ManifestError,
  parseManifest,
  requireLoadable,
  rightsToString,
  rightsToToml,
  slotNumbers,
} from "./manifest.ts";
import { TomlLines } from "./toml_lines.ts";

const SMALL = `
version = 1

[init.slots]
inbox = { slot = 4, rights = ["recv"], endpoint = "init" }

[[service]]
name = "a"
module = "mod-a"
[service.slots]
inbox = { slot = 3, rights = ["recv"], endpoint = "a" }
dev = { slot = 5, rights = ["map"], mmio = 0 }
[service.config]
size = 12
nested = { deep = [1, 2] }

[[service]]
name = "b"
module = "mod-b"
[service.slots]
a = { slot = 7, rights = ["send"], endpoint = "a" }

[[endpoint]]
name = "init"
owner = "init"
depth = 8

[[endpoint]]
name = "a"
owner = "a"
depth = 16

[[mmio]]
window = 0
device = "virtio-blk"
services = ["a"]

[[policy.grant]]
subject = "b"
caps = ["route:a", "x.read"]
`;

Deno.test("a well-formed manifest loads with services in order, slots, endpoints, grants", () => {
  const { manifest: m, diagnostics } = parseManifest(SMALL, "small.toml");
  assertEquals(diagnostics, []);
  assertEquals(m.services.map((s) => s.name), ["a", "b"]);
  assertEquals(m.services[0].module, "mod-a");
  assertEquals(m.services[0].slots.map((s) => [s.name, s.slot, s.rights, s.target]), [
    ["inbox", 3, RIGHT_RECV, { kind: "endpoint", endpoint: "a" }],
    ["dev", 5, RIGHT_MAP, { kind: "mmio", window: 0 }],
  ]);
  // Integers in config arrive as plain numbers.
  assertEquals(m.services[0].config, { size: 12, nested: { deep: [1, 2] } });
  assertEquals(m.services[1].config, {});
  assertEquals(m.init.slots.map((s) => [s.name, s.slot]), [["inbox", 4]]);
  assertEquals(m.endpoints.map((e) => [e.name, e.owner, e.depth]), [["init", "init", 8], [
    "a",
    "a",
    16,
  ]]);
  assertEquals(m.mmio, [{ window: 0, device: "virtio-blk", services: ["a"], line: 33 }]);
  assertEquals(m.grants.map((g) => [g.subject, g.caps]), [["b", ["route:a", "x.read"]]]);
  assertEquals(slotNumbers(m.services[0].slots), { inbox: 3, dev: 5 });
  // Lines point at the declarations.
  assertEquals(m.services[1].line, 17);
  assertEquals(m.services[1].slots[0].line, 21);
});

Deno.test("unknown keys are reported with a did-you-mean and their line", () => {
  const text = SMALL.replace('module = "mod-b"', 'modul = "mod-b"\nmodule = "mod-b"')
    .replace(
      'a = { slot = 7, rights = ["send"], endpoint = "a" }',
      'a = { slot = 7, rigths = ["send"], rights = ["send"], endpoint = "a" }',
    ) +
    "\nservices = 3\n";
  const { diagnostics } = parseManifest(text, "k.toml");
  const unknown = diagnostics.filter((d) => d.code === "UNKNOWN_KEY");
  assertEquals(unknown.length, 3);
  assertMatch(unknown[0].message, /unknown key "modul" in service "b" \(did you mean "module"\?\)/);
  assertEquals(unknown[0].service, "b");
  assertEquals(unknown[0].line, 19);
  assertMatch(unknown[1].message, /"rigths".*did you mean "rights"/);
  assertEquals([unknown[1].service, unknown[1].slot], ["b", "a"]);
  // A key after the last [[policy.grant]] belongs to that grant, as TOML says.
  assertMatch(unknown[2].message, /"services" in grant for "b"/);
  assert(unknown.every((d) => d.severity === "error" && d.file === "k.toml"));
});

Deno.test("a misspelt top-level table is an unknown key with a suggestion", () => {
  const { diagnostics, manifest } = parseManifest(
    SMALL.replaceAll("[[endpoint]]", "[[endpoints]]"),
  );
  assertEquals(manifest.endpoints, []);
  assertEquals(diagnostics.length, 1);
  assertMatch(
    diagnostics[0].message,
    /unknown key "endpoints" at the top level \(did you mean "endpoint"\?\)/,
  );
});

Deno.test("bad values are reported and the entry left out, the rest still loads", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["slot = 3,", "slot = 96,", /must be an integer in 0\.\.95, not 96/],
    ["slot = 3,", "slot = 3.0,", /must be an integer in 0\.\.95, not a float/],
    ["slot = 3,", 'slot = "3",', /must be an integer in 0\.\.95, not a string/],
    [
      'rights = ["recv"], endpoint = "a"',
      'rights = ["recieve"], endpoint = "a"',
      /unknown right "recieve"/,
    ],
    ['rights = ["recv"], endpoint = "a"', 'rights = [], endpoint = "a"', /grants no rights/],
    [
      'rights = ["recv"], endpoint = "a"',
      'rights = "recv", endpoint = "a"',
      /array of non-empty strings/,
    ],
    [
      'rights = ["recv"], endpoint = "a"',
      'rights = ["recv"], endpoint = "a", mmio = 0',
      /exactly one target/,
    ],
    ['rights = ["recv"], endpoint = "a"', 'rights = ["recv"]', /exactly one target/],
    ['endpoint = "a" }\ndev', 'endpoint = "" }\ndev', /must be a non-empty string/],
  ];
  for (const [from, to, re] of cases) {
    const text = SMALL.replace(from, to);
    const { diagnostics, manifest } = parseManifest(text);
    assertEquals(diagnostics.length, 1, `${to}: ${JSON.stringify(diagnostics)}`);
    assertMatch(diagnostics[0].message, re);
    assertEquals(diagnostics[0].service, "a");
    assertEquals(diagnostics[0].slot, "inbox");
    assertEquals(diagnostics[0].line, 11);
    assertEquals(manifest.services[0].slots.map((s) => s.name), ["dev"]);
  }
});

Deno.test("depth, window and version ranges; missing keys; duplicates; init as a service", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ["depth = 16", "depth = 0", "BAD_VALUE", /depth must be an integer in 1\.\.256, not 0/],
    ["depth = 16", "depth = 257", "BAD_VALUE", /1\.\.256, not 257/],
    ["depth = 16", "", "MISSING_KEY", /endpoint "a" has no "depth"/],
    ["window = 0", "window = -1", "BAD_VALUE", /window must be an integer in 0\.\.255/],
    ["version = 1", "version = 2", "BAD_VALUE", /version must be an integer in 1\.\.1, not 2/],
    ['module = "mod-a"', "", "MISSING_KEY", /service "a" has no "module"/],
    ['name = "b"', 'name = "a"', "DUPLICATE_NAME", /service "a" is declared twice/],
    ['name = "b"', 'name = "init"', "BAD_VALUE", /"init" is not a service/],
    [
      'name = "init"\nowner',
      'name = "a"\nowner',
      "DUPLICATE_NAME",
      /endpoint "a" is declared twice/,
    ],
    ['caps = ["route:a", "x.read"]', "caps = [1]", "BAD_VALUE", /caps must be an array/],
    [
      "[service.config]\nsize",
      "[service.conf]\nsize",
      "UNKNOWN_KEY",
      /"conf".*did you mean "config"/,
    ],
  ];
  for (const [from, to, code, re] of cases) {
    assert(SMALL.includes(from), from);
    const { diagnostics } = parseManifest(SMALL.replace(from, to));
    assertEquals(diagnostics.map((d) => d.code), [code], `${to}: ${JSON.stringify(diagnostics)}`);
    assertMatch(diagnostics[0].message, re);
    assert(diagnostics[0].line !== undefined, `${to}: line`);
  }
});

Deno.test("TOML syntax errors throw SYNTAX with line and column", () => {
  const err = assertThrows(
    () => parseManifest("a = 1\n[[service]]\nname = \n", "s.toml"),
    ManifestError,
  );
  assertEquals(err.code, "SYNTAX");
  assertEquals(err.line, 3);
  assertMatch(err.message, /^s\.toml:3:\d+: not valid TOML/);
  assert(!err.message.includes("\n"), "one line");
});

Deno.test("loadManifest: unreadable files throw UNREADABLE", async () => {
  const missing = await assertRejects(
    () => loadManifest("/nonexistent/system.toml"),
    ManifestError,
  );
  assertEquals(missing.code, "UNREADABLE");
  assertMatch(missing.message, /no such file/);
  const dir = await assertRejects(() => loadManifest(Deno.makeTempDirSync()), ManifestError);
  assertEquals(dir.code, "UNREADABLE");
});

Deno.test("requireLoadable throws INVALID naming the first error and the count", () => {
  const load = parseManifest(
    SMALL.replace("slot = 3,", "slot = 99,").replace("depth = 16", "depth = 0"),
    "r.toml",
  );
  const err = assertThrows(() => requireLoadable(load), ManifestError);
  assertEquals(err.code, "INVALID");
  assertMatch(err.message, /^r\.toml:11: .*99.*\(and 1 more\)$/);
  assertEquals(err.diagnostics.length, 2);
  assertEquals(requireLoadable(parseManifest(SMALL)).services.length, 2);
});

Deno.test("the default manifest loads without a problem and never uses reserved slots", async () => {
  const { manifest, diagnostics } = await loadManifest(DEFAULT_MANIFEST_PATH);
  assertEquals(diagnostics, []);
  assertEquals(manifest.services.map((s) => s.name), [
    "logd",
    "policyd",
    "samgrd",
    "rngd",
    "statefsd",
    "keystored",
    "bundlemgrd",
    "updated",
    "selftest-ungranted",
    "selftest-client",
  ]);
  for (const t of [manifest.init.slots, ...manifest.services.map((s) => s.slots)]) {
    for (const s of t) assert(s.slot >= 3, `${s.name} at ${s.slot}`);
  }
});

Deno.test("rights spellings", () => {
  assertEquals(rightsToString(RIGHT_SEND | RIGHT_RECV), "send|recv");
  assertEquals(rightsToString(0), "none");
  assertEquals(rightsToToml(RIGHT_MAP), '["map"]');
});

Deno.test("TomlLines maps array-of-table entries, dotted and quoted keys", () => {
  const lines = new TomlLines(
    [
      "[[service]]", // 1
      'name = "x"', // 2
      "[service.slots]", // 3
      '"sel-client" = { slot = 3 }', // 4
      "[[service]]", // 5
      "slots.inbox = { slot = 4 }", // 6
      'doc = """', // 7
      "fake = 1", // 8
      '"""', // 9
      "[[policy.grant]]", // 10
      "subject = 'a'", // 11
    ].join("\n"),
  );
  assertEquals(lines.lineOf(["service", 0, "name"]), 2);
  assertEquals(lines.lineOf(["service", 0, "slots", "sel-client", "slot"]), 4);
  assertEquals(lines.lineOf(["service", 1, "slots", "inbox"]), 6);
  assertEquals(lines.lineOf(["service", 1]), 5);
  assertEquals(lines.lineOf(["service", 1, "fake"]), 5, "multi-line string content is skipped");
  assertEquals(lines.lineOf(["policy", "grant", 0, "subject"]), 11);
  assertEquals(lines.lineOf(["nothing"]), undefined);
});

Deno.test("lines stay right after values that span several lines", () => {
  const text = [
    "[[service]]", // 1
    'name = "a"', // 2
    "module = 'mod-a'", // 3
    "[service.config]", // 4
    'motd = """', // 5
    "quoted with ''' inside", // 6: one literal-string quote inside a basic string
    '[[service]] is text here"""', // 7
    "[service.slots]", // 8
    "inbox = { slot = 96, rights = ['recv'], endpoint = 'a' }", // 9
    "[[endpoint]]", // 10
    'name = "a"', // 11
    "owner = 'a'", // 12
    "tags = [", // 13
    '  ["x"],', // 14: an array inside the array, not a table header
    "]", // 15
    "depth = 0", // 16
  ].join("\n");
  const { diagnostics, manifest } = parseManifest(text, "multi.toml");
  assertEquals(diagnostics.map((d) => [d.code, d.line, d.message]), [
    ["BAD_VALUE", 9, 'service "a" slots.inbox.slot must be an integer in 0..95, not 96'],
    ["UNKNOWN_KEY", 13, 'unknown key "tags" in endpoint "a"'],
    ["BAD_VALUE", 16, 'endpoint "a" depth must be an integer in 1..256, not 0'],
  ]);
  assertEquals(manifest.services.map((s) => [s.name, s.line]), [["a", 1]]);
});
