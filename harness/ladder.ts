/**
 * The marker ladder: loading it from TOML data, expanding per-service entries, and cutting it to
 * what one run requires (`--phase`, `--until-marker`, `--require-cold-boot`).
 *
 * File shape (see `images/ladder.toml`):
 *
 * ```toml
 * phases = ["bring-up", "routing", "ota", "policy", "mmio", "end"]   # optional, this default
 * services = ["logd", "policyd"]                                     # for each_service entries
 * failure_signatures = ["FAIL", "SLOT MISSING"]                      # optional, docs/ladders.md default
 * ladder = [
 *   { phase = "bring-up", marker = "init: start", ordered = true },
 *   { phase = "bring-up", each_service = ["init: start {svc}", "init: up {svc}"], ordered = true },
 *   { phase = "mmio", any = ["cold-boot seeded", "cold-boot persist ok"], cold_boot = "cold-boot persist ok" },
 * ]
 * ```
 *
 * Entries must appear in phase order: phases are cut points, so `--phase X` keeps the ladder from
 * the start through X's last entry. `console_order` lists the phases in the order a healthy console
 * proves them when that differs from the cut order (`--until-marker MARKER` requires what the
 * console prints before MARKER).
 *
 * A ladder written as one console-ordered sequence (the original OS's harness style, see
 * `images/ladders/`) gives `phase_end` instead of per-entry phases: `--phase X` keeps the sequence
 * through X's end marker, and a missing marker is attributed to the first phase in `phases` order
 * whose end marker comes at or after it ("unknown" when none does). `order_rule` names the markers
 * whose first occurrences must follow sequence order; `start` is the line that shows the run began.
 * Entries may be plain strings there; `regex = true` makes an entry's markers regular expressions,
 * and `record = "name"` keeps the named groups of the first match in the verdict. The language is
 * described in docs/ladders.md.
 *
 * @module
 */

import { parse as parseToml, TomlError } from "smol-toml";
import { HarnessError } from "./errors.ts";
import { closest } from "../init/suggest.ts";
import { readTextFileOr } from "../init/text_file.ts";

/** Phases in order, as docs/ladders.md names them; a ladder file may declare its own list. */
export const DEFAULT_PHASES: readonly string[] = [
  "bring-up",
  "routing",
  "ota",
  "policy",
  "mmio",
  "end",
];

/** Lines containing any of these end a run at once (docs/ladders.md "Matching"). */
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
  /** Phase the entry belongs to (its attribution phase in a sequence ladder). */
  readonly phase: string;
  /** Accepted markers (fixed strings, case-sensitive, or patterns when `regex`); one for a plain entry. */
  readonly markers: readonly string[];
  /** The markers are regular expressions (JavaScript syntax) rather than fixed strings. */
  readonly regex: boolean;
  /** Name under which the named groups of the first matching line are kept in the verdict. */
  readonly record?: string;
  /** The phase a healthy console proves the entry in, when not its own (`console_phase`). */
  readonly consolePhase?: string;
  /** The one alternative `--require-cold-boot` demands, when the entry has one. */
  readonly coldBoot?: string;
  /** When true, the entry's first occurrence must follow every earlier ordered entry's. */
  readonly ordered: boolean;
}

/** A loaded ladder. */
export interface Ladder {
  /** Where the ladder came from (a path, or a label for in-memory text). */
  readonly source: string;
  /** Phase names in cut order (attribution order for a sequence ladder). */
  readonly phases: readonly string[];
  /**
   * Phases in the order a healthy console proves them (default: `phases`, one per step); phases
   * sharing a step interleave on the console.
   */
  readonly consoleOrder: readonly (readonly string[])[];
  /**
   * For a sequence ladder (`phase_end`): each phase's end marker and the index of the entry it is
   * (undefined when the marker is not in the sequence, which makes `--phase` refuse that phase).
   */
  readonly phaseEnds?: Readonly<Record<string, { marker: string; index?: number }>>;
  /** A marker whose absence means the run never started (optional). */
  readonly start?: string;
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

const TOP_KEYS = [
  "phases",
  "console_order",
  "phase_end",
  "order_rule",
  "start",
  "services",
  "failure_signatures",
  "ladder",
];
const ENTRY_KEYS = [
  "phase",
  "marker",
  "any",
  "each_service",
  "ordered",
  "cold_boot",
  "regex",
  "record",
  "console_phase",
];

/** The phase a sequence ladder's marker is attributed to when no phase's end marker follows it. */
export const UNKNOWN_PHASE = "unknown";

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

function optionalString(source: string, where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) {
    throw invalid(source, `${where} must be a non-empty string`);
  }
  return value;
}

