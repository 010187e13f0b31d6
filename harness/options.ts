/**
 * Run options from flags and from the original harness's environment knobs, which work as
 * aliases: `RUN_PHASE`, `RUN_UNTIL_MARKER` (1 = the phase's end, a string = that marker),
 * `RUN_TIMEOUT`, `INIT_LITE_WATCHDOG_TICKS`, `NEXUS_KEEP_BLK`, `REQUIRE_STATEFS_COLD_BOOT`.
 * A flag wins over a conflicting variable, with a one-line notice.
 *
 * @module
 */

import { parseDuration } from "./duration.ts";
import { HarnessError } from "./errors.ts";

/** Default wall-clock limit of a run: 90 s. */
export const DEFAULT_TIMEOUT_MS = 90_000;

/** The longest wall-clock limit a timer can hold (2^31-1 ms, about 596 hours). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Parses a run's time limit; one longer than a timer can hold is refused, never cut to 1 ms. */
function parseTimeout(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms > MAX_TIMEOUT_MS) {
    throw new HarnessError(
      "BAD_DURATION",
      `${what} "${text}" is longer than the longest limit, ${
        Math.floor(MAX_TIMEOUT_MS / 3_600_000)
      }h (24 days)`,
    );
  }
  return ms;
}

/** The environment variables understood, with the flag each one stands for. */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  RUN_PHASE: "--phase",
  RUN_UNTIL_MARKER: "--until-marker",
  RUN_TIMEOUT: "--timeout",
  INIT_LITE_WATCHDOG_TICKS: "--watchdog-ticks",
  NEXUS_KEEP_BLK: "--keep-image",
  REQUIRE_STATEFS_COLD_BOOT: "--require-cold-boot",
};

/** Flags as the command line gave them (undefined when not given). */
export interface RunFlags {
  /** `--phase NAME`. */
  phase?: string;
  /** `--until-marker [MARKER]`: true without a value. */
  untilMarker?: string | true;
  /** `--timeout DUR`. */
  timeout?: string;
  /** `--watchdog-ticks N`. */
  watchdogTicks?: string;
  /** `--keep-image`. */
  keepImage?: boolean;
  /** `--require-cold-boot`. */
  requireColdBoot?: boolean;
}

/** Options after merging flags and environment. */
export interface RunOptions {
  /** Phase cut, or undefined for the whole ladder. */
  phase?: string;
  /** Until-marker mode. */
  untilMarker?: string | true;
  /** Wall-clock limit in milliseconds. */
  timeoutMs: number;
  /** init's watchdog limit, when set. */
  watchdogTicks?: number;
  /** Keep an existing image (cold-boot lane). */
  keepImage: boolean;
  /** Demand the cold-boot marker. */
  requireColdBoot: boolean;
  /** One line per flag that overrode a conflicting variable. */
  notices: string[];
}

/** Reads an environment variable; tests pass a plain object. */
export type EnvReader = (name: string) => string | undefined;

/** Parses a positive integer flag or variable value. */
export function parsePositiveInt(text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw new HarnessError("BAD_OPTION", `${what} "${text}" must be a positive integer`);
  }
  return Number(text);
}

function envBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new HarnessError("BAD_ENV", `${name} "${value}" is not a boolean (use 1 or 0)`);
}

function envUntil(value: string): string | true | undefined {
  if (value === "1") return true;
  if (value === "0" || value === "") return undefined;
  return value;
}

/** Parses a variable's value; its errors are the variable's (BAD_ENV). */
function envParse<T>(value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof HarnessError) {
      throw new HarnessError("BAD_ENV", err.message);
    }
    throw err;
  }
}

/** One knob: its flag value, its variable, how to parse the variable and show the flag. */
interface Knob<T> {
  key: keyof RunFlags;
  name: string;
  flag: T | undefined;
  parse: (raw: string) => T | undefined;
  shown: string;
}

/**
 * Merges `flags` with the environment. `use` names the knobs a command honours (scan has no
 * image or watchdog). Throws {@link HarnessError} for a bad flag (`BAD_OPTION`) or, when no flag
 * overrides it, a bad variable (`BAD_ENV`) value.
 */
export function resolveRunOptions(
  flags: RunFlags,
  env: EnvReader,
  use: readonly (keyof RunFlags)[] = [
    "phase",
    "untilMarker",
    "timeout",
    "watchdogTicks",
    "keepImage",
    "requireColdBoot",
  ],
): RunOptions {
  const notices: string[] = [];
  const resolve = <T>(k: Knob<T>): T | undefined => {
    const raw = use.includes(k.key) ? env(k.name) : undefined;
    if (raw === undefined || raw === "") return k.flag;
    if (k.flag === undefined) return envParse(raw, k.parse);
    let envValue: T | undefined;
    try {
      envValue = k.parse(raw);
    } catch {
      envValue = undefined;
    }
    if (envValue !== k.flag) {
      const flag = ENV_ALIASES[k.name] + (k.shown === "" ? "" : ` ${k.shown}`);
      notices.push(`notice: ${flag} overrides ${k.name}=${raw}`);
    }
    return k.flag;
  };

  const phase = resolve<string>({
    key: "phase",
    name: "RUN_PHASE",
    flag: flags.phase,
    parse: (v) => v.trim() === "" ? undefined : v.trim(),
    shown: flags.phase ?? "",
  });
  const untilMarker = resolve<string | true>({
    key: "untilMarker",
    name: "RUN_UNTIL_MARKER",
    // `--until-marker 1` means what RUN_UNTIL_MARKER=1 means: the phase's end.
    flag: flags.untilMarker === "1" ? true : flags.untilMarker,
    parse: envUntil,
    shown: typeof flags.untilMarker === "string" ? JSON.stringify(flags.untilMarker) : "",
  });
  const timeoutMs = resolve<number>({
    key: "timeout",
    name: "RUN_TIMEOUT",
    flag: flags.timeout === undefined ? undefined : parseTimeout(flags.timeout, "--timeout"),
    parse: (v) => parseTimeout(v, "RUN_TIMEOUT"),
    shown: flags.timeout ?? "",
  }) ?? DEFAULT_TIMEOUT_MS;
  const watchdogTicks = resolve<number>({
    key: "watchdogTicks",
    name: "INIT_LITE_WATCHDOG_TICKS",
    flag: flags.watchdogTicks === undefined
      ? undefined
      : parsePositiveInt(flags.watchdogTicks, "--watchdog-ticks"),
    parse: (v) => parsePositiveInt(v, "INIT_LITE_WATCHDOG_TICKS"),
    shown: flags.watchdogTicks ?? "",
  });
  const keepImage = resolve<boolean>({
    key: "keepImage",
    name: "NEXUS_KEEP_BLK",
    flag: flags.keepImage ? true : undefined,
    parse: (v) => envBool("NEXUS_KEEP_BLK", v),
    shown: "",
  }) ?? false;
  const requireColdBoot = resolve<boolean>({
    key: "requireColdBoot",
    name: "REQUIRE_STATEFS_COLD_BOOT",
    flag: flags.requireColdBoot ? true : undefined,
    parse: (v) => envBool("REQUIRE_STATEFS_COLD_BOOT", v),
    shown: "",
  }) ?? false;
  return {
    ...(phase !== undefined ? { phase } : {}),
    ...(untilMarker !== undefined ? { untilMarker } : {}),
    timeoutMs,
    ...(watchdogTicks !== undefined ? { watchdogTicks } : {}),
    keepImage,
    requireColdBoot,
    notices,
  };
}
