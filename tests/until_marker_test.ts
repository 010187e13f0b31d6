/**
 * `--until-marker MARKER` on a healthy boot: every marker of the default ladder, used as the
 * stop, passes the console of a real boot (judged in-process, one boot for all of them), and a
 * few markers pass real boots end to end, among them an mmio marker the console prints before
 * the routing, ota and policy phases the ladder cuts before it. The boots run on small images:
 * the markers a boot prints do not depend on the image's size.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootIn } from "./cli_helpers.ts";
import { Judge } from "../harness/judge.ts";
import { loadNamedLadder, selectRequirement } from "../harness/ladder.ts";
import { splitLines } from "../harness/lines.ts";
import { makeSmallImage } from "./small_image.ts";

Deno.test("every default-ladder marker as --until-marker passes a healthy boot", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const full = await bootIn(dir, [
      ...["--log-dir", "logs", "--image", await makeSmallImage(`${dir}/small.img`)],
    ]);
    assertEquals(full.code, 0, full.stdout + full.stderr);
    const lines = splitLines(await Deno.readTextFile(`${dir}/logs/uart.log`));
    const ladder = await loadNamedLadder("default");
    for (const entry of ladder.entries) {
      for (const marker of entry.markers) {
        const j = new Judge(selectRequirement(ladder, { untilMarker: marker }));
        for (const l of lines) if (j.feed(l)) break;
        const v = j.verdict({ reason: "eof", wallMs: 0 });
        // An alternative a fresh image does not print (the cold-boot ones) is never reached.
        if (!lines.some((l) => l.includes(marker))) {
          assert(entry.markers.length > 1, `${marker} is not printed by a healthy boot`);
          assertEquals(v.end, "eof");
          continue;
        }
        assertEquals(v.end, "until-marker", marker);
        assertEquals(v.status, "PASS", `${marker}: ${JSON.stringify(v.missingByPhase)}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("real boots stop at an mmio and a bring-up marker and pass", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const n of ["a", "b"]) await makeSmallImage(`${dir}/${n}.img`);
    const mmio = await bootIn(dir, [
      ...["--until-marker=SELFTEST: statefs compact ok", "--image", `${dir}/a.img`],
    ]);
    assertEquals(mmio.code, 0, mmio.stdout + mmio.stderr);
    assertMatch(mmio.stdout, /PASS: \d+\/\d+ markers \(phase end; until-marker reached\)/);
    assert(!mmio.stdout.includes("SELFTEST: ipc routing samgrd"), "stopped before routing");
    const up = await bootIn(dir, [
      "--until-marker",
      "init: up statefsd",
      "--image",
      `${dir}/b.img`,
    ]);
    assertEquals(up.code, 0, up.stdout + up.stderr);
    assertMatch(up.stdout, /PASS: \d+\/\d+ markers/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
