/**
 * The ladder lane's per-mutant command (docs/mutants.md): in a private temporary directory, a
 * fresh `nexus boot --phase mmio --until-marker`, then the cold boot `nexus boot --phase mmio
 * --until-marker --keep-image --require-cold-boot` on the image it left. Exit 0 only when both are
 * PASS; otherwise exit 1 with one line saying which boot failed and the tail of its console and
 * verdict.
 *
 * Both boots run in this one process through the CLI's own `run` with an io of their own (no
 * module of the boot path keeps state between runs), which saves a Deno start per mutant; the
 * image on disk is the only thing the cold boot shares with the fresh one, as between two real
 * processes. The runs see none of this process's environment (no RUN_* knob leaks in). The active
 * mutant reaches the instrumented code through `process.env.__STRYKER_ACTIVE_MUTANT__`, which
 * Deno's `process` global reads from this process's environment.
 *
 * @example
 * ```sh
 * deno run --allow-all mutants/ladder_check.ts   # exit 0: both boots PASS
 * ```
 *
 * @module
 */

import { captureIo, run } from "../cli/main.ts";

/** The two boots every mutant must survive, as a user types them (the default image). */
export const LADDER_BOOTS: readonly { name: string; args: string[] }[] = [
  { name: "fresh boot", args: ["boot", "--phase", "mmio", "--until-marker", "--timeout", "60s"] },
  {
    name: "cold boot",
    args: [
      "boot",
      "--phase",
      "mmio",
      "--until-marker",
      "--keep-image",
      "--require-cold-boot",
      "--timeout",
      "60s",
    ],
  },
];

/** Lines of a failing boot's output kept in the mutant's status reason. */
const TAIL_LINES = 12;

/** Boots fresh, then cold, in a new temporary directory; returns the exit code for the mutant. */
export async function ladderCheck(): Promise<number> {
  const home = Deno.cwd();
  const dir = await Deno.makeTempDir({ prefix: "nexus-mutant-" });
  try {
    Deno.chdir(dir);
    for (const boot of LADDER_BOOTS) {
      // Output is captured: a killed mutant's reason is the tail, not thousands of lines.
      const io = captureIo({ cwd: dir, env: { NO_COLOR: "1" } });
      let code: number;
      try {
        code = await run(boot.args, io);
      } catch (err) {
        io.stderr.writeSync(new TextEncoder().encode(`uncaught: ${err}\n`));
        code = 70;
      }
      if (code !== 0) {
        const text = io.stdout.text() + io.stderr.text();
        const tail = text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
        console.log(`${boot.name} exit ${code}\n${tail}`);
        return 1;
      }
    }
    return 0;
  } finally {
    Deno.chdir(home);
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  Deno.exit(await ladderCheck());
}