function compileRegex(source: string, where: string, pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw invalid(source, `${where}: bad regular expression: ${why}`);
  }
}

/** The `order_rule` table: markers equal to one of `equals` or starting with one of `prefixes`. */
interface OrderRule {
  equals: string[];
  prefixes: string[];
}

function parseOrderRule(source: string, value: unknown): OrderRule | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(source, "order_rule must be a table with equals and/or prefixes");
  }
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (key !== "equals" && key !== "prefixes") {
      throw unknownKey(source, "order_rule", key, ["equals", "prefixes"]);
    }
  }
  return {
    equals: t.equals === undefined ? [] : stringList(source, "order_rule.equals", t.equals, true),
    prefixes: t.prefixes === undefined
      ? []
      : stringList(source, "order_rule.prefixes", t.prefixes, true),
  };
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
  // Each step of console_order is a phase, or a list of phases the console interleaves.
  const consoleOrder: string[][] = [];
  if (doc.console_order === undefined) {
    for (const p of phases) consoleOrder.push([p]);
  } else {
    if (!Array.isArray(doc.console_order)) {
      throw invalid(source, "console_order must be a list of phases (or lists of phases)");
    }
    for (const step of doc.console_order as unknown[]) {
      consoleOrder.push(
        typeof step === "string" ? [step] : stringList(source, "console_order", step),
      );
    }
  }
  const ordered = consoleOrder.flat();
  if (
    ordered.length !== phases.length || new Set(ordered).size !== phases.length ||
    !ordered.every((p) => phases.includes(p))
  ) {
    throw invalid(source, "console_order must list every phase exactly once");
  }
  // A sequence ladder: phases are cut by end markers instead of per-entry phase keys.
  let phaseEndMarkers: Record<string, string> | undefined;
  if (doc.phase_end !== undefined) {
    if (
      typeof doc.phase_end !== "object" || doc.phase_end === null || Array.isArray(doc.phase_end)
    ) {
      throw invalid(source, "phase_end must be a table of phase = end marker");
    }
    phaseEndMarkers = {};
    for (const [phase, marker] of Object.entries(doc.phase_end as Record<string, unknown>)) {
      if (!phases.includes(phase)) {
        throw invalid(source, `phase_end: unknown phase "${phase}" (phases: ${phases.join(", ")})`);
      }
      phaseEndMarkers[phase] = optionalString(source, `phase_end.${phase}`, marker)!;
    }
    if (doc.console_order !== undefined) {
      throw invalid(source, "console_order does not go with phase_end (the sequence is the order)");
    }
  }
  if (phases.includes(UNKNOWN_PHASE)) {
    throw invalid(source, `"${UNKNOWN_PHASE}" is reserved and cannot be a phase name`);
  }
  const orderRule = parseOrderRule(source, doc.order_rule);
  const start = optionalString(source, "start", doc.start);
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
  const records = new Set<string>();
  let lastPhase = 0;
  doc.ladder.forEach((raw: unknown, i: number) => {
    const where = `ladder entry ${i + 1}`;
    if (typeof raw === "string" && phaseEndMarkers !== undefined) raw = { marker: raw };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw invalid(
        source,
        `${where} must be a table${phaseEndMarkers !== undefined ? " or a string" : ""}`,
      );
    }
    const e = raw as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!ENTRY_KEYS.includes(key)) throw unknownKey(source, where, key, ENTRY_KEYS);
    }
    let phase: string;
    if (phaseEndMarkers !== undefined) {
      if (e.phase !== undefined) {
        throw invalid(source, `${where}: no phase keys in a ladder with phase_end`);
      }
      phase = UNKNOWN_PHASE; // attributed below, once the end markers' positions are known
    } else {
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
      phase = e.phase;
    }
    if (e.ordered !== undefined && typeof e.ordered !== "boolean") {
      throw invalid(source, `${where}: ordered must be true or false`);
    }
    if (e.regex !== undefined && typeof e.regex !== "boolean") {
      throw invalid(source, `${where}: regex must be true or false`);
    }
    const regex = e.regex === true;
    const record = optionalString(source, `${where}: record`, e.record);
    const consolePhase = optionalString(source, `${where}: console_phase`, e.console_phase);
    if (consolePhase !== undefined && !phases.includes(consolePhase)) {
      throw invalid(source, `${where}: unknown console_phase "${consolePhase}"`);
    }
    if (consolePhase !== undefined && phaseEndMarkers !== undefined) {
      throw invalid(source, `${where}: console_phase does not go with phase_end`);
    }
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
    if (record !== undefined) {
      if (!regex) throw invalid(source, `${where}: record needs regex = true (named groups)`);
      if (groups.length !== 1) throw invalid(source, `${where}: record goes with one entry`);
      if (records.has(record)) throw invalid(source, `${where}: record "${record}" repeats`);
      records.add(record);
    }
    for (const g of groups) {
      for (const m of g.markers) {
        if (regex) {
          const re = compileRegex(source, where, m);
          if (record !== undefined && !/\(\?<[A-Za-z_$][\w$]*>/.test(re.source)) {
            throw invalid(source, `${where}: record needs a named group, (?<name>...)`);
          }
        }
        const prev = markerOwner.get(m);
        if (prev !== undefined) {
          throw invalid(source, `${where}: marker "${m}" is already entry ${prev + 1}'s`);
        }
        markerOwner.set(m, i);
      }
      const byRule = !regex && orderRule !== undefined &&
        g.markers.some((m) =>
          orderRule.equals.includes(m) || orderRule.prefixes.some((p) => m.startsWith(p))
        );
      entries.push({
        index: entries.length,
        phase,
        markers: g.markers,
        regex,
        ...(record !== undefined ? { record } : {}),
        ...(consolePhase !== undefined ? { consolePhase } : {}),
        ...(g.coldBoot !== undefined ? { coldBoot: g.coldBoot } : {}),
        ordered: e.ordered === true || byRule,
      });
    }
  });

  let phaseEnds: Record<string, { marker: string; index?: number }> | undefined;
  if (phaseEndMarkers !== undefined) {
    phaseEnds = {};
    for (const [phase, marker] of Object.entries(phaseEndMarkers)) {
      // The end marker is found the way the original harness finds it: an entry equal to it.
      const at = entries.findIndex((e) => !e.regex && e.markers.includes(marker));
      phaseEnds[phase] = at < 0 ? { marker } : { marker, index: at };
    }
    entries.splice(0, entries.length, ...attribute({ phases, phaseEnds }, entries));
  }
  return {
    source,
    phases,
    consoleOrder,
    ...(phaseEnds !== undefined ? { phaseEnds } : {}),
    ...(start !== undefined ? { start } : {}),
    services,
    failureSignatures,
    entries,
  };
}

