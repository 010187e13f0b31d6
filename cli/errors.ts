/**
 * CLI error values and exit codes. Every user-caused failure becomes one line on stderr and a
 * documented exit code; stack traces are reserved for bugs.
 *
 * Exit codes: 0 success; 1 verification failure (failed check, repairable problem, boot FAIL);
 * 2 usage, configuration or unusable input.
 *
 * @module
 */

/** Success. */
export const EXIT_OK = 0;
/** A check ran and found problems (boot FAIL, fsck repaired/repairable, slots invalid). */
export const EXIT_FAIL = 1;
/** Usage error, configuration error, or unusable input. */
export const EXIT_USAGE = 2;

/** An error the user caused; the CLI prints `nexus: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  /** Creates an error that ends the command with `exitCode` (default 2). */
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = "CliError";
  }
}
