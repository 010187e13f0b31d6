/**
 * The default ladder against the default system: the services its per-service entries expand
 * over are exactly the manifest's, in start order (init's ordered markers depend on it).
 */
import { assertEquals } from "./assert.ts";
import { defaultLadderPath, loadLadder } from "../harness/mod.ts";
import { DEFAULT_MANIFEST_PATH, loadManifest, requireLoadable } from "../init/manifest.ts";

Deno.test("the default ladder's services are the default manifest's, in start order", async () => {
  const ladder = await loadLadder(defaultLadderPath());
  const manifest = requireLoadable(await loadManifest(DEFAULT_MANIFEST_PATH));
  assertEquals(ladder.services, manifest.services.map((s) => s.name));
});