/**
 * Gives each entry of a cut sequence its phase the way the original harness attributes a missing
 * marker: the first phase, in `phases` order, whose end marker is in the cut at or after it.
 */
function attribute(
  ladder: Pick<Ladder, "phases" | "phaseEnds">,
  cut: LadderEntry[],
): LadderEntry[] {
  const ends = ladder.phaseEnds ?? {};
  const endOf = (p: string) => {
    const at = ends[p]?.index;
    return at !== undefined && at < cut.length ? at : -1;
  };
  return cut.map((e, k) => {
    const phase = ladder.phases.find((p) => k <= endOf(p)) ?? UNKNOWN_PHASE;
    return phase === e.phase ? e : { ...e, phase };
  });
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

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

/** Longest `--until-marker` string accepted: a longer one could never fit a console line. */
export const MAX_UNTIL_MARKER_CHARS = 4096;

/**
 * Checks an `--until-marker` string: non-empty, one line, printable, bounded. Throws
 * {@link HarnessError} `BAD_OPTION` naming what is wrong (shortened, control characters shown).
 */
export function checkUntilMarker(value: string): void {
  const shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  let why: string | undefined;
  if (value.length === 0) why = "is empty";
  else if (value.length > MAX_UNTIL_MARKER_CHARS) {
    why = `is ${value.length} characters long (at most ${MAX_UNTIL_MARKER_CHARS})`;
  } else if (/[\r\n]/.test(value)) {
    why = "spans lines, and a console line never contains a line break";
  } else if (CONTROL.test(value)) why = "holds control characters";
  if (why !== undefined) {
    throw new HarnessError("BAD_OPTION", `--until-marker ${shown} ${why}`);
  }
}

/**
 * Cuts `ladder` to what one run requires. Throws {@link HarnessError} `UNKNOWN_PHASE` (listing
 * the valid phases, or naming a phase whose end marker the sequence lacks), `UNKNOWN_MARKER` (an
 * until-marker that is a marker of a phase beyond the cut) or `BAD_OPTION` (an odd until-marker).
 *
 * `--until-marker MARKER` stops at the first line containing MARKER. When MARKER is a marker of
 * the cut ladder, the run requires what a healthy console proves before it: every entry of the
 * phases printed before MARKER's phase (`console_order`, whose steps may group phases the console
 * interleaves; an entry's `console_phase` overriding its phase), and from MARKER's own step MARKER
 * and the ordered entries listed before it. Any other
 * string only stops the run, which then requires the whole phase cut.
 *
 * @example
 * ```ts
 * const ladder = await loadNamedLadder("original-2026-02-03");
 * const req = selectRequirement(ladder, { phase: "mmio", untilMarker: true });
 * // req.entries: the sequence through "SELFTEST: cap query vmo ok"
 * ```
 */
export function selectRequirement(ladder: Ladder, opts: SelectOptions = {}): Requirement {
  const sequence = ladder.phaseEnds !== undefined;
  const phase = opts.phase ??
    (sequence ? ALL_PHASES : ladder.phases[ladder.phases.length - 1]);
  const cut = ladder.phases.indexOf(phase);
  if (opts.phase !== undefined && cut < 0) {
    const hint = closest(phase, ladder.phases);
    throw new HarnessError(
      "UNKNOWN_PHASE",
      `unknown phase "${phase}"${hint ? ` (did you mean "${hint}"?)` : ""}; valid phases: ${
        ladder.phases.join(", ")
      }`,
    );
  }
  const requireColdBoot = opts.requireColdBoot === true;
  let inCut: LadderEntry[];
  if (sequence) {
    const end = opts.phase === undefined ? undefined : ladder.phaseEnds![phase];
    if (opts.phase !== undefined && end?.index === undefined) {
      throw new HarnessError(
        "UNKNOWN_PHASE",
        end === undefined
          ? `phase "${phase}" has no end marker in ladder ${ladder.source}`
          : `phase "${phase}" ends at "${end.marker}", which is not in ladder ${ladder.source}`,
      );
    }
    inCut = attribute(
      ladder,
      end?.index === undefined ? [...ladder.entries] : ladder.entries.slice(0, end.index + 1),
    );
  } else {
    inCut = ladder.entries.filter((e) => ladder.phases.indexOf(e.phase) <= cut);
  }
  let entries: RequiredEntry[] = inCut.map((e) =>
    requireColdBoot && e.coldBoot !== undefined
      ? { ...e, markers: [e.coldBoot], rejected: e.markers.filter((m) => m !== e.coldBoot) }
      : { ...e, rejected: [] }
  );
  let untilString: string | undefined;
  if (typeof opts.untilMarker === "string") {
    checkUntilMarker(opts.untilMarker);
    const until = opts.untilMarker;
    untilString = until;
    const isMarker = (e: LadderEntry) => !e.regex && e.markers.includes(until);
    const at = entries.find(isMarker);
    if (at === undefined) {
      const beyond = ladder.entries.find(isMarker);
      if (beyond !== undefined) {
        throw new HarnessError(
          "UNKNOWN_MARKER",
          `until-marker "${until}" belongs to phase ${beyond.phase}, beyond phase ${phase}`,
        );
      }
    } else if (sequence) {
      entries = entries.filter((e) => e.index <= at.index);
    } else {
      // Stopping at a marker requires what the console proves before it: every entry of the
      // steps it proves earlier, and of the marker's own step the ordered entries before it
      // (the others of that step may legitimately still be coming).
      const rank = (e: LadderEntry) => {
        const phase = e.consolePhase ?? e.phase;
        return ladder.consoleOrder.findIndex((step) => step.includes(phase));
      };
      entries = entries.filter((e) =>
        rank(e) < rank(at) || e.index === at.index ||
        (rank(e) === rank(at) && e.ordered && e.index < at.index)
      );
    }
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

/** The phase label of a sequence ladder judged without `--phase` (the whole sequence). */
export const ALL_PHASES = "all";

/** Folder of the ladders shipped beside the default one, selectable by name. */
export function ladderDir(): string {
  return decodeURIComponent(new URL("../images/ladders/", import.meta.url).pathname);
}

/** Names of the shipped ladders (`default` and the files in `images/ladders/`), sorted. */
export function ladderNames(): string[] {
  const names = ["default"];
  try {
    for (const f of Deno.readDirSync(ladderDir())) {
      if (f.isFile && f.name.endsWith(".toml")) names.push(f.name.slice(0, -".toml".length));
    }
  } catch {
    // No folder: only the default ladder.
  }
  return names.sort();
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a ladder given as a NAME (`default`, or a file of `images/ladders/` without `.toml`) or
 * as a path (anything with a `/` or ending in `.toml`, or naming an existing file that is no
 * shipped name; resolved with `resolvePath`). Throws {@link HarnessError}: an unknown
 * name lists the shipped ones.
 */
export async function loadNamedLadder(
  nameOrPath: string,
  resolvePath: (path: string) => string = (p) => p,
): Promise<Ladder> {
  if (nameOrPath.includes("/") || nameOrPath.endsWith(".toml")) {
    return await loadLadder(resolvePath(nameOrPath), nameOrPath);
  }
  if (nameOrPath === "default") return await loadLadder(defaultLadderPath(), "images/ladder.toml");
  const names = ladderNames();
  if (!names.includes(nameOrPath) && exists(resolvePath(nameOrPath))) {
    // Not a shipped name but a file here (`--ladder my-ladder`): a path after all.
    return await loadLadder(resolvePath(nameOrPath), nameOrPath);
  }
  if (!/^[\w.-]+$/.test(nameOrPath) || !names.includes(nameOrPath)) {
    const hint = closest(nameOrPath, names);
    throw new HarnessError(
      "LADDER_UNREADABLE",
      `no ladder named "${nameOrPath.length > 60 ? nameOrPath.slice(0, 60) + "..." : nameOrPath}"${
        hint ? ` (did you mean "${hint}"?)` : ""
      }, and no such file; shipped ladders: ${names.join(", ")}`,
    );
  }
  return await loadLadder(`${ladderDir()}${nameOrPath}.toml`, `images/ladders/${nameOrPath}.toml`);
}
