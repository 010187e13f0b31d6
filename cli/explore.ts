/**
 * `nexus explore`: many boots, one per seed, with seeded fault plans, checked against the ladder
 * and the durability invariants.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { docs, type NexusContext, onByDefault, option } from "./command.ts";
import { CliError } from "./errors.ts";
import {
  CAMPAIGN_FLAGS,
  campaignAction,
  type CampaignFlags,
  positiveInt,
  runCampaignCommand,
} from "./report.ts";
import { FAULT_CLASSES, formatPlan, parsePlan } from "../campaigns/plan.ts";
import { countSeeds, parseSeeds } from "../campaigns/select.ts";

interface ExploreFlags extends CampaignFlags {
  seeds?: string;
  count?: string;
  base?: string;
  faults?: string;
  plan?: string;
  /** False with --no-shrink. */
  shrink: boolean;
  /** False with --no-reboot. */
  reboot: boolean;
}

const HELP_AFTER = `
Every run boots a fresh in-memory copy of the default image (or --recipe's, which the replay
lines name) with the fault plan its seed draws for --faults (or the --plan given), then checks:
the ladder (a run without faults must pass, a faulted one must fail with a failure line, never
stall); the StateFS opens; fsck is clean or
repairable; every operation statefsd acknowledged before its last acknowledged sync is present
with its value, no batch is half visible, no value appears that was never written (bootctl and
the device key included); and a fault-free reboot of the same disk reaches the ladder.
--no-reboot skips that reboot (about twice the runs per second): a wide first pass, whose
replay lines rerun a case the same way; drop the flag to rerun it with the reboot.

After a planned service crash the run goes on until the system comes to rest: no task may be
left waiting on the dead service.

Fault plans: ioerr@wN / ioerr@rN (the N-th write / read request fails), power@wN:MODE (power
lost after the N-th write; MODE atomic, reorder or torn), crash@SERVICE:N (the service is killed
entering its N-th blocking syscall), comma-separated; none for no faults.
A failing plan is shrunk to a smallest plan that still fails; the replay line reruns it.

Exit codes: 0 every run passed; 1 some run failed; 2 usage error.`;

async function exploreAction(flags: ExploreFlags): Promise<number> {
  if (flags.seeds !== undefined && flags.count !== undefined) {
    throw new CliError("give --seeds or --count, not both");
  }
  const faults = flags.faults ?? "none";
  if (!(FAULT_CLASSES as readonly string[]).includes(faults)) {
    throw new CliError(`--faults "${faults}": expected one of ${FAULT_CLASSES.join(", ")}`);
  }
  let seeds: string;
  if (flags.count !== undefined) {
    const base = flags.base !== undefined
      ? Number(positiveInt(flags.base, "--base", 0xffffffff))
      : 1;
    const count = positiveInt(flags.count, "--count", 10_000_000);
    countSeeds(base, count);
    seeds = `${base}..${base + count - 1}`;
  } else {
    seeds = flags.seeds ?? "1..100";
    parseSeeds(seeds);
  }
  const options: Record<string, string | boolean> = { seeds, faults };
  if (flags.plan !== undefined) {
    options.plan = formatPlan(parsePlan(flags.plan));
  }
  if (!flags.shrink) options.shrink = false;
  if (!flags.reboot) options.reboot = false;
  return await runCampaignCommand("explore", options, flags);
}

/** The `nexus explore` command. */
export const EXPLORE_COMMANDS = {
  explore: buildCommand<ExploreFlags, [], NexusContext>({
    docs: docs("boot many seeds with seeded faults and check every run's invariants", HELP_AFTER),
    parameters: {
      flags: {
        seeds: option("seeds: A..B, N or a comma list (default 1..100)", "list"),
        count: option("run N seeds from --base", "n"),
        base: option("first seed for --count (default 1)", "seed"),
        faults: option(`fault class: ${FAULT_CLASSES.join("|")} (default none)`, "class"),
        plan: option("run this fault plan for every seed instead of drawing one", "plan"),
        shrink: onByDefault("shrink failing plans (--no-shrink: report them as drawn)"),
        reboot: onByDefault(
          "reboot each disk after its run (--no-reboot: check the run and its disk only)",
        ),
        ...CAMPAIGN_FLAGS,
      },
    },
    func: campaignAction(exploreAction),
  }),
};
