import { assert, assertEquals, assertMatch, assertThrows } from "../tests/assert.ts";
import { DEFAULT_MANIFEST_PATH, loadManifest } from "./manifest.ts";
import { planRegistry } from "./testing/fake_services.ts";
import { callEdges, renderGraph, renderSlotTable, slotRows, UnknownServiceError } from "./views.ts";

const { manifest } = await loadManifest(DEFAULT_MANIFEST_PATH);
const registry = planRegistry();

Deno.test("slot table: every declared slot, per task in start order, by slot number", () => {
  const rows = slotRows(manifest, registry);
  const declared = manifest.init.slots.length +
    manifest.services.reduce((n, s) => n + s.slots.length, 0);
  assertEquals(rows.length, declared);
  assertEquals(rows[0].service, "init");
  const statefsd = rows.filter((r) => r.service === "statefsd");
  assertEquals(statefsd.map((r) => [r.slot, r.name, r.rights]), [
    [3, "inbox", "recv"],
    [4, "reply", "send|recv"],
    [5, "policyd", "send"],
    [6, "logd", "send"],
    [8, "blk", "map"],
  ]);
  assertEquals(statefsd[2].target, 'endpoint "policyd" (owner policyd)');
  assertEquals(statefsd[2].use, "access checks (waits for replies)");
  assertEquals(statefsd[4].target, "mmio window 0 (virtio-blk)");
});

Deno.test("slot table for one service adds its reserved slots; unknown names suggest", () => {
  const rows = slotRows(manifest, registry, "keystored");
  assertEquals(rows.map((r) => r.slot), [0, 1, 2, 3, 4, 6, 7, 8]);
  assertEquals(rows.slice(0, 3).map((r) => r.name), ["(bootstrap)", "(init)", "(control)"]);
  assertEquals(slotRows(manifest, registry, "init").map((r) => r.slot), [0, 4, 5, 6, 7]);
  const err = assertThrows(() => slotRows(manifest, registry, "keystore"), UnknownServiceError);
  assertMatch(err.message, /no service "keystore" in the manifest \(did you mean "keystored"\?\)/);
});

Deno.test("rendered table is aligned with a header", () => {
  const lines = renderSlotTable(slotRows(manifest, registry, "rngd"));
  assertMatch(lines[0], /^SERVICE\s+SLOT\s+NAME\s+RIGHTS\s+TARGET\s+USE$/);
  assertEquals(lines.length, 5);
  const col = lines[0].indexOf("TARGET");
  for (const l of lines.slice(1)) assertEquals(l.indexOf(" ", col - 2), col - 2, l);
  assertMatch(lines[4], /^rngd\s+0x03\s+inbox\s+recv\s+endpoint "rngd" \(owner rngd\)\s+entropy$/);
});

Deno.test("call edges: sync, one-way, control to init, MMIO; own reply inboxes are not calls", () => {
  const edges = callEdges(manifest, registry);
  const find = (from: string, to: string) => edges.filter((e) => e.from === from && e.to === to);
  assertEquals(find("statefsd", "policyd").map((e) => [e.label, e.kind]), [[
    "policyd 0x05",
    "sync",
  ]]);
  assertEquals(find("policyd", "logd").map((e) => e.kind), ["async"]);
  assertEquals(find("statefsd", "mmio0").map((e) => e.kind), ["mmio"]);
  assertEquals(find("updated", "init").map((e) => [e.label, e.kind]), [["RT/IH 0x01", "control"]]);
  assertEquals(find("init", "policyd").map((e) => e.kind), ["sync"]);
  assertEquals(find("init", "updated").map((e) => e.kind), ["async"]);
  assertEquals(find("statefsd", "statefsd"), []);
  assertEquals(edges.filter((e) => e.kind === "control").length, manifest.services.length);
});

Deno.test("graph renders as DOT and Mermaid, deterministically", () => {
  const dot = renderGraph(manifest, registry, "dot");
  assertMatch(dot, /^\/\/ bold:/);
  assertMatch(dot, /digraph nexus \{/);
  assertMatch(dot, /"statefsd" -> "policyd" \[label="policyd 0x05", style=bold\];/);
  assertMatch(dot, /"mmio0" \[label="mmio 0: virtio-blk", shape=cylinder\];/);
  assert(dot.trimEnd().endsWith("}"));
  const mermaid = renderGraph(manifest, registry, "mermaid");
  assertMatch(mermaid, /^%%.*\n%%.*\nflowchart LR\n/);
  // selftest-client is node 10 (init is 0); statefsd is 5.
  assertMatch(mermaid, /n10\["selftest-client"\]/);
  assertMatch(mermaid, /n10 ==>\|"statefsd 0x04"\| n5/);
  assertMatch(mermaid, /n2 -->\|"logd 0x04"\| n1/);
  assertEquals(renderGraph(manifest, registry, "mermaid"), mermaid);
  // The services' routing lines to init are one grouped edge, not one per service.
  assertEquals(mermaid.match(/-\.->\|"RT\/IH/g)?.length, 1);
  assertMatch(
    mermaid,
    /\n {2}subgraph services\["services"\]\n {4}n1\["logd"\]\n( {4}n\d+\[.*\]\n){9} {2}end\n/,
  );
  assertMatch(mermaid, /\n {2}services -\.->\|"RT\/IH 0x01 from each"\| n0\n/);
  assertEquals(dot.match(/-> "init" \[label="RT\/IH/g)?.length, 1);
  assertMatch(
    dot,
    /-> "init" \[label="RT\/IH 0x01 from each", style=dotted, ltail=cluster_services\];/,
  );
  assertMatch(dot, /subgraph cluster_services \{\n {4}label="services";\n {4}"logd";/);
});
