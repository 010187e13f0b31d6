/**
 * One judged run with everything around it: console lines streamed to the terminal and to
 * `<log-dir>/uart.log`, the progress line, the wall-clock limit, Ctrl-C, and the reports
 * (`summary.json`, JUnit XML) and verdict at the end. `nexus boot` and `nexus scan` both run
 * through it, so their rules, verdicts and exit codes are the same.
 *
 * @module
 */

import { Judge } from "./judge.ts";
import type { Requirement } from "./ladder.ts";
import { type LineSource, runLive } from "./live.ts";
import {
  checkWritable,
  LineFile,
  replaceWithError,
  reportPaths,
  withRunInfo,
  writeJunit,
  writeSummary,
} from "./reports.ts";
import type { Terminal } from "./terminal.ts";
import type { RunInfo, Verdict } from "./verdict.ts";

/** Signals that end a run in order: the source is stopped (a command: its group) and reported. */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Options for {@link runSession}. */
export interface SessionOptions {
  /** What the run must show. */
  requirement: Requirement;
  /** Where the lines come from. */
  source: LineSource;
  /** Wall-clock limit in milliseconds. */
  timeoutMs: number;
  /** Terminal output. */
  terminal: Terminal;
  /** Print the verdict as one JSON object. */
  json: boolean;
  /** Write JUnit XML here. */
  junitPath?: string;
  /** Write uart.log and summary.json here. */
  logDir?: string;
  /**
   * Turn SIGINT, SIGTERM and SIGHUP into an orderly stop (the source is stopped, reports are written). For sources
   * that keep the event loop turning (streams, commands); a busy simulator would never see it.
   */
  catchInterrupt?: boolean;
  /** The nexus version reports carry. */
  nexusVersion?: string;
  /** What the run was asked to do, carried by the reports. */
  run?: RunInfo;
}

/** Runs one judged session and returns its verdict (already printed and written). */
export async function runSession(opts: SessionOptions): Promise<Verdict> {
  const judge = new Judge(opts.requirement);
  if (opts.junitPath !== undefined) checkWritable(opts.junitPath);
  if (opts.logDir !== undefined) checkWritable(reportPaths(opts.logDir).summary);
  // uart.log is replaced only once this run has a line to put there: a run that cannot start
  // leaves the last run's console alone.
  const uartPath = opts.logDir !== undefined ? reportPaths(opts.logDir).uart : null;
  let uart: LineFile | null = null;
  const openUart = () => {
    if (uart === null && uartPath !== null) uart = LineFile.create(uartPath);
    return uart;
  };
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  if (opts.catchInterrupt) {
    for (const sig of STOP_SIGNALS) {
      Deno.addSignalListener(sig, onSignal);
    }
  }
  let verdict: Verdict;
  // The progress line is worked out per line only when a terminal shows it.
  const showsProgress = opts.terminal.showsProgress;
  try {
    verdict = await runLive(opts.source, judge, {
      timeoutMs: opts.timeoutMs,
      interrupt: interrupt.signal,
      tee: (text, timeNs) => {
        openUart()?.writeLine(text);
        opts.terminal.line(text, timeNs);
        if (showsProgress) opts.terminal.progress(judge.progress());
      },
      teeIdle: uartPath === null && !opts.terminal.takesLines,
    });
    openUart();
  } catch (err) {
    // The run could not go on (an unusable image, say): no earlier verdict may stand for it.
    replaceWithError({
      logDir: opts.logDir,
      junitPath: opts.junitPath,
      error: err instanceof Error ? err.message : String(err),
      nexusVersion: opts.nexusVersion ?? "unknown",
      run: opts.run ?? null,
    });
    throw err;
  } finally {
    if (opts.catchInterrupt) {
      for (const sig of STOP_SIGNALS) Deno.removeSignalListener(sig, onSignal);
    }
    (uart as LineFile | null)?.close();
    opts.terminal.clearProgress();
  }
  verdict = withRunInfo(verdict, opts.nexusVersion ?? "unknown", opts.run);
  if (opts.logDir !== undefined) writeSummary(opts.logDir, verdict);
  if (opts.junitPath !== undefined) writeJunit(opts.junitPath, verdict);
  opts.terminal.verdict(verdict, opts.json);
  return verdict;
}
