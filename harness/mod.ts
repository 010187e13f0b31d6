/**
 * The harness: marker ladders, the judge, verdict renderings (text, JSON, JUnit XML), the live
 * runner and its line sources (streams, child processes), and the run options with their
 * environment aliases. `nexus boot` and `nexus scan` are thin layers over it.
 *
 * @example Judge console lines against the default ladder
 * ```ts
 * import { defaultLadderPath, Judge, loadLadder, renderText, selectRequirement } from "./mod.ts";
 *
 * const ladder = await loadLadder(defaultLadderPath());
 * const judge = new Judge(selectRequirement(ladder, { phase: "bring-up" }));
 * for (const line of ["init: start", "init: ready"]) if (judge.feed(line)) break;
 * console.log(renderText(judge.verdict({ reason: "eof", wallMs: 0 })));
 * ```
 *
 * @module
 */

export { HarnessError, type HarnessErrorCode } from "./errors.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export {
  ALL_PHASES,
  checkUntilMarker,
  DEFAULT_FAILURE_SIGNATURES,
  DEFAULT_PHASES,
  defaultLadderPath,
  entryLabel,
  type Ladder,
  ladderDir,
  type LadderEntry,
  ladderNames,
  loadLadder,
  loadNamedLadder,
  MAX_UNTIL_MARKER_CHARS,
  parseLadder,
  type RequiredEntry,
  type Requirement,
  type SelectOptions,
  selectRequirement,
  SERVICE_PLACEHOLDER,
  UNKNOWN_PHASE,
} from "./ladder.ts";
export { FixedMatcher } from "./matcher.ts";
export { Judge, type JudgeLimits, type RunEnd, sanitizeLine, type StopCause } from "./judge.ts";
export {
  ANSI,
  describeTask,
  type EndReason,
  endText,
  type Excerpt,
  type ExcerptLine,
  type FailureLine,
  formatVirtual,
  formatWall,
  type LayoutPartition,
  type OrderViolation,
  PLAIN,
  renderJson,
  renderText,
  type RunInfo,
  type TaskSummary,
  type TextStyle,
  type Verdict,
  type VerdictEntry,
} from "./verdict.ts";

export { escapeXml, isXmlChar, renderJunit, renderJunitError } from "./junit.ts";
export { fileStream, LineSplitter, MAX_LINE_CHARS, splitLines } from "./lines.ts";
export {
  arraySource,
  type LineSink,
  type LineSource,
  type LiveOptions,
  runLive,
  type SourceEnd,
  streamSource,
} from "./live.ts";
export { type ChildOptions, childSource, processRunning } from "./child.ts";
export {
  DEFAULT_TIMEOUT_MS,
  ENV_ALIASES,
  type EnvReader,
  MAX_TIMEOUT_MS,
  parsePositiveInt,
  resolveRunOptions,
  type RunFlags,
  type RunOptions,
} from "./options.ts";
export {
  checkWritable,
  type ErrorReport,
  type ErrorReportOptions,
  LineFile,
  progressLine,
  replaceWithError,
  REPORT_SCHEMA_VERSION,
  reportPaths,
  withRunInfo,
  writeJunit,
  writeSummary,
  writeTextFileOrReport,
} from "./reports.ts";
export { type OutStream, Terminal, type TerminalOptions, timeStamp } from "./terminal.ts";
export { runSession, type SessionOptions, STOP_SIGNALS } from "./session.ts";
export {
  DEFAULT_IMAGE_PATH,
  type ImageAction,
  type ImageLease,
  type ImagePlan,
  leaseImage,
  lockImage,
  lockPathOf,
  type MakeImage,
  type PathKind,
  pathKind,
  planImage,
} from "./image_plan.ts";
export { TraceFile } from "./trace.ts";
