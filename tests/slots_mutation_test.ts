/**
 * Mutation tests for `slots validate`: every single-slot deletion, duplication and retargeting of
 * the default manifest, and every removal of a route grant, must be reported as an error about
 * the service (and slot) mutated; the unmodified manifest must validate clean.
 */

import { assert, assertEquals } from "./assert.ts";
import { formatDiagnostic } from "../init/diagnostic.ts";
import {
  DEFAULT_MANIFEST_PATH,
  INIT_NAME,
  loadManifest,
  type ManifestLoad,
  type SlotDecl,
  type SystemManifest,
} from "../init/manifest.ts";
import { planRegistry } from "../init/testing/fake_services.ts";
import { type ServiceRegistry, validateManifest } from "../init/validate.ts";
import { SERVICES } from "../services/mod.ts";

const base = await loadManifest(DEFAULT_MANIFEST_PATH);

interface Mutant {
  what: string;
  manifest: SystemManifest;
  /** The error must name this service, and one of these slots when given. */
  service: string;
  slots?: string[];
}

function tables(m: SystemManifest): Array<{ owner: string; slots: SlotDecl[] }> {
  return [
    { owner: INIT_NAME, slots: m.init.slots },
    ...m.services.map((s) => ({ owner: s.name, slots: s.slots })),
  ];
}

function mutants(m0: SystemManifest): Mutant[] {
  const out: Mutant[] = [];
  const edit = (fn: (m: SystemManifest, slots: SlotDecl[]) => void, owner: string) => {
    const m = structuredClone(m0);
    fn(m, tables(m).find((t) => t.owner === owner)!.slots);
    return m;
  };
  for (const { owner, slots } of tables(m0)) {
    slots.forEach((s, i) => {
      out.push({
        what: `delete ${owner}.${s.name}`,
        service: owner,
        slots: [s.name],
        manifest: edit((_, t) => t.splice(i, 1), owner),
      });
      out.push({
        what: `duplicate ${owner}.${s.name} as ${s.name}_copy`,
        service: owner,
        slots: [s.name, `${s.name}_copy`],
        manifest: edit((_, t) => t.push({ ...t[i], name: `${s.name}_copy` }), owner),
      });
      slots.forEach((other, j) => {
        if (j === i) return;
        out.push({
          what: `give ${owner}.${s.name} the number of ${other.name} (${other.slot})`,
          service: owner,
          slots: [s.name, other.name],
          manifest: edit((_, t) => (t[i].slot = other.slot), owner),
        });
      });
      const targets = [
        ...m0.endpoints.map((e) => ({ kind: "endpoint" as const, endpoint: e.name })),
        { kind: "endpoint" as const, endpoint: "nowhere" },
        { kind: "mmio" as const, window: 0 },
        { kind: "mmio" as const, window: 1 },
      ];
      for (const target of targets) {
        if (JSON.stringify(target) === JSON.stringify(s.target)) continue;
        out.push({
          what: `retarget ${owner}.${s.name} to ${JSON.stringify(target)}`,
          service: owner,
          slots: [s.name],
          manifest: edit((_, t) => (t[i].target = target), owner),
        });
      }
    });
  }
  m0.grants.forEach((g, gi) => {
    g.caps.forEach((cap, ci) => {
      if (!cap.startsWith("route:")) return;
      const m = structuredClone(m0);
      m.grants[gi].caps.splice(ci, 1);
      out.push({ what: `drop grant ${cap} of ${g.subject}`, service: g.subject, manifest: m });
    });
  });
  return out;
}

function killed(load: ManifestLoad, registry: ServiceRegistry, mutant: Mutant): boolean {
  const report = validateManifest({ ...load, manifest: mutant.manifest }, registry);
  return report.problems.some((p) =>
    p.severity === "error" && p.service === mutant.service &&
    (mutant.slots === undefined || mutant.slots.includes(p.slot ?? ""))
  );
}

for (
  const [label, registry] of [["real services", SERVICES], ["wiring plan", planRegistry()]] as const
) {
  Deno.test(`slots validate (${label}): the default manifest is clean`, () => {
    const report = validateManifest(base, registry);
    assertEquals(report.problems.map(formatDiagnostic), []);
    assert(report.valid);
  });

  Deno.test(`slots validate (${label}): every single-slot mutant is killed`, () => {
    const all = mutants(base.manifest);
    // Deletions, duplications and retargets of ~40 slots over ~14 endpoints.
    assert(all.length > 500, `only ${all.length} mutants`);
    const kinds = new Set(all.map((m) => m.what.split(" ")[0]));
    assertEquals([...kinds].sort(), ["delete", "drop", "duplicate", "give", "retarget"]);
    const survivors = all.filter((m) => !killed(base, registry, m)).map((m) => m.what);
    assertEquals(survivors, []);
  });
}
