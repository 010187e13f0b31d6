/**
 * A power cut during the first boot on a fresh image leaves an image a later boot recovers from:
 * a sample of cut points on a small image (the full range on the default image is
 * `deno run --allow-read --allow-write tests/power_cut.ts`, see tests/power_cut.ts).
 */

import { assert, assertEquals } from "./assert.ts";
import { firstBootWrites, recoversFromCut } from "./power_cut.ts";
import { SMALL_GPT } from "./small_image.ts";

const SMALL = { recipe: SMALL_GPT };

Deno.test("power cut in the first boot: the middle and the last write before the final FLUSH", async () => {
  const writes = await firstBootWrites("reorder", SMALL);
  // The compaction proof fills the journal until it compacts: over 200 writes on the default
  // image's large partition, about 60 here, with every other proof the same.
  assert(writes > 50, `a first boot makes ${writes} writes`);
  // The last write is the cold-boot sentinel's, not yet covered by its SYNC's FLUSH; the middle one
  // falls inside the proofs. Both must leave an image later boots pass on.
  for (const write of [Math.floor(writes / 2), writes - 1]) {
    assertEquals(await recoversFromCut(write, "reorder", SMALL), null, `cut after write ${write}`);
  }
});
