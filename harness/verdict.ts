/**
 * The verdict of one judged run and its renderings for people (text) and machines (JSON).
 * JUnit XML lives in `junit.ts`.
 *
 * @module
 */

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
  /** What a blocked task waits on: op, slot, endpoint and the endpoint owner's name. */
  blockedOn?: { op: string; slot?: number; endpointId?: number; peer?: string };
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
  /** What the run was asked to do, when the caller says. */
  run?: RunInfo;
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

/** ANSI styling for terminals. */
export const ANSI: TextStyle = {
  pass: (s) => `\x1b[1;32m${s}\x1b[0m`,
  fail: (s) => `\x1b[1;31m${s}\x1b[0m`,
  dim: (s) => `\x1b[2m${s}\x1b[0m`,
};

/** Renders the verdict for people; the first line says PASS or FAIL and why. */
export function renderText(v: Verdict, style: TextStyle = PLAIN): string {
  const out: string[] = [];
  const times = `virtual ${formatVirtual(v.virtualNs)}, wall ${formatWall(v.wallMs)}`;
  if (v.status === "PASS") {
    out.push(
      `${style.pass("PASS")}: ${v.markers.seen}/${v.markers.expected} markers (phase ${v.phase}; ${
        endText(v)
      }) in ${times}`,
    );
    return out.join("\n") + "\n";
  }
  const missing = v.markers.expected - v.markers.seen;
  const causes: string[] = [];
  if (missing > 0) causes.push(`${missing} of ${v.markers.expected} markers missing`);
  if (v.failures.length > 0) {
    causes.push(`${v.failures.length} failure line${v.failures.length === 1 ? "" : "s"}`);
  }
  if (v.orderViolations.length > 0) {
    causes.push(
      `${v.orderViolations.length} init-marker order violation${
        v.orderViolations.length === 1 ? "" : "s"
      }`,
    );
  }
  if ((v.end === "timeout" || v.end === "interrupted") && causes.length === 0) {
    causes.push(endText(v));
  }
  out.push(
    `${style.fail("FAIL")}: ${causes.join(", ")} (phase ${v.phase}; ended: ${
      endText(v)
    }) in ${times}`,
  );
  if (v.firstMissing) {
    out.push(`first missing: "${v.firstMissing.marker}" (phase ${v.firstMissing.phase})`);
  }
  const phases = Object.keys(v.missingByPhase);
  if (phases.length > 0) {
    out.push("missing markers:");
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
  // Mid-run tables say nothing when the judge itself stopped the run.
  const stoppedByJudge = v.end === "complete" || v.end === "until-marker";
  const unfinished = stoppedByJudge ? [] : v.tasks?.filter((t) => t.state !== "exited") ?? [];
  if (unfinished.length > 0) {
    out.push(`unfinished tasks at virtual ${formatVirtual(v.virtualNs)}:`);
    for (const t of unfinished) out.push(`  ${describeTask(t)}`);
  }
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
  return out.join("\n") + "\n";
}

/** One line on a task: `pid 5 statefsd blocked: recv slot 0x03 (endpoint 7 of policyd) since 1.200 ms`. */
export function describeTask(t: TaskSummary): string {
  let what = t.state;
  if (t.blockedOn) {
    const b = t.blockedOn;
    const parts = [b.op];
    if (b.slot !== undefined) parts.push(`slot 0x${b.slot.toString(16).padStart(2, "0")}`);
    if (b.endpointId !== undefined || b.peer !== undefined) {
      const ep = b.endpointId !== undefined ? `endpoint ${b.endpointId}` : "endpoint";
      parts.push(`(${ep}${b.peer !== undefined ? ` of ${b.peer}` : ""})`);
    }
    what += `: ${parts.join(" ")}`;
  }
  return `pid ${t.pid} ${t.name} ${what} since ${formatVirtual(t.since)}`;
}

/** Renders the verdict as one JSON object (one line). */
export function renderJson(v: Verdict): string {
  return JSON.stringify(v) + "\n";
}
