/**
 * The rig against the product: booted by the rig and booted by init from the same manifest, every
 * service must find exactly the same capability table, so a service test on the rig sees the
 * wiring the product builds.
 */
import { assertEquals } from "../../tests/assert.ts";
import type { ServiceModule } from "../../core/kernel/service.ts";
import type { CapInfo, MmioDevice } from "../../core/kernel/types.ts";
import { DEFAULT_MANIFEST_PATH, rightsToString } from "../../init/mod.ts";
import { runInit } from "../../init/testing.ts";
import { SERVICES } from "../mod.ts";
import { bootServices, defaultManifest } from "./rig.ts";

function describeCap(info: CapInfo | null): string {
  if (info === null) return "empty";
  const what = info.endpoint
    ? `endpoint of ${info.endpoint.ownerName}, depth ${info.endpoint.depth}`
    : info.mmio
    ? `mmio window ${info.mmio.window}`
    : "";
  return `${info.kind} ${rightsToString(info.rights)} ${what}`;
}

/** Every product module, with a body that records its table (by slot name) into `into`. */
function probes(into: Map<string, string[]>): Record<string, ServiceModule> {
  return Object.fromEntries(
    Object.entries(SERVICES).map(([key, mod]) => [
      key,
      {
        ...mod,
        main(sys, env) {
          const rows = Object.entries(env.slots).sort(([a], [b]) => a < b ? -1 : 1)
            .map(([name, slot]) => `${name} at ${slot}: ${describeCap(sys.capQuery(slot))}`);
          into.set(mod.name, rows);
          return Promise.resolve();
        },
      } satisfies ServiceModule,
    ]),
  );
}

const device = (): MmioDevice => ({ attach() {}, read32: () => 0, write32() {} });

Deno.test("rig: every product service gets the same capability table from the rig as from init", async () => {
  const m = await defaultManifest();
  const byRig = new Map<string, string[]>();
  const rigModules = probes(byRig);
  await bootServices({
    services: m.services.map((s) => ({ module: rigModules[s.module] })),
    mmio: [{ window: 0, device: device() }],
  });
  const byInit = new Map<string, string[]>();
  await runInit({
    manifest: await Deno.readTextFile(DEFAULT_MANIFEST_PATH),
    services: probes(byInit),
    mmio: [{ window: 0, device: device() }],
  });
  assertEquals(byRig.size, m.services.length);
  for (const s of m.services) assertEquals(byRig.get(s.name), byInit.get(s.name), s.name);
});
