/**
 * The verdict of one judged run and its renderings for people (text) and machines (JSON).
 * JUnit XML lives in `junit.ts`.
 *
 * @module
 */

import { painter } from "./style.ts";
import { describeWait, formatTaskTable, type WaitView } from "../init/watchdog.ts";

/** Why a run ended. */
export type EndReason =
  /** Every required marker was seen with `--until-marker`. */
  | "complete"
  /** The `--until-marker MARKER` line was seen. */
  | "until-marker"
  /** A failure-signature line was seen. */
  | "failure"
  /** The wall-clock `--timeout` expired. */
  | "timeout"
  /** The user interrupted the run. */
  | "interrupted"
  /** The simulated system went idle with nothing left to run. */
  | "idle"
  /** Every simulated task exited. */
  | "all-exited"
  /** The scheduler's step limit was reached. */
  | "max-steps"
  /** The source stopped on request before the judge asked (should not normally be seen). */
  | "stopped"
  /** The log file or stream ended. */
  | "eof"
  /** The scanned command exited on its own. */
  | "exited";

/** How a required entry fared. */
export interface VerdictEntry {
  /** Position in the ladder. */
  index: number;
  /** Phase of the entry. */
  phase: string;
  /** The markers that count for it. */
  markers: string[];
  /** Whether a line satisfied it. */
  seen: boolean;
  /** 1-based console line of the first occurrence. */
  line?: number;
  /** Virtual time of that line, when the source reports it. */
  timeNs?: number;
  /** The alternative that matched. */
  matched?: string;
  /** An alternative that does not count for this run (cold boot) which was seen instead. */
  instead?: { marker: string; line: number };
}

/** A line carrying a failure signature. */
export interface FailureLine {
  /** 1-based console line number. */
  line: number;
  /** The line (control characters made visible, long lines cut). */
  text: string;
  /** The signature it contains. */
  signature: string;
  /** Virtual time, when known. */
  timeNs?: number;
}

/** An ordered entry whose first occurrence came before an earlier-in-ladder ordered entry's. */
export interface OrderViolation {
  /** The entry seen too late. */
  marker: string;
  /** Its first line. */
  line: number;
  /** The entry that follows it in the ladder but was printed before it. */
  after: { marker: string; line: number };
}

/** One console line of an excerpt. */
export interface ExcerptLine {
  /** 1-based console line number. */
  line: number;
  /** The line (control characters made visible, long lines cut). */
  text: string;
}

/** A bounded excerpt of the console around where the run went wrong. */
export interface Excerpt {
  /** What the excerpt is centred on. */
  around: "failure" | "order" | "end";
  /** Line the excerpt is centred on (the last line for "end"). */
  anchor: number;
  /** Lines in console order. */
  lines: ExcerptLine[];
}

/** An unfinished task at the end of a simulated run (what it waited on, since when). */
export interface TaskSummary {
  /** Task id. */
  pid: number;
  /** Task (service) name. */
  name: string;
  /** Scheduling state. */
  state: string;
  /**
   * What a blocked task waits on: op, slot (and its manifest name), endpoint and its owner, and
   * for a caller waiting on its reply inbox the service it called and the request's label.
   */
  blockedOn?: WaitView;
  /** Virtual time (ns) since which the task is in this state. */
  since: number;
}

/** One partition of the booted image. */
export interface LayoutPartition {
  /** GPT partition name. */
  name: string;
  /** First sector. */
  firstLba: number;
  /** Last sector (inclusive). */
  lastLba: number;
}

/** What a run was asked to do: enough to repeat it and to know what the verdict is about. */
export interface RunInfo {
  /** The command line as typed, starting with `nexus`. */
  command: string[];
  /** The directory relative paths were resolved against. */
  cwd: string;
  /** Boot seed; null when the run did not boot (a scan). */
  seed: number | null;
  /** Fault plan the run injected; null for none. */
  faultPlan: unknown;
  /** The power cut that ended a boot (its write cache, what survived); absent for a scan. */
  powerCut?: unknown;
  /** Disk image and its partition layout as booted; null when the run did not boot. */
  image: { path: string; sizeBytes: number; partitions: LayoutPartition[] | null } | null;
  /** System manifest; null when the run did not boot. */
  manifest: string | null;
  /** Ladder file. */
  ladder: string;
  /** Console log judged (a scan's input), or null. */
  input?: string | null;
  /**
   * The command that replays this run byte for byte (its seed made explicit); a failing verdict
   * prints it. Absent for a scan.
   */
  replay?: string;
}

