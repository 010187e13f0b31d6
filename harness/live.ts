/**
 * The live runner: connects a line source (a simulated boot, a log stream, a child process) to a
 * {@link Judge}, enforces the wall-clock timeout, and returns the verdict. Sources push lines
 * into a {@link LineSink} and poll it to learn when to stop, so the same judging drives every
 * source.
 *
 * @module
 */

import { wallTimer } from "../core/kernel/wall_timer.ts";
import { formatDuration } from "./duration.ts";
import type { Judge } from "./judge.ts";
import { LineSplitter, MAX_LINE_CHARS } from "./lines.ts";
import type { FixedMatcher } from "./matcher.ts";
import type { EndReason, TaskSummary, Verdict } from "./verdict.ts";

/** What a source feeds and polls. */
export interface LineSink {
  /** One console line as it was printed (without its newline). */
  onLine(text: string, timeNs?: number): void;
  /** True once the run must end: the judge is satisfied or failed, or the run was cut. */
  shouldStop(): boolean;
  /** True while the judge still takes the tail after a failure line (stop reading after it). */
  wantsTail(): boolean;
  /** Aborted when the run is cut (timeout or interrupt), to wake a source blocked on input. */
  readonly signal: AbortSignal;
  /**
   * When lines may be taken in bulk: the judge's matcher and how many last lines it keeps (see
   * {@link Judge.quiet}); undefined while each line must be handed over (someone reads every
   * line, or the judge needs them all). A source without a fast path may ignore it.
   */
  quiet?(): QuietLines | undefined;
  /** Takes `count` lines {@link quiet}'s matcher ruled out; `last` are the final ones. */
  skip?(count: number, last: readonly string[]): void;
}

/** See {@link LineSink.quiet}. */
export interface QuietLines {
  /** Rules lines out: a line it does not match changes nothing but the count and the last lines. */
  matcher: FixedMatcher;
  /** How many of the last lines are kept. */
  keep: number;
}

/** How a source ended on its own terms. */
export interface SourceEnd {
  /** idle, all-exited, max-steps, stopped (for the simulator); eof; exited (for commands). */
  reason: EndReason;
  /** Extra words (a command's exit status). */
  detail?: string;
  /** Virtual time at the end (simulator). */
  virtualNs?: number;
  /** The task table at the end (simulator). */
  tasks?: TaskSummary[];
  /** What had to be stopped after the run (processes a command left behind), when anything. */
  cleanup?: string;
}

/** A producer of console lines. Resolves when it ended or stopped on request. */
export type LineSource = (sink: LineSink) => Promise<SourceEnd>;

/** Options for {@link runLive}. */
export interface LiveOptions {
  /** Wall-clock limit in milliseconds. */
  timeoutMs: number;
  /** Aborting it cuts the run (Ctrl-C). */
  interrupt?: AbortSignal;
  /** Receives every line the source produced, in order, also those after a stop (logs, terminal). */
  tee?: (text: string, timeNs: number | undefined) => void;
  /** Wall clock in milliseconds (tests inject one). */
  clock?: () => number;
  /**
   * True when {@link tee} does nothing with lines (no log file, no echo, no progress line): a
   * source may then pass over lines the judge rules out without making strings of them.
   */
  teeIdle?: boolean;
}

/** How many stop polls pass between two reads of the wall clock (a poll is about one line). */
export const CLOCK_EVERY = 256;

