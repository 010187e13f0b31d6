/**
 * The default manifest's settings agree with the services that read them.
 */

import { assertEquals } from "./assert.ts";
import { DEFAULT_MANIFEST_PATH, findService, loadManifest } from "../init/manifest.ts";
import { ed25519PublicKey } from "../services/keystored/ed25519.ts";
import { updatePublicKey } from "../services/updated/main.ts";
import { SERVICES } from "../services/mod.ts";
import { serviceEnv } from "../init/wiring.ts";

const { manifest } = await loadManifest(DEFAULT_MANIFEST_PATH);

Deno.test("the development update key pair in the manifest is a pair", async () => {
  const seedHex = findService(manifest, "selftest-client")!.config.update_signing_seed as string;
  const seed = Uint8Array.fromHex(seedHex);
  const pub = updatePublicKey(findService(manifest, "updated")!.config);
  assertEquals(pub.toHex(), (await ed25519PublicKey(seed)).toHex());
});

Deno.test("statefsd's name table is the manifest's services, written once", () => {
  const statefsd = findService(manifest, "statefsd")!;
  assertEquals(statefsd.config.services, undefined, "derived by init, not written twice");
  assertEquals(
    serviceEnv(manifest, statefsd, 1).config.services,
    manifest.services.map((s) => s.name),
  );
});

Deno.test("every service module is in the manifest under its own name", () => {
  assertEquals(
    manifest.services.map((s) => [s.name, s.module]),
    Object.keys(SERVICES).map((k) => [SERVICES[k].name, k]),
  );
});
