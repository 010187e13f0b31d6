/**
 * The engine's typed error. Codes match statefsd's wire statuses (the `SF` frames of services/statefsd/protocol.ts) so a
 * server can map them one to one.
 *
 * @module
 */

/** Stable StateFS error codes. */
export type StateFsErrorCode =
  | "NOT_FOUND"
  | "VALUE_TOO_LARGE"
  | "KEY_TOO_LONG"
  | "INVALID_KEY"
  | "IO_ERROR"
  | "NO_SPACE"
  | "CORRUPT";

/** A StateFS failure with a stable `code`. */
export class StateFsError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: StateFsErrorCode, message: string) {
    super(message);
    this.name = "StateFsError";
  }
}
