// @ts-check
/**
 * StrykerJS configuration for `deno task mutants` (docs/mutants.md). Stryker runs under Node
 * (fetched by npx), mutates the persistence-critical sources listed in groups.json and runs one
 * shell command per mutant through its command runner; a non-zero exit kills the mutant.
 *
 * mutants/run.ts sets the lane and scope through the environment:
 *   NEXUS_MUTANTS_LANE         "ladder" (fresh boot + cold boot) or "suite" (the group's tests)
 *   NEXUS_MUTANTS_GROUPS       comma-separated keys of groups.json (default: all of them);
 *                              the suite lane takes exactly one group per run
 *   NEXUS_MUTANTS_SAMPLE       keep 1 in N functions (sample_plugin.mjs; default 1 = all)
 *   NEXUS_MUTANTS_DENO         the deno binary each mutant runs (default: deno on the PATH)
 *   NEXUS_MUTANTS_OUT          where report.json and report.html go
 *   NEXUS_MUTANTS_CONCURRENCY  mutants run at once (default 1)
 */
import { readFileSync } from "node:fs";

/** @type {Record<string, {mutate: string[], tests: string[]}>} */
const groups = JSON.parse(readFileSync(new URL("./groups.json", import.meta.url), "utf8"));
const lane = process.env.NEXUS_MUTANTS_LANE ?? "ladder";
const names = (process.env.NEXUS_MUTANTS_GROUPS ?? Object.keys(groups).join(",")).split(",");
for (const n of names) if (!(n in groups)) throw new Error(`unknown mutant group "${n}"`);
if (lane !== "ladder" && lane !== "suite") throw new Error(`unknown lane "${lane}"`);
if (lane === "suite" && names.length !== 1) throw new Error("the suite lane runs one group");
const deno = JSON.stringify(process.env.NEXUS_MUTANTS_DENO ?? "deno");
const out = process.env.NEXUS_MUTANTS_OUT ?? `build/mutants/${lane}/${names.join("+")}`;

/** Sources only: tests, test rigs, benches and re-export barrels are never mutated. */
const mutate = names.flatMap((n) => groups[n].mutate).concat(
  ["!**/*_test.ts", "!**/*_bench.ts", "!**/test_rig.ts", "!**/mod.ts"],
);

const command = lane === "suite"
  ? `${deno} test --allow-all --no-check --fail-fast --reporter=dot ${
    groups[names[0]].tests.join(" ")
  }`
  : `${deno} run --allow-all mutants/ladder_check.ts`;

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "command",
  commandRunner: { command },
  mutate,
  // Only mutations of logic run: string, regex, object and array literal mutants mostly rewrite
  // messages and constants, and would double the run's length (docs/mutants.md).
  mutator: {
    excludedMutations: [
      "StringLiteral",
      "Regex",
      "ObjectLiteral",
      "ArrayDeclaration",
      "ArrowFunction",
    ],
  },
  appendPlugins: ["./mutants/sample_plugin.mjs"],
  ignorers: ["nexus-sample"],
  // The command runner cannot tell which test covers which mutant: every mutant runs the command.
  coverageAnalysis: "off",
  concurrency: Number(process.env.NEXUS_MUTANTS_CONCURRENCY ?? 1),
  // A boot is a few seconds on a busy machine; a mutant that loops is cut off well after that.
  timeoutMS: 15_000,
  timeoutFactor: 2,
  tempDirName: "build/stryker-tmp",
  ignorePatterns: ["build", "node_modules"],
  cleanTempDir: true,
  disableTypeChecks: "{core,services}/**/*.ts",
  reporters: ["clear-text", "progress-append-only", "json", "html"],
  jsonReporter: { fileName: `${out}/report.json` },
  htmlReporter: { fileName: `${out}/report.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false },
  thresholds: { high: 80, low: 60, break: null },
};
