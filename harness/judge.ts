/**
 * The judge: fed console lines one at a time from any source (a live boot, a log file, a child
 * process), it tracks the required markers, failure signatures and init-marker order, says when
 * the run should stop, and produces the {@link Verdict}.
 *
 * Rules (docs/ladders.md "Matching"): a marker matches any line containing it; presence is
 * order-tolerant except for `ordered` entries, whose first occurrences must follow ladder order;
 * a failure-signature line ends the run at once (a bounded tail of lines after it is still taken,
 * so the watchdog's task table lands in the excerpt); `untilAll` stops once every required entry
 * was seen; `untilString` stops at the first line containing it.
 *
 * @module
 */

import { entryLabel, type RequiredEntry, type Requirement, UNKNOWN_PHASE } from "./ladder.ts";
import { FixedMatcher } from "./matcher.ts";
import type {
  EndReason,
  Excerpt,
  ExcerptLine,
  FailureLine,
  OrderViolation,
  TaskSummary,
  Verdict,
  VerdictEntry,
} from "./verdict.ts";

/** Why the judge asked the source to stop. */
export type StopCause = "complete" | "until-marker" | "failure";

/** How a line source ended, as the live runner reports it to {@link Judge.verdict}. */
export interface RunEnd {
  /** The source's own end (idle, eof, ...), or timeout/interrupted when the runner cut it. */
  reason: EndReason;
  /** Extra words on the end (timeout length, exit status). */
  detail?: string;
  /** Virtual time at the end, when the source is the simulator. */
  virtualNs?: number;
  /** Task table at the end, when the source is the simulator. */
  tasks?: TaskSummary[];
  /** Wall milliseconds the run took. */
  wallMs: number;
  /** What had to be stopped after the run (processes a command left behind), when anything. */
  cleanup?: string;
}

/** Bounds of what the judge keeps. */
export interface JudgeLimits {
  /** Lines taken after a failure signature (for the watchdog table). Default 40. */
  tailLines?: number;
  /** Lines of context kept before the line an excerpt centres on. Default 10. */
  contextBefore?: number;
  /** Lines kept after an order violation. Default 5. */
  contextAfter?: number;
  /** Lines shown when the console simply ended without the markers. Default 20. */
  endLines?: number;
  /** Longest line text kept in failures and excerpts. Default 300 characters. */
  maxLineChars?: number;
}

interface Seen {
  line: number;
  timeNs?: number;
  matched: string;
}

interface Capture {
  around: "failure" | "order";
  anchor: number;
  lines: RawLine[];
  afterLeft: number;
}

/** A console line as received; made printable only if it ends up in the verdict. */
interface RawLine {
  line: number;
  raw: string;
}

/** What a pattern of the combined matcher stands for. */
type Role =
  | { kind: "entry"; entry: number; marker: string }
  | { kind: "rejected"; entry: number; marker: string }
  | { kind: "failure"; rank: number }
  | { kind: "until" }
  | { kind: "start" };

// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** Makes control characters visible and cuts long lines, so output stays one line per line. */
export function sanitizeLine(text: string, maxChars = 300): string {
  let s = text.replace(
    CONTROL_CHARS,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  if (s.length > maxChars) s = `${s.slice(0, maxChars)}... (${text.length} chars)`;
  return s;
}

const built = new WeakMap<Requirement, { matcher: FixedMatcher; roles: Role[] }>();

/**
 * The one matcher holding every fixed string the judge looks for in `req` (a line is read once),
 * and what each pattern stands for. Built once per requirement.
 */
function matcherFor(req: Requirement): { matcher: FixedMatcher; roles: Role[] } {
  const known = built.get(req);
  if (known !== undefined) return known;
  const patterns: string[] = [];
  const roles: Role[] = [];
  const add = (pattern: string, role: Role) => {
    patterns.push(pattern);
    roles.push(role);
  };
  req.entries.forEach((e, entry) => {
    if (e.regex) return;
    for (const marker of e.markers) add(marker, { kind: "entry", entry, marker });
    for (const marker of e.rejected) add(marker, { kind: "rejected", entry, marker });
  });
  req.ladder.failureSignatures.forEach((sig, rank) => add(sig, { kind: "failure", rank }));
  if (req.untilString !== undefined) add(req.untilString, { kind: "until" });
  if (req.ladder.start !== undefined) add(req.ladder.start, { kind: "start" });
  const made = { matcher: new FixedMatcher(patterns), roles };
  built.set(req, made);
  return made;
}

/**
 * Judges one run against a {@link Requirement}.
 *
 * @example
 * ```ts
 * const judge = new Judge(selectRequirement(await loadNamedLadder("default")));
 * for (const line of consoleLines) if (judge.feed(line)) break;
 * const verdict = judge.verdict({ reason: "eof", wallMs: 0 });
 * ```
 */
export class Judge {
  readonly #req: Requirement;
  readonly #tailLines: number;
  readonly #before: number;
  readonly #after: number;
  readonly #endLines: number;
  readonly #maxChars: number;
  readonly #seen: (Seen | undefined)[];
  readonly #instead: ({ marker: string; line: number } | undefined)[];
  readonly #matcher: FixedMatcher;
  readonly #roles: Role[];
  readonly #hits: number[] = [];
  /** Ordered entries first seen on the current line, checked once the line is done. */
  readonly #orderedNow: number[] = [];
  /** A sequence ladder's order is strict: an ordered marker must be on a later line. */
  readonly #strictOrder: boolean;
  /** Required entries whose markers are regular expressions, with their compiled patterns. */
  readonly #regexEntries: { entry: number; patterns: RegExp[] }[];
  readonly #records: Record<string, Record<string, string>> = {};
  #started: boolean;
  #pending: number;
  #firstUnseen = 0;
  #lineNo = 0;
  /** The last lines, circular: raw texts and their line numbers (#lineNo - k at #ringAt - k). */
  #ring: string[] = [];
  #ringAt = 0;
  #failures: FailureLine[] = [];
  #order: OrderViolation[] = [];
  #capture: Capture | undefined;
  #stop: StopCause | undefined;
  #tailLeft = 0;
  #lastTimeNs: number | undefined;

  /** Creates a judge for `req`. */
  constructor(req: Requirement, limits: JudgeLimits = {}) {
    this.#req = req;
    this.#tailLines = limits.tailLines ?? 40;
    this.#before = limits.contextBefore ?? 10;
    this.#after = limits.contextAfter ?? 5;
    this.#endLines = limits.endLines ?? 20;
    this.#maxChars = limits.maxLineChars ?? 300;
    this.#seen = req.entries.map(() => undefined);
    this.#instead = req.entries.map(() => undefined);
    this.#pending = req.entries.length;
    this.#started = req.ladder.start === undefined;
    this.#strictOrder = req.ladder.phaseEnds !== undefined;
    const built = matcherFor(req);
    this.#matcher = built.matcher;
    this.#roles = built.roles;
    this.#regexEntries = [];
    req.entries.forEach((e, entry) => {
      if (e.regex) {
        this.#regexEntries.push({ entry, patterns: e.markers.map((m) => new RegExp(m)) });
      }
    });
  }

  /** The requirement being judged. */
  get requirement(): Requirement {
    return this.#req;
  }

  /** Why the judge wants the run stopped, or undefined while it should go on. */
  get stopCause(): StopCause | undefined {
    return this.#stop;
  }

  /** True once the run should stop. */
  get shouldStop(): boolean {
    return this.#stop !== undefined;
  }

  /** True while the judge still takes lines after a stop (the tail after a failure). */
  get wantsTail(): boolean {
    return this.#stop === "failure" && this.#tailLeft > 0;
  }

  /** Lines judged so far. */
  get lines(): number {
    return this.#lineNo;
  }

  /** Progress for a status line: required entries seen and expected, and the phase being waited on. */
  progress(): { seen: number; expected: number; phase: string } {
    const expected = this.#req.entries.length;
    // Entries are only ever seen, never unseen: the first missing one only moves forward.
    while (this.#firstUnseen < expected && this.#seen[this.#firstUnseen] !== undefined) {
      this.#firstUnseen++;
    }
    const firstMissing = this.#req.entries[this.#firstUnseen];
    return {
      seen: expected - this.#pending,
      expected,
      phase: firstMissing?.phase ?? this.#req.phase,
    };
  }

  /**
   * Judges one console line. Returns true when the run should stop. After a stop only the tail
   * after a failure is still taken (for failure lines and the excerpt); other lines are ignored.
   */
  feed(text: string, timeNs?: number): boolean {
    if (this.#stop !== undefined && !this.wantsTail) return true;
    const line = this.#record(text, timeNs);
    const hits = this.#hits;
    hits.length = 0;
    this.#matcher.scan(text, hits);
    if (this.#stop !== undefined) {
      this.#tailLeft--;
      this.#checkFailure(text, line, hits);
      return true;
    }
    let until = false;
    const before = this.#pending;
    for (const id of hits) {
      const role = this.#roles[id];
      if (role.kind === "entry") this.#markSeen(role.entry, role.marker, line, timeNs);
      else if (role.kind === "rejected") {
        if (this.#seen[role.entry] === undefined && this.#instead[role.entry] === undefined) {
          this.#instead[role.entry] = { marker: role.marker, line };
        }
      } else if (role.kind === "until") until = true;
      else if (role.kind === "start") this.#started = true;
    }
    for (const r of this.#regexEntries) {
      if (this.#seen[r.entry] !== undefined) continue;
      for (const re of r.patterns) {
        const m = re.exec(text);
        if (m === null) continue;
        this.#markSeen(r.entry, re.source, line, timeNs);
        const name = this.#req.entries[r.entry].record;
        if (name !== undefined) this.#records[name] = { ...m.groups };
        break;
      }
    }
    // Order is checked once the whole line is taken, so entries sharing a line see each other.
    if (this.#pending !== before) this.#checkOrderAt(line);
    if (this.#checkFailure(text, line, hits)) {
      this.#stop = "failure";
      this.#tailLeft = this.#tailLines;
    } else if (until) {
      this.#stop = "until-marker";
    } else if (this.#req.untilAll && this.#pending === 0) {
      this.#stop = "complete";
    }
    return this.#stop !== undefined;
  }

  /**
   * What a reader needs to take lines in bulk: the matcher (a line its
   * {@link FixedMatcher.mayMatch} rules out changes nothing here but the line count and the last
   * lines kept) and how many last lines are kept. Undefined while every line must be fed: after a
   * stop, while an excerpt collects the lines after its anchor, or while a marker that is a
   * regular expression is pending.
   */
  quiet(): { matcher: FixedMatcher; keep: number } | undefined {
    if (this.#stop !== undefined) return undefined;
    if (this.#capture !== undefined && this.#capture.afterLeft > 0) return undefined;
    for (const r of this.#regexEntries) if (this.#seen[r.entry] === undefined) return undefined;
    return { matcher: this.#matcher, keep: this.#ringMax };
  }

  /**
   * Takes `count` console lines (without times) that {@link quiet}'s matcher ruled out, as
   * {@link feed} would take them one by one; `last` holds the final `min(count, keep)` of them.
   */
  skip(count: number, last: readonly string[]): void {
    this.#lineNo += count - last.length;
    for (const text of last) this.#record(text, undefined);
  }

  #record(text: string, timeNs: number | undefined): number {
    const line = ++this.#lineNo;
    if (timeNs !== undefined) this.#lastTimeNs = timeNs;
    // Only a bounded window of raw lines is kept; none is made printable unless it is shown.
    if (this.#capture !== undefined && this.#capture.afterLeft > 0) {
      this.#capture.lines.push({ line, raw: text });
      this.#capture.afterLeft--;
    }
    const size = this.#ringMax;
    if (this.#ring.length < size) this.#ring.push(text);
    else this.#ring[this.#ringAt] = text;
    this.#ringAt = (this.#ringAt + 1) % size;
    return line;
  }

  /** The last `n` lines taken (at most the ring's size), oldest first. */
  #lastLines(n: number): RawLine[] {
    const size = this.#ringMax;
    const have = Math.min(n, this.#ring.length);
    const out: RawLine[] = [];
    for (let k = have; k >= 1; k--) {
      out.push({ line: this.#lineNo - k + 1, raw: this.#ring[(this.#ringAt - k + size) % size] });
    }
    return out;
  }

  get #ringMax(): number {
    return Math.max(this.#endLines, this.#before + 1);
  }

  #startCapture(around: "failure" | "order", anchor: number, afterLeft: number): void {
    this.#capture = {
      around,
      anchor,
      lines: this.#lastLines(this.#before + 1),
      afterLeft,
    };
  }

  #checkFailure(text: string, line: number, hits: readonly number[]): boolean {
    if (hits.length === 0) return false;
    // The signature named is the first in the ladder's list that the line contains.
    let rank = -1;
    for (const id of hits) {
      const role = this.#roles[id];
      if (role.kind === "failure" && (rank < 0 || role.rank < rank)) rank = role.rank;
    }
    if (rank < 0) return false;
    const signature = this.#req.ladder.failureSignatures[rank];
    this.#failures.push({
      line,
      text: sanitizeLine(text, this.#maxChars),
      signature,
      ...(this.#lastTimeNs !== undefined ? { timeNs: this.#lastTimeNs } : {}),
    });
    // The first failure is where it went wrong; it takes over from an order-violation excerpt.
    if (this.#capture === undefined || this.#capture.around !== "failure") {
      this.#startCapture("failure", line, this.#tailLines);
    }
    return true;
  }

  #markSeen(i: number, matched: string, line: number, timeNs: number | undefined): void {
    if (this.#seen[i] !== undefined) return;
    this.#seen[i] = { line, matched, ...(timeNs !== undefined ? { timeNs } : {}) };
    this.#pending--;
    if (this.#req.entries[i].ordered) this.#orderedNow.push(i);
  }

  #checkOrderAt(line: number): void {
    for (const i of this.#orderedNow) this.#checkOrder(i, this.#req.entries[i], line);
    this.#orderedNow.length = 0;
  }

  /** An ordered entry seen now must not follow-in-ladder an ordered entry seen on an earlier line. */
  #checkOrder(i: number, e: RequiredEntry, line: number): void {
    const entries = this.#req.entries;
    for (let k = i + 1; k < entries.length; k++) {
      const s = this.#seen[k];
      if (!entries[k].ordered || s === undefined) continue;
      if (s.line > line || (s.line === line && !this.#strictOrder)) continue;
      this.#order.push({
        marker: entryLabel(e),
        line,
        after: { marker: entryLabel(entries[k]), line: s.line },
      });
      if (this.#capture === undefined) this.#startCapture("order", line, this.#after);
      return;
    }
  }

  /** The verdict once the source ended. */
  verdict(end: RunEnd): Verdict {
    const reason: EndReason = this.#stop ?? end.reason;
    const entries: VerdictEntry[] = this.#req.entries.map((e, i) => {
      const s = this.#seen[i];
      const instead = this.#instead[i];
      return {
        index: e.index,
        phase: e.phase,
        markers: [...e.markers],
        seen: s !== undefined,
        ...(s !== undefined ? { line: s.line, matched: s.matched } : {}),
        ...(s?.timeNs !== undefined ? { timeNs: s.timeNs } : {}),
        ...(s === undefined && instead !== undefined ? { instead } : {}),
      };
    });
    const missingByPhase: Record<string, string[]> = {};
    for (const phase of [...this.#req.ladder.phases, UNKNOWN_PHASE]) {
      const labels = this.#req.entries
        .filter((e, i) => e.phase === phase && this.#seen[i] === undefined)
        .map(entryLabel);
      if (labels.length > 0) missingByPhase[phase] = labels;
    }
    const firstIdx = this.#seen.findIndex((s) => s === undefined);
    const firstMissing = firstIdx < 0 ? null : {
      marker: entryLabel(this.#req.entries[firstIdx]),
      phase: this.#req.entries[firstIdx].phase,
    };
    const cutShort = reason === "timeout" || reason === "interrupted";
    const pass = firstMissing === null && this.#failures.length === 0 &&
      this.#order.length === 0 && !cutShort && this.#started;
    let excerpt: Excerpt | null = null;
    if (!pass) {
      const shown = (lines: RawLine[]): ExcerptLine[] =>
        lines.map((l) => ({ line: l.line, text: sanitizeLine(l.raw, this.#maxChars) }));
      excerpt = this.#capture !== undefined
        ? {
          around: this.#capture.around,
          anchor: this.#capture.anchor,
          lines: shown(this.#capture.lines),
        }
        : {
          around: "end",
          anchor: this.#lineNo,
          lines: shown(this.#lastLines(this.#endLines)),
        };
    }
    return {
      status: pass ? "PASS" : "FAIL",
      exitCode: pass ? 0 : 1,
      ladder: this.#req.ladder.source,
      phase: this.#req.phase,
      untilMarker: this.#req.untilString ?? (this.#req.untilAll ? true : null),
      requireColdBoot: this.#req.requireColdBoot,
      end: reason,
      endDetail: this.#stop === undefined ? end.detail ?? null : null,
      markers: {
        expected: this.#req.entries.length,
        seen: this.#req.entries.length - this.#pending,
      },
      entries,
      missingByPhase,
      firstMissing,
      failures: this.#failures,
      orderViolations: this.#order,
      excerpt,
      lines: this.#lineNo,
      virtualNs: end.virtualNs ?? this.#lastTimeNs ?? null,
      tasks: end.tasks?.map((t) => ({ ...t })) ?? null,
      wallMs: Math.round(end.wallMs),
      ...(this.#req.ladder.start !== undefined
        ? { start: { marker: this.#req.ladder.start, seen: this.#started } }
        : {}),
      ...(Object.keys(this.#records).length > 0 ? { records: { ...this.#records } } : {}),
      ...(end.cleanup !== undefined ? { cleanup: end.cleanup } : {}),
    };
  }
}
