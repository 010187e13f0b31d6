/**
 * Reads StrykerJS JSON reports (the mutation-testing-report-schema) of the ladder and suite
 * lanes and renders a short text summary: per lane the counts and score, per file both lanes side
 * by side, and every surviving mutant grouped by file with its line, mutator, replacement and
 * the other lane's verdict on the same mutant.
 *
 * @example
 * ```ts
 * import { laneSummary, renderSummary } from "./summary.ts";
 * const ladder = laneSummary("ladder", [JSON.parse(await Deno.readTextFile("report.json"))]);
 * console.log(renderSummary([ladder]));
 * ```
 *
 * @module
 */

/** One mutant as the JSON report records it (only the fields read here). */
export interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  statusReason?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

/** A StrykerJS JSON report (only the fields read here). */
export interface Report {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
}

/** Mutant counts by outcome. A timeout counts as detected, as StrykerJS counts it. */
export interface Counts {
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
  errors: number;
  ignored: number;
}

/** A surviving mutant with what a reader needs to find and judge it. */
export interface Survivor {
  file: string;
  line: number;
  column: number;
  mutator: string;
  replacement: string;
  /** The original source line, trimmed. */
  original: string;
  /** Identity across lanes: file, position, mutator and replacement. */
  key: string;
}

/** One lane's outcome over every report it wrote. */
export interface LaneSummary {
  lane: string;
  total: Counts;
  files: Map<string, Counts>;
  survivors: Survivor[];
  /** Status of every run mutant by key, to look up the other lane's verdict. */
  status: Map<string, string>;
}

/** Counts with every field zero. */
export function zeroCounts(): Counts {
  return { killed: 0, survived: 0, timeout: 0, noCoverage: 0, errors: 0, ignored: 0 };
}

/** Detected over valid mutants (killed + timeout + survived + no coverage), in percent. */
export function score(c: Counts): number | undefined {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? undefined : (100 * (c.killed + c.timeout)) / valid;
}

function bump(c: Counts, status: string): void {
  switch (status) {
    case "Killed":
      c.killed++;
      break;
    case "Survived":
      c.survived++;
      break;
    case "Timeout":
      c.timeout++;
      break;
    case "NoCoverage":
      c.noCoverage++;
      break;
    case "Ignored":
      c.ignored++;
      break;
    default: // RuntimeError, CompileError, Pending
      c.errors++;
  }
}

/** The identity of a mutant across lanes and runs of the same source. */
export function mutantKey(file: string, m: ReportMutant): string {
  const { start, end } = m.location;
  return `${file}:${start.line}:${start.column}-${end.line}:${end.column} ${m.mutatorName} ${
    m.replacement ?? ""
  }`;
}

/** Folds the reports of one lane into counts, survivors and a status index. */
export function laneSummary(lane: string, reports: Report[]): LaneSummary {
  const total = zeroCounts();
  const files = new Map<string, Counts>();
  const survivors: Survivor[] = [];
  const status = new Map<string, string>();
  for (const report of reports) {
    for (const [file, entry] of Object.entries(report.files)) {
      const counts = files.get(file) ?? zeroCounts();
      files.set(file, counts);
      const lines = entry.source.split("\n");
      for (const m of entry.mutants) {
        bump(counts, m.status);
        bump(total, m.status);
        const key = mutantKey(file, m);
        if (m.status !== "Ignored") status.set(key, m.status);
        if (m.status === "Survived" || m.status === "NoCoverage") {
          survivors.push({
            file,
            line: m.location.start.line,
            column: m.location.start.column,
            mutator: m.mutatorName,
            replacement: m.replacement ?? "",
            original: (lines[m.location.start.line - 1] ?? "").trim(),
            key,
          });
        }
      }
    }
  }
  survivors.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column
  );
  return { lane, total, files, survivors, status };
}

function pct(c: Counts): string {
  const s = score(c);
  return s === undefined ? "   n/a" : `${s.toFixed(1).padStart(5)}%`;
}

function countsLine(c: Counts): string {
  return `killed ${c.killed}, survived ${c.survived}, timeout ${c.timeout}, ` +
    `no coverage ${c.noCoverage}, errors ${c.errors}, ignored ${c.ignored}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Optional wall time per lane, in seconds, for the header. */
export type WallTimes = Record<string, number>;

/** Renders the lanes side by side, then each lane's survivors grouped by file. */
export function renderSummary(lanes: LaneSummary[], wall: WallTimes = {}): string {
  const out: string[] = [];
  for (const l of lanes) {
    const w = wall[l.lane] !== undefined ? `, wall ${Math.round(wall[l.lane])} s` : "";
    out.push(`${l.lane}: score ${pct(l.total).trim()} (${countsLine(l.total)}${w})`);
  }
  const files = [...new Set(lanes.flatMap((l) => [...l.files.keys()]))].sort();
  out.push("", `${"file".padEnd(34)}${lanes.map((l) => l.lane.padStart(22)).join("")}`);
  for (const f of files) {
    const cells = lanes.map((l) => {
      const c = l.files.get(f);
      if (c === undefined) return "-".padStart(22);
      const run = c.killed + c.timeout + c.survived + c.noCoverage;
      return `${pct(c)} of ${String(run).padStart(4)}`.padStart(22);
    });
    out.push(`${f.padEnd(34)}${cells.join("")}`);
  }
  for (const l of lanes) {
    out.push("", `${l.lane}: ${l.survivors.length} surviving mutants`);
    const others = lanes.filter((o) => o !== l);
    let file = "";
    for (const s of l.survivors) {
      if (s.file !== file) {
        file = s.file;
        out.push(`  ${file}`);
      }
      const verdicts = others.map((o) => `${o.lane}: ${o.status.get(s.key) ?? "not run"}`);
      const tail = verdicts.length ? ` [${verdicts.join(", ")}]` : "";
      out.push(
        `    ${s.line}:${s.column} ${s.mutator} → ${oneLine(s.replacement, 50)}${tail}`,
        `      ${oneLine(s.original, 96)}`,
      );
    }
  }
  return out.join("\n") + "\n";
}
