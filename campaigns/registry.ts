/**
 * Every campaign by the name the runner and its workers use.
 *
 * @module
 */

import type { Campaign } from "./campaign.ts";
import { explore } from "./explore.ts";
import { torturePower } from "./torture_power.ts";
import { tortureCorrupt } from "./torture_corrupt.ts";
import { tortureFrames } from "./torture_frames.ts";

/** Campaigns by registry name. */
export const CAMPAIGNS: Record<string, Campaign<unknown>> = {
  explore: explore as Campaign<unknown>,
  "torture power": torturePower as Campaign<unknown>,
  "torture corrupt": tortureCorrupt as Campaign<unknown>,
  "torture frames": tortureFrames as Campaign<unknown>,
};
