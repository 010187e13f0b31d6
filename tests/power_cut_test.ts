/**
 * A power cut during the first boot on a fresh image leaves an image a later boot recovers from:
 * a sample of cut points (the full range is `deno run --allow-read --allow-write
 * tests/power_cut.ts`, see tests/power_cut.ts).
 */

import { assert, assertEquals } from "./assert.ts";
import { firstBootWrites, recoversFromCut } from "./power_cut.ts";

Deno.test("power cut in the first boot: the middle and the last write before the final FLUSH", async () => {
  const writes = await firstBootWrites("reorder");
  assert(writes > 100, `a first boot makes ${writes} writes`);
  // The last write is the cold-boot sentinel's, not yet covered by its SYNC's FLUSH; the middle one
  // falls inside the proofs. Both must leave an image later boots pass on.
  for (const write of [Math.floor(writes / 2), writes - 1]) {
    assertEquals(await recoversFromCut(write, "reorder"), null, `cut after write ${write}`);
  }
});