/** The complete outcome of a judged run (also the `--json` and `summary.json` object). */
export interface Verdict {
  /** Version of this object's shape (reports carry it; judges leave it to the session). */
  schemaVersion?: number;
  /** The nexus version that wrote it. */
  nexusVersion?: string;
  /** PASS or FAIL. */
  status: "PASS" | "FAIL";
  /** 0 for PASS, 1 for FAIL. */
  exitCode: 0 | 1;
  /** Ladder file. */
  ladder: string;
  /** Phase cut. */
  phase: string;
  /** `--until-marker`: true (phase complete), the marker, or null. */
  untilMarker: string | true | null;
  /** `--require-cold-boot`. */
  requireColdBoot: boolean;
  /** Why the run ended. */
  end: EndReason;
  /** A sentence on the end when there is more to say (timeout length, command exit status). */
  endDetail: string | null;
  /** Required and seen entry counts. */
  markers: { expected: number; seen: number };
  /** Every required entry in ladder order. */
  entries: VerdictEntry[];
  /** Missing entries' labels grouped by phase, phases in ladder order. */
  missingByPhase: Record<string, string[]>;
  /** The first missing entry in ladder order, with its phase. */
  firstMissing: { marker: string; phase: string } | null;
  /** Every failure-signature line seen. */
  failures: FailureLine[];
  /** Init-marker order violations. */
  orderViolations: OrderViolation[];
  /** Console excerpt around where it went wrong; null on PASS. */
  excerpt: Excerpt | null;
  /** Console lines judged. */
  lines: number;
  /** Virtual time at the end, when the source is the simulator. */
  virtualNs: number | null;
  /** Tasks that had not exited when a simulated run ended; null for other sources. */
  tasks: TaskSummary[] | null;
  /** Wall time of the run in milliseconds. */
  wallMs: number;
  /** What ended the run early (reports carry it; see {@link leadingCause}). */
  cause?: Cause | null;
  /** What the run was asked to do, when the caller says. */
  run?: RunInfo;
  /** The ladder's start marker and whether a line had it (absent when the ladder has none). */
  start?: { marker: string; seen: boolean };
  /** Named groups of `record` entries' first matching lines, by record name. */
  records?: Record<string, Record<string, string>>;
  /** Processes a scanned command left behind that had to be stopped, and with which signal. */
  cleanup?: string;
}

