/**
 * Plain boots (no `--image`) started at once, as a user running several terminals or a CI
 * matrix on one checkout would: each boots its own fresh image, none reads a file another is
 * writing, and `build/blk.img` is afterwards a whole image from one of them.
 */

import { assertEquals, assertMatch } from "./assert.ts";
import { nexus } from "./cli_helpers.ts";
import { withTempDir } from "./helpers.ts";
import { probeImage } from "../images/mod.ts";

Deno.test("three plain boots at once all pass, each on its own image", async () => {
  await withTempDir("nexus-side-", async (dir) => {
    const runs = await Promise.all([1, 2, 3].map((n) =>
      nexus(
        ["boot", "--phase", "bring-up", "--until-marker", "--log-dir", `logs${n}`, "--quiet"],
        // `deno task` exports INIT_CWD, which the CLI takes as the user's directory.
        { cwd: dir, env: { INIT_CWD: dir } },
      )
    ));
    for (const [i, r] of runs.entries()) {
      const why = `run ${i + 1}: ${r.stdout}\n${r.stderr}`;
      assertEquals(r.code, 0, why);
      const logs = [...Deno.readDirSync(dir)].map((e) => e.name).sort().join(" ");
      const uart = await Deno.readTextFile(`${dir}/logs${i + 1}/uart.log`).catch(() => "");
      assertMatch(uart, /statefsd: ready/, `${why}\n(${logs})`);
    }
    const left = [...Deno.readDirSync(`${dir}/build`)].map((e) => e.name).sort();
    assertEquals(left, ["blk.img", "blk.img.lock"], "no private image left behind");
    const info = await probeImage(`${dir}/build/blk.img`);
    assertEquals([info.warnings, info.statefs.partition?.name], [[], "nexus-state"]);
  });
});
