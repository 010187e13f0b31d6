/**
 * The marker ladder: loading it from TOML data, expanding per-service entries, and cutting it to
 * what one run requires (`--phase`, `--until-marker`, `--require-cold-boot`).
 *
 * File shape (see `images/ladder.toml`):
 *
 * ```toml
 * phases = ["bring-up", "routing", "ota", "policy", "mmio", "end"]   # optional, this default
 * services = ["logd", "policyd"]                                     # for each_service entries
 * failure_signatures = ["FAIL", "SLOT MISSING"]                      # optional, DESIGN.md default
 * ladder = [
 *   { phase = "bring-up", marker = "init: start", ordered = true },
 *   { phase = "bring-up", each_service = ["init: start {svc}", "init: up {svc}"], ordered = true },
 *   { phase = "mmio", any = ["cold-boot seeded", "cold-boot persist ok"], cold_boot = "cold-boot persist ok" },
 * ]
 * ```
 *
 * Entries must appear in phase order: phases are cut points, so `--phase X` keeps the ladder from
 * the start through X's last entry.
 *
 * @module
 */

import { parse as parseToml, TomlError } from "smol-toml";
import { HarnessError } from "./errors.ts";
import { closest } from "../init/suggest.ts";
import { readTextFileOr } from "../init/text_file.ts";

/** Phases in order, as DESIGN.md names them; a ladder file may declare its own list. */
export const DEFAULT_PHASES: readonly string[] = [
  "bring-up",
  "routing",
  "ota",
  "policy",
  "mmio",
  "end",
];

/** Lines containing any of these end a run at once (DESIGN.md "The harness"). */
export const DEFAULT_FAILURE_SIGNATURES: readonly string[] = [
  "FAIL",
  "SLOT MISSING",
  "!fatal",
  "panic",
  "watchdog fired",
];

/** The placeholder an `each_service` template replaces with each service name. */
export const SERVICE_PLACEHOLDER = "{svc}";

/** One expanded ladder entry: a console line containing any of `markers` satisfies it. */
export interface LadderEntry {
  /** Position in the expanded ladder (0-based). */
  readonly index: number;
  /** Phase the entry belongs to. */
  readonly phase: string;
  /** Accepted markers (fixed strings, case-sensitive); one for a plain entry. */
  readonly markers: readonly string[];
  /** The one alternative `--require-cold-boot` demands, when the entry has one. */
  readonly coldBoot?: string;
  /** When true, the entry's first occurrence must follow every earlier ordered entry's. */
  readonly ordered: boolean;
}

/** A loaded ladder. */
export interface Ladder {
  /** Where the ladder came from (a path, or a label for in-memory text). */
  readonly source: string;
  /** Phase names in cut order. */
  readonly phases: readonly string[];
  /** Services the `each_service` entries expanded over, in order. */
  readonly services: readonly string[];
  /** Substrings that make a line a failure. */
  readonly failureSignatures: readonly string[];
  /** Entries in ladder order. */
  readonly entries: readonly LadderEntry[];
}

/** A ladder entry as one run requires it. */
export interface RequiredEntry extends LadderEntry {
  /** Alternatives the entry has in the ladder that do not count for this run (cold boot). */
  readonly rejected: readonly string[];
}

/** What one run requires of the console. */
export interface Requirement {
  /** The whole ladder the requirement was cut from. */
  readonly ladder: Ladder;
  /** The phase cut (`--phase`, default the last phase). */
  readonly phase: string;
  /** Entries the run must see, in ladder order; each entry's markers already narrowed for cold boot. */
  readonly entries: readonly RequiredEntry[];
  /** Stop as soon as every required entry was seen (`--until-marker` without a value). */
  readonly untilAll: boolean;
  /** Stop at the first line containing this marker (`--until-marker MARKER`). */
  readonly untilString?: string;
  /** `--require-cold-boot` was given. */
  readonly requireColdBoot: boolean;
}

/** How to cut a ladder for one run. */
export interface SelectOptions {
  /** Phase to cut at; default the ladder's last phase. */
  phase?: string;
  /** `true`: stop when every required marker was seen; a string: stop at that marker. */
  untilMarker?: string | true;
  /** Demand the cold-boot alternative of entries that have one. */
  requireColdBoot?: boolean;
}

const TOP_KEYS = ["phases", "services", "failure_signatures", "ladder"];
const ENTRY_KEYS = ["phase", "marker", "any", "each_service", "ordered", "cold_boot"];

