/**
 * `nexus torture power|corrupt|frames`: the crash and fuzz campaigns.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { docs, type NexusContext, onByDefault, option } from "./command.ts";
import {
  CAMPAIGN_FLAGS,
  campaignAction,
  type CampaignFlags,
  positiveInt,
  runCampaignCommand,
} from "./report.ts";
import { parseSeeds } from "../campaigns/select.ts";

interface PowerFlags extends CampaignFlags {
  mode?: string;
  cut?: string;
  workload?: string;
  workloads?: string;
  bound?: string;
  case?: string;
  /** False with --no-reboot. */
  reboot: boolean;
}

interface CorruptFlags extends CampaignFlags {
  seeds?: string;
}

interface FramesFlags extends CampaignFlags {
  seeds?: string;
  frames?: string;
}

const POWER_HELP = `
Workloads: boot (the first boot on a fresh image, the default one or --recipe's, seed 1, loses
power after write N, then the disk is checked and rebooted), engine (a seeded random engine
workload; every chosen crash point reopened and checked), repair (fsck --repair of that
workload's repairable crash images, itself crashed at every write). --no-reboot checks each boot
case's disk without the reboot, as explore's flag of the same name does. Compactions (their
superblock flip included) and the zeroing a reopened engine does before its first append are
crash points of the engine workload like any other.

Modes: linear (after write 1, 2, 3 ...), log (1, 2, 4, 8 ...), exhaustive (every write; for the
engine workload every subset of the writes in flight up to --bound, seeded subsets beyond).

Exit codes: 0 every case kept the invariants; 1 some case failed; 2 usage error.`;

const FRAMES_HELP = `
The system boots with a fuzzing client in the selftest-client's place (same slots). For each of
statefsd, keystored, samgrd, policyd, bundlemgrd and updated it sends a normal request, then
random frames and mutations of valid ones (wrong version, truncated, oversized, wrong op, lying
lengths, flipped bits, trailing bytes), then the normal request again. Every delivered frame must
get a well-formed reply, no service may die, and the normal request must get its first status or OK.

Exit codes: 0 every case kept the invariants; 1 some case failed; 2 usage error.`;

const CORRUPT_HELP = `
Each seed damages the image one clean boot left (bootctl, the device key and the selftest's keys
in it): a bit flip, a zeroed, garbage or duplicated sector, or a truncated file, in the StateFS
journal, its superblock, the primary or backup GPT, or anywhere in the StateFS area. Then it runs
what a user runs: inspect, fsck, fsck --repair, put, and a boot. Invariants: no exception escapes
and nothing hangs; fsck never calls the image clean when a byte it covers changed; nothing intact
is destroyed (a key none of whose records was touched still reads back, or its record bytes are
all still on the disk); a boot passes or fails with a failure line.

Exit codes: 0 every case kept the invariants; 1 some case failed; 2 usage error.`;

/** The `nexus torture` commands. */
export const TORTURE_COMMANDS = {
  torture: buildRouteMap({
    routes: {
      power: buildCommand<PowerFlags, [], NexusContext>({
        docs: docs(
          "cut power at every chosen write of the boot and of engine workloads",
          POWER_HELP,
        ),
        parameters: {
          flags: {
            mode: option("linear | log | exhaustive (default linear)", "mode"),
            cut: option("behaviours: atomic,reorder,torn (default all three)", "list"),
            workload: option("boot,engine,repair (default all three)", "list"),
            workloads: option("engine/repair workload seeds 1..N (default 20)", "n"),
            bound: option(
              "exhaustive: every subset up to this many writes in flight (default 8)",
              "n",
            ),
            case: option("run one case (as a replay line names it)", "id"),
            reboot: onByDefault(
              "reboot each boot case's disk (--no-reboot: check the disk only)",
            ),
            ...CAMPAIGN_FLAGS,
          },
        },
        func: campaignAction(async (flags: PowerFlags) => {
          const options: Record<string, string | number | boolean> = {
            mode: flags.mode ?? "linear",
            cut: flags.cut ?? "atomic,reorder,torn",
            workload: flags.workload ?? "boot,engine,repair",
            workloads: flags.workloads !== undefined
              ? positiveInt(flags.workloads, "--workloads")
              : 20,
            bound: flags.bound !== undefined ? positiveInt(flags.bound, "--bound", 16) : 8,
          };
          if (flags.case !== undefined) options.case = flags.case;
          if (!flags.reboot) options.reboot = false;
          return await runCampaignCommand("torture power", options, flags);
        }),
      }),
      corrupt: buildCommand<CorruptFlags, [], NexusContext>({
        docs: docs(
          "damage a populated image and inspect, fsck, repair, put and boot it",
          CORRUPT_HELP,
        ),
        parameters: {
          flags: {
            seeds: option("damage seeds: A..B, N or a comma list (default 1..300)", "list"),
            ...CAMPAIGN_FLAGS,
          },
        },
        func: campaignAction(async (flags: CorruptFlags) => {
          const seeds = flags.seeds ?? "1..300";
          parseSeeds(seeds);
          return await runCampaignCommand("torture corrupt", { seeds }, flags);
        }),
      }),
      frames: buildCommand<FramesFlags, [], NexusContext>({
        docs: docs(
          "send random and mutated-valid frames to every service a client reaches",
          FRAMES_HELP,
        ),
        parameters: {
          flags: {
            seeds: option("seeds: A..B, N or a comma list (default 1..10)", "list"),
            frames: option("hostile frames per service per seed (default 500)", "n"),
            ...CAMPAIGN_FLAGS,
          },
        },
        func: campaignAction(async (flags: FramesFlags) => {
          const seeds = flags.seeds ?? "1..10";
          parseSeeds(seeds);
          const frames = flags.frames !== undefined ? positiveInt(flags.frames, "--frames") : 500;
          return await runCampaignCommand("torture frames", { seeds, frames }, flags);
        }),
      }),
    },
    docs: { brief: "crash and fuzz campaigns" },
  }),
};
