/**
 * Problems found in a system manifest, by the loader (shape, types, unknown keys) and by the
 * validator (wiring against the services' declared needs). Each carries a stable code, the service
 * and slot concerned, a fix hint and, where known, the manifest line.
 *
 * @module
 */

import { slotHex } from "../core/kernel/slot_check.ts";

/** Stable problem codes. */
export type DiagnosticCode =
  // shape (loader)
  | "UNKNOWN_KEY"
  | "BAD_VALUE"
  | "MISSING_KEY"
  | "DUPLICATE_NAME"
  // wiring (validator)
  | "UNKNOWN_MODULE"
  | "MODULE_NAME_MISMATCH"
  | "MISSING_SLOT"
  | "DUPLICATE_SLOT"
  | "RESERVED_SLOT"
  | "WRONG_KIND"
  | "WRONG_RIGHTS"
  | "EXCESS_RIGHTS"
  | "UNKNOWN_TARGET"
  | "WRONG_TARGET"
  | "MMIO_NOT_GRANTED"
  | "UNKNOWN_OWNER"
  | "NO_RECEIVER"
  | "UNUSED_ENDPOINT"
  | "UNUSED_SLOT"
  | "UNKNOWN_SUBJECT"
  | "ROUTE_NOT_GRANTED"
  | "GRANT_MISSING"
  | "GRANT_WITHOUT_SLOT"
  | "SYNC_CYCLE";

/** One problem. */
export interface Diagnostic {
  /** Errors make the manifest invalid; warnings do not. */
  severity: "error" | "warning";
  /** Stable problem code. */
  code: DiagnosticCode;
  /** Service the problem concerns (`init` for init's own table). */
  service?: string;
  /** Slot name concerned. */
  slot?: string;
  /** Slot number concerned. */
  slotNumber?: number;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  hint: string;
  /** Manifest file. */
  file: string;
  /** 1-based line in the manifest, where known. */
  line?: number;
}

/** `file:line` (or just the file) for a diagnostic. */
export function diagnosticWhere(d: Diagnostic): string {
  return d.line === undefined ? d.file : `${d.file}:${d.line}`;
}

/** `statefsd slot reply (0x04)`-style subject of a diagnostic, or the empty string. */
export function diagnosticSubject(d: Diagnostic): string {
  if (d.service === undefined) return "";
  if (d.slot === undefined) return d.service;
  const num = d.slotNumber === undefined ? "" : ` (${slotHex(d.slotNumber)})`;
  return `${d.service} slot ${d.slot}${num}`;
}

/** Two lines: `file:line: error CODE subject: message` and an indented `fix:` hint. */
export function formatDiagnostic(d: Diagnostic): string {
  const subject = diagnosticSubject(d);
  const head = `${diagnosticWhere(d)}: ${d.severity} ${d.code}${
    subject ? ` ${subject}` : ""
  }: ${d.message}`;
  return `${head}\n    fix: ${d.hint}`;
}