function invalid(source: string, msg: string): HarnessError {
  return new HarnessError("LADDER_INVALID", `ladder ${source}: ${msg}`);
}

function unknownKey(source: string, where: string, key: string, known: string[]): HarnessError {
  const hint = closest(key, known);
  return invalid(
    source,
    `unknown key "${key}" in ${where}${hint ? ` (did you mean "${hint}"?)` : ""}`,
  );
}

function stringList(source: string, where: string, value: unknown, allowEmpty = false): string[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    throw invalid(source, `${where} must be a ${allowEmpty ? "" : "non-empty "}list of strings`);
  }
  for (const v of value) {
    if (typeof v !== "string" || v.length === 0) {
      throw invalid(source, `${where} must hold non-empty strings`);
    }
  }
  return value as string[];
}

/** Parses ladder TOML `text`; `source` names it in error messages. Throws {@link HarnessError}. */
export function parseLadder(text: string, source: string): Ladder {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0];
      throw invalid(source, `line ${err.line}: ${first}`);
    }
    throw err;
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_KEYS.includes(key)) throw unknownKey(source, "the top level", key, TOP_KEYS);
  }
  const phases = doc.phases === undefined
    ? [...DEFAULT_PHASES]
    : stringList(source, "phases", doc.phases);
  if (new Set(phases).size !== phases.length) throw invalid(source, "phases repeat a name");
  const services = doc.services === undefined
    ? []
    : stringList(source, "services", doc.services, true);
  if (new Set(services).size !== services.length) throw invalid(source, "services repeat a name");
  const failureSignatures = doc.failure_signatures === undefined
    ? [...DEFAULT_FAILURE_SIGNATURES]
    : stringList(source, "failure_signatures", doc.failure_signatures, true);
  if (!Array.isArray(doc.ladder) || doc.ladder.length === 0) {
    throw invalid(source, "`ladder` must be a non-empty list of entries");
  }

  const entries: LadderEntry[] = [];
  const markerOwner = new Map<string, number>();
  let lastPhase = 0;
  doc.ladder.forEach((raw: unknown, i: number) => {
    const where = `ladder entry ${i + 1}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw invalid(source, `${where} must be a table`);
    }
    const e = raw as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!ENTRY_KEYS.includes(key)) throw unknownKey(source, where, key, ENTRY_KEYS);
    }
    if (typeof e.phase !== "string") throw invalid(source, `${where} needs a phase`);
    const phaseIdx = phases.indexOf(e.phase);
    if (phaseIdx < 0) {
      throw invalid(
        source,
        `${where}: unknown phase "${e.phase}" (phases: ${phases.join(", ")})`,
      );
    }
    if (phaseIdx < lastPhase) {
      throw invalid(
        source,
        `${where}: phase "${e.phase}" comes after phase "${
          phases[lastPhase]
        }" (entries must follow phase order)`,
      );
    }
    lastPhase = phaseIdx;
    if (e.ordered !== undefined && typeof e.ordered !== "boolean") {
      throw invalid(source, `${where}: ordered must be true or false`);
    }
    const ordered = e.ordered === true;
    const kinds = ["marker", "any", "each_service"].filter((k) => e[k] !== undefined);
    if (kinds.length !== 1) {
      throw invalid(source, `${where} needs exactly one of marker, any, each_service`);
    }
    if (e.cold_boot !== undefined && e.any === undefined) {
      throw invalid(source, `${where}: cold_boot only goes with any`);
    }

    const groups: { markers: string[]; coldBoot?: string }[] = [];
    if (e.marker !== undefined) {
      if (typeof e.marker !== "string" || e.marker.length === 0) {
        throw invalid(source, `${where}: marker must be a non-empty string`);
      }
      groups.push({ markers: [e.marker] });
    } else if (e.any !== undefined) {
      const alts = stringList(source, `${where}: any`, e.any);
      if (new Set(alts).size !== alts.length) throw invalid(source, `${where}: any repeats`);
      let coldBoot: string | undefined;
      if (e.cold_boot !== undefined) {
        if (typeof e.cold_boot !== "string" || !alts.includes(e.cold_boot)) {
          throw invalid(source, `${where}: cold_boot must be one of the any markers`);
        }
        coldBoot = e.cold_boot;
      }
      groups.push({ markers: alts, coldBoot });
    } else {
      const templates = stringList(source, `${where}: each_service`, e.each_service);
      for (const t of templates) {
        if (!t.includes(SERVICE_PLACEHOLDER)) {
          throw invalid(source, `${where}: template "${t}" lacks ${SERVICE_PLACEHOLDER}`);
        }
      }
      if (services.length === 0) {
        throw invalid(source, `${where}: each_service needs a non-empty services list`);
      }
      // Interleaved per service (start A, up A, start B, ...), the order init prints them in.
      for (const svc of services) {
        for (const t of templates) {
          groups.push({ markers: [t.replaceAll(SERVICE_PLACEHOLDER, svc)] });
        }
      }
    }
    for (const g of groups) {
      for (const m of g.markers) {
        const prev = markerOwner.get(m);
        if (prev !== undefined) {
          throw invalid(source, `${where}: marker "${m}" is already entry ${prev + 1}'s`);
        }
        markerOwner.set(m, i);
      }
      entries.push({
        index: entries.length,
        phase: e.phase,
        markers: g.markers,
        ...(g.coldBoot !== undefined ? { coldBoot: g.coldBoot } : {}),
        ordered,
      });
    }
  });
  return { source, phases, services, failureSignatures, entries };
}