/** Runs `source` under `judge` until it ends, the judge stops it, or the limits cut it. */
export async function runLive(
  source: LineSource,
  judge: Judge,
  opts: LiveOptions,
): Promise<Verdict> {
  const clock = opts.clock ?? (() => performance.now());
  const start = clock();
  const cut = new AbortController();
  let cutReason: "timeout" | "interrupted" | undefined;
  const cutRun = (why: "timeout" | "interrupted") => {
    if (cutReason === undefined && !judge.shouldStop) {
      cutReason = why;
      cut.abort(why);
    }
  };
  // The timer wakes sources blocked on input; the clock check in shouldStop catches sources
  // (the simulator) that keep the event loop too busy for timers to fire.
  const cancelTimer = wallTimer(opts.timeoutMs, () => cutRun("timeout"));
  const onInterrupt = () => cutRun("interrupted");
  opts.interrupt?.addEventListener("abort", onInterrupt);
  if (opts.interrupt?.aborted) onInterrupt();
  // The clock is read every CLOCK_EVERY polls, not on every line of a fast source.
  let polls = 0;
  const sink: LineSink = {
    onLine(text, timeNs) {
      if (cutReason === undefined) judge.feed(text, timeNs);
      opts.tee?.(text, timeNs);
    },
    shouldStop() {
      if (
        cutReason === undefined && !judge.shouldStop && ++polls % CLOCK_EVERY === 0 &&
        clock() - start >= opts.timeoutMs
      ) {
        cutRun("timeout");
      }
      return judge.shouldStop || cutReason !== undefined;
    },
    wantsTail: () => cutReason === undefined && judge.wantsTail,
    signal: cut.signal,
    quiet: () => (opts.teeIdle === true && cutReason === undefined ? judge.quiet() : undefined),
    skip(count, last) {
      judge.skip(count, last);
      // The clock is read as often as the one-by-one polls would read it.
      const before = polls;
      polls += count;
      if (
        Math.floor(before / CLOCK_EVERY) !== Math.floor(polls / CLOCK_EVERY) &&
        clock() - start >= opts.timeoutMs
      ) {
        cutRun("timeout");
      }
    },
  };
  let end: SourceEnd;
  try {
    end = await source(sink);
  } finally {
    cancelTimer();
    opts.interrupt?.removeEventListener("abort", onInterrupt);
  }
  const wallMs = clock() - start;
  if (cutReason !== undefined) {
    return judge.verdict({
      reason: cutReason,
      detail: cutReason === "timeout"
        ? `timeout after ${formatDuration(opts.timeoutMs)}`
        : "interrupted",
      virtualNs: end.virtualNs,
      tasks: end.tasks,
      wallMs,
      ...(end.cleanup !== undefined ? { cleanup: end.cleanup } : {}),
    });
  }
  return judge.verdict({ ...end, wallMs });
}

/**
 * Hands `lines` to `sink` one by one until the judge is done with the run (after the failure
 * tail it still wants); returns true once the source should stop reading.
 */
export function deliverLines(sink: LineSink, lines: Iterable<string>): boolean {
  for (const l of lines) {
    if (sink.shouldStop() && !sink.wantsTail()) return true;
    sink.onLine(l);
  }
  return sink.shouldStop() && !sink.wantsTail();
}

/**
 * A source reading lines from a byte stream (a log file, stdin). It stops reading once the judge
 * is done (after the failure tail), or when the run is cut.
 */
