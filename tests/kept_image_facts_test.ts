/**
 * A kept image changed behind the system's back fails its cold boot, and the failure names the
 * fact that no longer holds: each fact the previous boot's sentinel vouched for (the bootctl
 * record, the persist key's value, the deleted key's absence, the large-journal keys) is broken
 * on a copy of one green boot's image with `nexus image put/rm`, then the copy cold boots with
 * `--keep-image --require-cold-boot`.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootIn, nexusIn } from "./cli_helpers.ts";
import { withTempDir } from "./helpers.ts";
import { makeSmallImage } from "./small_image.ts";
import { BOOTCTL_KEY } from "../services/updated/protocol.ts";

const PHASE = ["--phase", "mmio", "--until-marker"];
/** Keys of services/selftest-client/main.ts the sentinel vouches for. */
const SENTINEL_KEY = "/state/selftest/cold-boot";
const PERSIST_KEY = "/state/selftest/persist";
const DELETED_KEY = "/state/selftest/deleted";
const largeKey = (i: number) => `/state/selftest/large/${String(i).padStart(4, "0")}`;

/** One change to the kept image: the `nexus image` edits, and the failure it must cause. */
interface Case {
  name: string;
  edits: { args: string[]; stdin?: string }[];
  /** The reason the cold-boot proof gives, verbatim. */
  why: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("kept image: each fact the sentinel vouched for, changed behind the system's back, fails the cold boot by name", async (t) => {
  await withTempDir("nexus-kept-", async (dir) => {
    // One green first boot; every case cold boots a copy of its image.
    const base = await makeSmallImage(`${dir}/base.img`);
    const first = await bootIn(dir, [...PHASE, "--image", base]);
    assertEquals(first.code, 0, first.stdout + first.stderr);
    assertMatch(first.stdout, /^SELFTEST: statefs cold-boot seeded$/m);
    const sentinel = await nexusIn(["image", "get", base, SENTINEL_KEY]);
    assertEquals(sentinel.code, 0, sentinel.stderr);
    const m = /^boots=1 .* large=(\d+) held=bootctl,persist,deleted$/.exec(sentinel.stdout);
    assert(m !== null, `sentinel: ${sentinel.stdout}`);
    const large = Number(m[1]);
    assert(large > 1, `the sentinel vouches for ${large} large keys`);

    const cases: Case[] = [
      { name: "unchanged", edits: [], why: "" },
      {
        name: "persist key overwritten",
        edits: [{ args: ["put", PERSIST_KEY, "-"], stdin: "persist boot=2" }],
        why: `${PERSIST_KEY} of boot 1 did not survive the power cut`,
      },
      {
        name: "bootctl record deleted",
        edits: [{ args: ["rm", BOOTCTL_KEY] }],
        why: "bootctl record did not survive the reboot",
      },
      {
        name: "bootctl record garbled",
        edits: [{ args: ["put", BOOTCTL_KEY, "-"], stdin: "bad" }],
        why: "bootctl record is 3 bytes, expected 6",
      },
      {
        name: "deleted key back",
        edits: [{ args: ["put", DELETED_KEY, "-"], stdin: "to be deleted, boot 1" }],
        why: `${DELETED_KEY} is back after the reboot`,
      },
      {
        name: "large key changed",
        edits: [{ args: ["put", largeKey(0), "-"], stdin: "not the value of boot 1" }],
        why: `${largeKey(0)} differs after reboot`,
      },
      {
        name: "last large key deleted",
        edits: [{ args: ["rm", largeKey(large - 1)] }],
        why: `${largeKey(large - 1)} of boot 1 is lost`,
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        const img = `${dir}/${c.name.replaceAll(" ", "-")}.img`;
        await Deno.copyFile(base, img);
        for (const edit of c.edits) {
          const [verb, key, ...rest] = edit.args;
          const r = await nexusIn(["image", verb, img, key, ...rest], { stdin: edit.stdin });
          assertEquals(r.code, 0, `${edit.args.join(" ")}: ${r.stderr}`);
        }
        // A seed other than the first boot's, so the device key proof tells a reload.
        const cold = await bootIn(dir, [
          ...PHASE,
          "--image",
          img,
          "--keep-image",
          "--require-cold-boot",
          "--seed",
          "2",
        ]);
        const out = cold.stdout + cold.stderr;
        if (c.why === "") {
          assertEquals(cold.code, 0, out);
          assertMatch(cold.stdout, /^SELFTEST: statefs cold-boot persist ok$/m);
          return;
        }
        assertEquals(cold.code, 1, out);
        assertMatch(
          cold.stdout,
          new RegExp(`^SELFTEST: statefs cold-boot FAIL \\(${escape(c.why)}\\)$`, "m"),
          out,
        );
      });
    }
  });
});
