/**
 * Routing through init with the real policyd deciding: the default system, booted from a disk
 * image, with a stand-in selftest-client that only asks init for routes.
 */

import { assert, assertEquals } from "./assert.ts";
import { mkfsImage } from "../images/mod.ts";
import { bootSystem } from "../init/boot.ts";
import { DEFAULT_MANIFEST_PATH } from "../init/manifest.ts";
import { routeGet, RT_DENIED, RT_NOT_FOUND, RT_OK } from "../core/kernel/init_protocol.ts";
import { SERVICES } from "../services/mod.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
import { checkSlots } from "../core/kernel/slot_check.ts";

const NEEDS = SERVICES["selftest-client"].requiredSlots;

const router: ServiceModule = {
  name: "selftest-client",
  requiredSlots: NEEDS,
  main: async (sys, env) => {
    if (!checkSlots(sys, env, NEEDS)) return;
    let nonce = 100;
    for (const name of ["statefsd", "samgrd", "nosuchsvc", "@reply", "init"]) {
      for (const withNonce of [true, false]) {
        const r = await routeGet(sys, env.slots.reply, name, withNonce ? { nonce: ++nonce } : {});
        sys.print(`router: ${name} ${r.status} ${r.sendSlot} ${r.recvSlot} ${r.nonce ?? "-"}`);
      }
    }
  },
};

Deno.test("RT answers from the manifest, DENIED where real policyd has no grant", async () => {
  const dir = await Deno.makeTempDir();
  await mkfsImage(`${dir}/blk.img`);
  const manifest = (await Deno.readTextFile(DEFAULT_MANIFEST_PATH)).replace(
    '  "route:samgrd",\n',
    "",
  );
  assert(!manifest.includes('"route:samgrd"'));
  await Deno.writeTextFile(`${dir}/system.toml`, manifest);
  const lines: string[] = [];
  const outcome = await bootSystem({
    imagePath: `${dir}/blk.img`,
    manifestPath: `${dir}/system.toml`,
    seed: 1,
    services: { ...SERVICES, "selftest-client": router },
    onLine: (l) => lines.push(l),
    shouldStop: () => false,
  });
  assertEquals(outcome.reason, "idle");
  // selftest-client's table (images/system.toml): reply 3, statefsd 4, samgrd 6.
  assertEquals(lines.filter((l) => l.startsWith("router: ")), [
    `router: statefsd ${RT_OK} 4 3 101`,
    `router: statefsd ${RT_OK} 4 3 -`,
    `router: samgrd ${RT_DENIED} 0 0 102`,
    `router: samgrd ${RT_DENIED} 0 0 -`,
    `router: nosuchsvc ${RT_NOT_FOUND} 0 0 103`,
    `router: nosuchsvc ${RT_NOT_FOUND} 0 0 -`,
    `router: @reply ${RT_OK} 3 3 104`,
    `router: @reply ${RT_OK} 3 3 -`,
    `router: init ${RT_NOT_FOUND} 0 0 105`,
    `router: init ${RT_NOT_FOUND} 0 0 -`,
  ]);
  await Deno.remove(dir, { recursive: true });
});