/** Formats virtual nanoseconds for the verdict line. */
export function formatVirtual(ns: number | null): string {
  if (ns === null) return "n/a";
  if (ns < 1_000) return `${ns} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(3)} us`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(3)} ms`;
  return `${(ns / 1_000_000_000).toFixed(3)} s`;
}

/** Formats wall milliseconds for the verdict line. */
export function formatWall(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

const END_TEXT: Record<EndReason, string> = {
  complete: "every required marker seen",
  "until-marker": "until-marker reached",
  failure: "failure signature",
  timeout: "timeout",
  interrupted: "interrupted",
  idle: "system idle",
  "all-exited": "every task exited",
  "max-steps": "step limit reached",
  stopped: "stopped",
  eof: "end of log",
  exited: "command exited",
};

/** A short phrase for an end reason. */
export function endText(v: Pick<Verdict, "end" | "endDetail">): string {
  return v.endDetail ?? END_TEXT[v.end];
}

/** Styling hooks for {@link renderText}; identity when colour is off. */
export interface TextStyle {
  /** Styles the PASS word. */
  pass(s: string): string;
  /** Styles the FAIL word. */
  fail(s: string): string;
  /** Styles headings and dim context. */
  dim(s: string): string;
}

/** No styling (NO_COLOR, pipes, files). */
export const PLAIN: TextStyle = { pass: (s) => s, fail: (s) => s, dim: (s) => s };

const paint = painter(true);

/** ANSI styling for terminals (style.ts). */
export const ANSI: TextStyle = {
  pass: (s) => paint(["bold", "green"], s),
  fail: (s) => paint(["bold", "red"], s),
  dim: (s) => paint("dim", s),
};

/** What ended a failed run early, when something did: it explains what went missing after it. */
export interface Cause {
  /** A failure-signature line (the watchdog's finding is one), or the run being cut. */
  kind: "failure" | "timeout" | "interrupted";
  /** The console line it happened at (for a cut run: the last line judged). */
  line: number;
  /** The failure line's text, or the end's description. */
  text: string;
  /** The phase the console was proving then: that of the first marker not yet seen. */
  phase: string;
}

/** The cause that ended `v` early, or null (a PASS, or a run that ended on its own). */
export function leadingCause(v: Verdict): Cause | null {
  if (v.status === "PASS") return null;
  let line: number;
  let kind: Cause["kind"];
  let text: string;
  if (v.failures.length > 0) {
    kind = "failure";
    line = v.failures[0].line;
    text = v.failures[0].text;
  } else if (v.end === "timeout" || v.end === "interrupted") {
    kind = v.end;
    line = v.lines;
    text = endText(v);
  } else {
    return null;
  }
  const pending = v.entries.find((e) => !e.seen || (e.line !== undefined && e.line > line));
  const phase = pending?.phase ?? v.entries.at(-1)?.phase ?? v.phase;
  return { kind, line, text, phase };
}

/**
 * Missing entries the cause does not explain: ones the console went past before the cause (an
 * entry of a later phase was seen before it) or, without a cause, every missing entry.
 */
export function unexplainedMissing(v: Verdict, cause: Cause | null): VerdictEntry[] {
  const missing = v.entries.filter((e) => !e.seen);
  if (cause === null) return missing;
  // Within a phase the console's order is loose; a later phase seen before the cause is not.
  const phases = [...new Set(v.entries.map((e) => e.phase))];
  const rank = (e: VerdictEntry) => phases.indexOf(e.phase);
  return missing.filter((m) =>
    v.entries.some((e) =>
      e.seen && rank(e) > rank(m) && e.line !== undefined && e.line < cause.line
    )
  );
}

/** Renders the verdict for people: the first line says PASS, or FAIL and what caused it. */
export function renderText(v: Verdict, style: TextStyle = PLAIN): string {
  const out: string[] = [];
  const times = `virtual ${formatVirtual(v.virtualNs)}, wall ${formatWall(v.wallMs)}`;
  if (v.status === "PASS") {
    out.push(
      `${style.pass("PASS")}: ${v.markers.seen}/${v.markers.expected} markers (phase ${v.phase}; ${
        endText(v)
      }) in ${times}`,
    );
    if (v.cleanup) out.push(`left behind by the command: ${v.cleanup}`);
    return out.join("\n") + "\n";
  }
  const missing = v.markers.expected - v.markers.seen;
  const counts: string[] = [];
  // A run that never printed its start line did not fail markers: it never began.
  if (v.start && !v.start.seen) counts.push(`never started (no line has "${v.start.marker}")`);
  else if (missing > 0) counts.push(`${missing} of ${v.markers.expected} markers missing`);
  if (v.failures.length > 0) {
    counts.push(`${v.failures.length} failure line${v.failures.length === 1 ? "" : "s"}`);
  }
  if (v.orderViolations.length > 0) {
    counts.push(
      `${v.orderViolations.length} init-marker order violation${
        v.orderViolations.length === 1 ? "" : "s"
      }`,
    );
  }
  const cause = leadingCause(v);
  const tail = `(phase ${v.phase}; ended: ${endText(v)}) in ${times}`;
  if (cause === null) {
    out.push(`${style.fail("FAIL")}: ${counts.join(", ")} ${tail}`);
  } else {
    const what = cause.kind === "failure" ? `line ${cause.line}: ${cause.text}` : cause.text;
    out.push(`${style.fail("FAIL")}: ${what} (during phase ${cause.phase})`);
    out.push(`${counts.length > 0 ? counts.join(", ") : "no marker missing"} ${tail}`);
  }
  if (v.run?.replay) out.push(`replay: ${v.run.replay}`);
  if (v.cleanup) out.push(`left behind by the command: ${v.cleanup}`);
  // The cause's surroundings come first: the console around it, then who was stuck on what.
  if (v.excerpt && v.excerpt.lines.length > 0) {
    const first = v.excerpt.lines[0].line;
    const last = v.excerpt.lines[v.excerpt.lines.length - 1].line;
    out.push(
      style.dim(`console excerpt (lines ${first}-${last}, around the ${v.excerpt.around}):`),
    );
    const width = String(last).length;
    for (const l of v.excerpt.lines) {
      const mark = l.line === v.excerpt.anchor && v.excerpt.around !== "end" ? ">" : " ";
      out.push(`${mark} ${String(l.line).padStart(width)} | ${l.text}`);
    }
  }
  // Mid-run tables say nothing when the judge itself stopped the run.
  const stoppedByJudge = v.end === "complete" || v.end === "until-marker";
  const unfinished = stoppedByJudge ? [] : v.tasks?.filter((t) => t.state !== "exited") ?? [];
  if (unfinished.length > 0) {
    for (const line of taskTable(unfinished, v.virtualNs ?? 0)) out.push(line);
  }
  if (v.failures.length > 0) {
    out.push("failure lines:");
    for (const f of v.failures) out.push(`  line ${f.line}: ${f.text}`);
  }
  if (v.orderViolations.length > 0) {
    out.push("init-marker order violations:");
    for (const o of v.orderViolations) {
      out.push(
        `  "${o.marker}" (line ${o.line}) came after "${o.after.marker}" (line ${o.after.line}), which follows it in the ladder`,
      );
    }
  }
  const unexplained = unexplainedMissing(v, cause);
  if (unexplained.length > 0) {
    const first = unexplained[0];
    out.push(
      `first missing${cause ? " the cause does not explain" : ""}: "${
        first.markers.join(" | ")
      }" (phase ${first.phase})`,
    );
  }
  const phases = Object.keys(v.missingByPhase);
  if (phases.length > 0) {
    const explained = missing - unexplained.length;
    const note = cause !== null && explained > 0
      ? unexplained.length === 0
        ? ` (all ${explained} after the ${
          cause.kind === "failure" ? "failure" : cause.kind
        }, which explains them)`
        : ` (${explained} after the ${
          cause.kind === "failure" ? "failure" : cause.kind
        }, which explains them)`
      : "";
    out.push(`missing markers${note}:`);
    for (const phase of phases) {
      out.push(`  ${phase}:`);
      for (const m of v.missingByPhase[phase]) {
        const entry = v.entries.find((e) => !e.seen && e.markers.join(" | ") === m);
        const instead = entry?.instead
          ? ` (line ${entry.instead.line} has "${entry.instead.marker}" instead)`
          : "";
        out.push(`    ${m}${instead}`);
      }
    }
  }
  return out.join("\n") + "\n";
}

/** What a task waits on, in the words init's watchdog table uses: `-` when not blocked. */
export function describeTaskWait(t: TaskSummary): string {
  return t.state === "blocked" && t.blockedOn ? describeWait(t.blockedOn) : "-";
}

/** One line on a task: `pid 5 keystored blocked: reply from statefsd to SF op 0x01 (...) since ...`. */
export function describeTask(t: TaskSummary): string {
  const what = t.state === "blocked" && t.blockedOn
    ? `${t.state}: ${describeWait(t.blockedOn)}`
    : t.state;
  return `pid ${t.pid} ${t.name} ${what} since ${formatVirtual(t.since)}`;
}

/** The host's table of unfinished tasks: the same table init prints when its watchdog fires. */
export function taskTable(tasks: readonly TaskSummary[], nowNs: number): string[] {
  return formatTaskTable(tasks, describeTaskWait, nowNs);
}

/** Renders the verdict as one JSON object (one line). */
export function renderJson(v: Verdict): string {
  return JSON.stringify(v) + "\n";
}
