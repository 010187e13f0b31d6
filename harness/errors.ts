/**
 * The harness's typed error: every configuration or usage problem it detects (bad ladder file,
 * unknown phase, marker not in the ladder, bad duration, bad environment value) carries a stable
 * code. The CLI turns it into one line and exit code 2.
 *
 * @module
 */

/** Stable codes of {@link HarnessError}. */
export type HarnessErrorCode =
  | "LADDER_UNREADABLE"
  | "LADDER_INVALID"
  | "UNKNOWN_PHASE"
  | "UNKNOWN_MARKER"
  | "BAD_DURATION"
  | "BAD_ENV"
  | "BAD_OPTION"
  | "SPAWN_FAILED"
  | "REPORT_UNWRITABLE";

/** A usage or configuration error found by the harness. */
export class HarnessError extends Error {
  /** Creates an error with a stable `code` and a one-line message. */
  constructor(readonly code: HarnessErrorCode, message: string) {
    super(message);
    this.name = "HarnessError";
  }
}
