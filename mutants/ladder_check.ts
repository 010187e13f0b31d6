/**
 * The ladder lane's per-mutant command (docs/mutants.md): in a private temporary directory, a
 * fresh `nexus boot --phase mmio`, then the cold boot `nexus boot --phase mmio --keep-image
 * --require-cold-boot` on the image it left. Exit 0 only when both are PASS; otherwise exit 1
 * with one line saying which boot failed and the tail of its console and verdict.
 *
 * Both boots run in this one process through the CLI's own `run` (no module of the boot path
 * keeps state between calls), which saves a Deno start per mutant; the image on disk is the only
 * thing the cold boot shares with the fresh one, as between two real processes. The active
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

import { run } from "../cli/main.ts";

/** The two boots every mutant must survive, as a user types them (the default image). */
export const LADDER_BOOTS: readonly { name: string; args: string[] }[] = [
  { name: "fresh boot", args: ["boot", "--phase", "mmio", "--timeout", "60s"] },
  {
    name: "cold boot",
    args: ["boot", "--phase", "mmio", "--keep-image", "--require-cold-boot", "--timeout", "60s"],
  },
];

/** Lines of a failing boot's output kept in the mutant's status reason. */
const TAIL_LINES = 12;

/** Runs `fn` with everything written to stdout and stderr collected instead of printed. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; text: string }> {
  const chunks: Uint8Array[] = [];
  const out = Deno.stdout.writeSync;
  const err = Deno.stderr.writeSync;
  const keep = (p: Uint8Array): number => {
    chunks.push(p.slice());
    return p.length;
  };
  Deno.stdout.writeSync = keep;
  Deno.stderr.writeSync = keep;
  let code: number;
  try {
    code = await fn();
  } catch (e) {
    chunks.push(new TextEncoder().encode(`uncaught: ${e instanceof Error ? e.message : e}\n`));
    code = 70;
  } finally {
    Deno.stdout.writeSync = out;
    Deno.stderr.writeSync = err;
  }
  const text = new TextDecoder().decode(
    chunks.reduce((a, b) => {
      const c = new Uint8Array(a.length + b.length);
      c.set(a);
      c.set(b, a.length);
      return c;
    }, new Uint8Array()),
  );
  return { code, text };
}

/** Boots fresh, then cold, in a new temporary directory; returns the exit code for the mutant. */
export async function ladderCheck(): Promise<number> {
  const home = Deno.cwd();
  const dir = await Deno.makeTempDir({ prefix: "nexus-mutant-" });
  try {
    Deno.chdir(dir);
    for (const boot of LADDER_BOOTS) {
      const { code, text } = await captured(() => run(boot.args));
      if (code !== 0) {
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
