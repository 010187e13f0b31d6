/**
 * The live runner: connects a line source (a simulated boot, a log stream, a child process) to a
 * {@link Judge}, enforces the wall-clock timeout, and returns the verdict. Sources push lines
 * into a {@link LineSink} and poll it to learn when to stop, so the same judging drives every
 * source.
 *
 * @module
 */

import { formatDuration } from "./duration.ts";
import type { Judge } from "./judge.ts";
import { LineSplitter } from "./lines.ts";
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
  const timer = setTimeout(() => cutRun("timeout"), opts.timeoutMs);
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
  };
  let end: SourceEnd;
  try {
    end = await source(sink);
  } finally {
    clearTimeout(timer);
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
    const splitter = new LineSplitter();
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