/** The default ladder shipped with nexus, as a path (`images/ladder.toml`). */
export function defaultLadderPath(): string {
  return decodeURIComponent(new URL("../images/ladder.toml", import.meta.url).pathname);
}

/**
 * Reads and parses the ladder at `path`; `label` names it in messages and verdicts (default the
 * path). Throws {@link HarnessError} (unreadable or invalid).
 */
export async function loadLadder(path: string, label: string = path): Promise<Ladder> {
  const text = await readTextFileOr(
    path,
    (why) => new HarnessError("LADDER_UNREADABLE", `cannot read ladder ${label}: ${why}`),
  );
  return parseLadder(text, label);
}

/** The label an entry is listed under: its marker, or its alternatives joined with " | ". */
export function entryLabel(entry: LadderEntry): string {
  return entry.markers.join(" | ");
}

/**
 * Cuts `ladder` to what one run requires. Throws {@link HarnessError} `UNKNOWN_PHASE` (listing
 * the valid phases) or `UNKNOWN_MARKER` (an until-marker that is not a marker of the cut ladder).
 */
export function selectRequirement(ladder: Ladder, opts: SelectOptions = {}): Requirement {
  const phase = opts.phase ?? ladder.phases[ladder.phases.length - 1];
  const cut = ladder.phases.indexOf(phase);
  if (cut < 0) {
    const hint = closest(phase, ladder.phases);
    throw new HarnessError(
      "UNKNOWN_PHASE",
      `unknown phase "${phase}"${hint ? ` (did you mean "${hint}"?)` : ""}; valid phases: ${
        ladder.phases.join(", ")
      }`,
    );
  }
  const requireColdBoot = opts.requireColdBoot === true;
  let entries: RequiredEntry[] = ladder.entries
    .filter((e) => ladder.phases.indexOf(e.phase) <= cut)
    .map((e) =>
      requireColdBoot && e.coldBoot !== undefined
        ? { ...e, markers: [e.coldBoot], rejected: e.markers.filter((m) => m !== e.coldBoot) }
        : { ...e, rejected: [] }
    );
  let untilString: string | undefined;
  if (typeof opts.untilMarker === "string") {
    untilString = opts.untilMarker;
    const at = entries.findIndex((e) => e.markers.includes(untilString!));
    if (at < 0) {
      const beyond = ladder.entries.find((e) => e.markers.includes(untilString!));
      const all = ladder.entries.flatMap((e) => e.markers);
      const hint = beyond ? undefined : closest(untilString, all);
      throw new HarnessError(
        "UNKNOWN_MARKER",
        beyond
          ? `until-marker "${untilString}" belongs to phase ${beyond.phase}, beyond phase ${phase}`
          : `until-marker "${untilString}" is not a marker of ladder ${ladder.source}${
            hint ? ` (did you mean "${hint}"?)` : ""
          }`,
      );
    }
    // Stopping at a marker requires the ladder up to it, the way the phase cut does.
    entries = entries.slice(0, at + 1);
  }
  return {
    ladder,
    phase,
    entries,
    untilAll: opts.untilMarker === true,
    ...(untilString !== undefined ? { untilString } : {}),
    requireColdBoot,
  };
}
