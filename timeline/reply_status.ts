/**
 * A reply's status from the head bytes the trace keeps of it (`head` on IPC events). Every
 * protocol puts the status right after the 4-byte header (magic, version, op), except statefsd's
 * v2 frames, which put the request's nonce (u64) first (docs/protocols.md). 0 is OK everywhere.
 *
 * @example
 * ```ts
 * import { replyStatus } from "./reply_status.ts";
 * replyStatus("53460182" + "03"); // 3: an SF v1 reply with status 3
 * ```
 *
 * @module
 */

import { SF_MAGIC, SF_V2 } from "../services/statefsd/protocol.ts";

const SF_A = SF_MAGIC.charCodeAt(0);
const SF_B = SF_MAGIC.charCodeAt(1);
/** The header every frame starts with: two magic bytes, version, op. */
const HEADER_BYTES = 4;
/** An SF v2 reply's nonce, between the header and the status. */
const SF_NONCE_BYTES = 8;

/** The status byte of the reply whose first bytes are `head` (hex), or undefined when too short. */
export function replyStatus(head: string | undefined): number | undefined {
  if (head === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromHex(head);
  } catch {
    return undefined;
  }
  if (bytes.length <= HEADER_BYTES) return undefined;
  const at = bytes[0] === SF_A && bytes[1] === SF_B && bytes[2] === SF_V2
    ? HEADER_BYTES + SF_NONCE_BYTES
    : HEADER_BYTES;
  return at < bytes.length ? bytes[at] : undefined;
}

/** ` status 0xNN` for a reply that is not OK, else "". */
export function failedStatusText(status: number | undefined): string {
  return status === undefined || status === 0
    ? ""
    : ` status 0x${status.toString(16).padStart(2, "0")}`;
}
