import { assertEquals } from "../tests/assert.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/**
 * The npm packages a boot may load: ES modules only. A CommonJS package, like any `node:` module,
 * starts Deno's Node compatibility layer, 35 to 70 ms of CPU in every nexus process.
 */
const ESM_PACKAGES = [
  "@noble/hashes",
  "@stricli/core",
  "ansi-styles",
  "smol-toml",
  "toml-eslint-parser",
];

interface Graph {
  roots: string[];
  modules: {
    kind: string;
    specifier: string;
    npmPackage?: string;
    dependencies?: {
      code?: { specifier: string };
      type?: { specifier: string };
      isDynamic?: boolean;
    }[];
  }[];
  redirects: Record<string, string>;
}

async function moduleGraph(entry: string): Promise<Graph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", CONFIG, new URL(`./${entry}`, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The modules `graph`'s root loads, following dynamic imports too only when `dynamic`. */
function reachable(graph: Graph, dynamic: boolean): Graph["modules"] {
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...graph.roots];
  while (todo.length > 0) {
    const spec = todo.pop()!;
    const resolved = graph.redirects[spec] ?? spec;
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    for (const d of bySpecifier.get(resolved)?.dependencies ?? []) {
      if (d.code !== undefined && (dynamic || !d.isDynamic)) todo.push(d.code.specifier);
    }
  }
  return graph.modules.filter((m) => seen.has(m.specifier));
}

Deno.test("a boot's module graph holds no node: module and only the listed ESM packages", async () => {
  // main.ts itself (what `--version` loads; the groups come on demand), and everything boot.ts
  // may load.
  for (const [entry, dynamic] of [["main.ts", false], ["boot.ts", true]] as const) {
    const modules = reachable(await moduleGraph(entry), dynamic);
    const node = modules.filter((m) => m.kind === "node").map((m) => m.specifier);
    assertEquals(node, [], `${entry} imports node: modules`);
    const packages = new Set(
      modules.flatMap((m) => m.npmPackage ? [m.npmPackage.replace(/@[^@]*$/, "")] : []),
    );
    for (const p of packages) {
      assertEquals(ESM_PACKAGES.includes(p), true, `${entry} loads ${p}, not on the ESM list`);
    }
    assertEquals(packages.has("@stricli/core"), true, `${entry}: the graph was read`);
  }
});

Deno.test("the nexus process loads only its entry and bundle.ts before it picks what to run", async () => {
  // Whatever else it loaded up front, a run from the bundle would load twice.
  const graph = await moduleGraph("nexus.ts");
  const loaded = reachable(graph, true).map((m) => m.specifier.replace(/^.*\/cli\//, "cli/"));
  assertEquals(loaded.sort(), ["cli/bundle.ts", "cli/nexus.ts"]);
});

Deno.test("no module of the command tree calls setTimeout or setInterval", async () => {
  // The first of either in a process loads Deno's Node.js timers; core/kernel/wall_timer.ts
  // gives the same on Deno's core timers.
  const modules = reachable(await moduleGraph("main.ts"), true)
    .filter((m) => m.specifier.startsWith("file:"));
  assertEquals(modules.some((m) => m.specifier.endsWith("/harness/live.ts")), true);
  const calling = modules.filter((m) => {
    const code = Deno.readTextFileSync(new URL(m.specifier)).replace(/^\s*(\*|\/\/).*$/gm, "");
    return /\b(setTimeout|setInterval)\s*\(/.test(code);
  });
  assertEquals(calling.map((m) => m.specifier), []);
});