export function streamSource(stream: ReadableStream<Uint8Array>): LineSource {
  return async (sink) => {
    const reader = stream.getReader();
    const onCut = () => reader.cancel().catch(() => {});
    sink.signal.addEventListener("abort", onCut);
    const splitter = sink.quiet === undefined ? new LineSplitter() : new QuietReader(sink);
    const deliver = (lines: string[]) => deliverLines(sink, lines);
    try {
      while (!sink.signal.aborted) {
        const { value, done } = await reader.read();
        if (done) {
          deliver(splitter.flush());
          return { reason: "eof" };
        }
        if (deliver(splitter.push(value))) return { reason: "stopped" };
      }
      return { reason: "stopped" };
    } finally {
      sink.signal.removeEventListener("abort", onCut);
      await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  };
}

/** Decodes a line that starts the stream (a byte-order mark there is dropped, as TextDecoder does). */
const FIRST = new TextDecoder();
/** Decodes any later line (a byte-order mark there is a character). */
const LATER = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Splits a byte stream into lines exactly as {@link LineSplitter} does, but while the sink is
 * quiet (see {@link LineSink.quiet}) it looks at each line's bytes first and passes the lines the
 * judge's matcher rules out to {@link LineSink.skip} in bulk: only lines that may matter, and the
 * few last ones the judge keeps, become strings. Lines it hands over itself go to `onLine`; the
 * lines `push` returns are delivered by the caller as usual.
 */
class QuietReader {
  readonly #sink: LineSink;
  /** The unfinished line carried from the previous chunk. */
  #carry: Uint8Array = new Uint8Array(0);
  /** True until the first line was taken (its byte-order mark is dropped). */
  #atStart = true;
  /** Once a line ran past {@link MAX_LINE_CHARS} unfinished: the plain splitter takes over. */
  #plain: LineSplitter | undefined;

  constructor(sink: LineSink) {
    this.#sink = sink;
  }

  #decode(bytes: Uint8Array): string {
    const text = (this.#atStart ? FIRST : LATER).decode(bytes);
    this.#atStart = false;
    return text;
  }

  /** Takes a chunk; returns lines still to deliver (the rest went to the sink already). */
  push(chunk: Uint8Array): string[] {
    if (this.#plain !== undefined) return this.#plain.push(chunk);
    const out: string[] = [];
    let buf = chunk;
    let start = 0;
    if (this.#carry.length > 0) {
      // The carried line is finished on its own; the chunk's other lines are read in place.
      const nl = chunk.indexOf(10);
      const head = new Uint8Array(this.#carry.length + (nl < 0 ? chunk.length : nl + 1));
      head.set(this.#carry);
      head.set(nl < 0 ? chunk : chunk.subarray(0, nl + 1), this.#carry.length);
      if (nl < 0) buf = head;
      else {
        this.#lines(head, 0, head.length, out);
        start = nl + 1;
      }
    }
    const end = buf.lastIndexOf(10) + 1; // complete lines are buf[start, end)
    if (end > start) this.#lines(buf, start, end, out);
    this.#carry = buf.slice(Math.max(start, end));
    if (this.#carry.length > MAX_LINE_CHARS) {
      // A runaway line: the plain splitter cuts it as it always did (by characters).
      this.#plain = new LineSplitter(MAX_LINE_CHARS, { ignoreBOM: !this.#atStart });
      out.push(...this.#plain.push(this.#carry));
      this.#carry = new Uint8Array(0);
    }
    return out;
  }

  /** Ends the stream; returns the last line when it had no final newline. */
  flush(): string[] {
    if (this.#plain !== undefined) return this.#plain.flush();
    const rest = this.#carry;
    this.#carry = new Uint8Array(0);
    if (rest.length === 0) return [];
    // Decoded first: a lone byte-order mark is no line.
    const text = this.#decode(rest);
    if (text.length === 0) return [];
    return [text.endsWith("\r") ? text.slice(0, -1) : text];
  }

  /**
   * The complete lines `buf[start, end)`: skipped in bulk while quiet, handed over otherwise, or
   * appended to `out` for the caller to deliver (and once `out` holds any, all that follow are).
   */
  #lines(buf: Uint8Array, start: number, end: number, out: string[]): void {
    const sink = this.#sink;
    let pos = start;
    while (pos < end) {
      const quiet = out.length === 0 ? sink.quiet!() : undefined;
      if (quiet === undefined) {
        // Every line is wanted: decode the rest at once and split it, as the plain splitter does.
        const text = this.#decode(buf.subarray(pos, end));
        let from = 0;
        let nl: number;
        while ((nl = text.indexOf("\n", from)) >= 0) {
          out.push(text.slice(from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
          from = nl + 1;
        }
        return;
      }
      const { matcher, keep } = quiet;
      // The first line of the stream is always handed over (a byte-order mark may start it).
      const at = this.#atStart ? pos : matcher.passQuiet(buf, pos, end);
      const skipped = this.#atStart ? 0 : matcher.passedLines;
      if (skipped > 0) {
        // The last `keep` lines passed over, found backwards from where the pass stopped.
        const last: string[] = [];
        let lineEnd = at - 1; // the newline ending the last line passed over
        for (let k = Math.min(skipped, keep); k > 0; k--) {
          // (A negative start would make lastIndexOf search from the end.)
          const from = lineEnd > 0 ? buf.lastIndexOf(10, lineEnd - 1) + 1 : 0;
          const to = lineEnd > from && buf[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd;
          last.push(LATER.decode(buf.subarray(from, to)));
          lineEnd = from - 1;
        }
        sink.skip!(skipped, last.reverse());
      }
      pos = at;
      if (pos >= end) break;
      // This line may matter: it goes to the judge as a string, as every line did.
      if (sink.shouldStop() && !sink.wantsTail()) return;
      const nl = buf.indexOf(10, pos);
      sink.onLine(this.#decode(buf.subarray(pos, nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl)));
      pos = nl + 1;
    }
  }
}

/** A source replaying a fixed list of lines (with optional virtual times), for tests and replays. */
export function arraySource(lines: readonly (string | [string, number])[]): LineSource {
  return (sink) => {
    for (const l of lines) {
      if (sink.shouldStop() && !sink.wantsTail()) return Promise.resolve({ reason: "stopped" });
      if (typeof l === "string") sink.onLine(l);
      else sink.onLine(l[0], l[1]);
    }
    return Promise.resolve({ reason: "eof" });
  };
}
