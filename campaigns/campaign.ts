/**
 * What a campaign is to the runner: a per-process setup (a fresh image, the ladder, a measured
 * workload), the list of its case ids for some options, and how to run one case. Options are
 * plain JSON so a worker process receives exactly what the driver parsed.
 *
 * @module
 */

import type { CaseResult } from "./boot_case.ts";

/** Campaign options: flat JSON values. */
export type CampaignOptions = Record<string, string | number | boolean>;

/** One kind of campaign. */
export interface Campaign<Ctx = unknown> {
  /** Name as reports and the CLI spell it (`explore`, `torture power`, ...). */
  readonly name: string;
  /** Prepares what every case of this process shares; `dir` is the process's own scratch dir. */
  setup(options: CampaignOptions, dir: string): Promise<Ctx>;
  /** Every case id, in a fixed order (before sharding); `dir` is scratch space. */
  cases(options: CampaignOptions, dir: string): Promise<string[]>;
  /** Runs one case; never throws for what the system under test does. */
  run(ctx: Ctx, id: string, options: CampaignOptions): Promise<CaseResult>;
}

/** The `recipe` option (an image recipe file for every boot), when one is given. */
export function recipeOption(o: CampaignOptions): string | undefined {
  return typeof o.recipe === "string" && o.recipe !== "" ? o.recipe : undefined;
}

/**
 * ` --recipe PATH` for a replay line when a recipe was given (else ""), the path quoted for a POSIX
 * shell when it holds anything but plain path characters, so the line runs as printed.
 */
export function recipeFlag(recipe: string | undefined): string {
  if (!recipe) return "";
  const word = /^[\w@%+=:,./-]+$/.test(recipe) ? recipe : `'${recipe.replaceAll("'", `'\\''`)}'`;
  return ` --recipe ${word}`;
}

/** A case whose runner threw: reported as a failure, never lost. */
export function crashedCase(id: string, err: unknown, replay: string): CaseResult {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { id, ok: false, problems: [`campaign case threw: ${msg}`], plan: "-", replay };
}
