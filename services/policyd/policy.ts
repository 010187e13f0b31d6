/**
 * policyd's decisions: deny-by-default grants keyed on service identity, the requester-spoof rule,
 * and the audit record of every decision.
 *
 * @module
 */

import { fnv1a64 } from "../../core/kernel/fnv.ts";
import { utf8 } from "../../core/kernel/frame.ts";
import {
  PO_ALLOW,
  PO_DENY,
  PO_MALFORMED,
  PO_OP_CHECK,
  PO_OP_CHECK_CAP,
  PO_OP_ROUTE,
  PO_UNSUPPORTED,
  type PolicyRequest,
  ROUTE_GRANT_PREFIX,
} from "./protocol.ts";

/** The identity allowed to ask about any subject (CHECK_CAP and ROUTE). */
export const INIT_SERVICE = "init";
/**
 * The grant that lets a service ask CHECK_CAP about its own clients: statefsd decides each
 * request by asking "may <sender of this request> hold <cap>?". The trust is declared in the
 * manifest like every other grant; without it a foreign subject is a requester spoof.
 */
export const DELEGATE_GRANT = "policy.delegate";

/** One manifest `[[policy.grant]]` entry, as policyd receives it in `env.config.grants`. */
export interface Grant {
  /** Service name the grant is for. */
  subject: string;
  /** Capability strings granted (`statefs.read`, `route:bundlemgrd`, ...). */
  caps: string[];
}

/** A grants list that does not have the expected shape. */
export class GrantsError extends Error {
  /** Creates an error naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "GrantsError";
  }
}

function isNonEmptyString(v: unknown, maxBytes = 0xff): v is string {
  return typeof v === "string" && v.length > 0 && utf8(v).length <= maxBytes;
}

/**
 * Validates `config.grants` (absent means no grants: everything is denied). Throws
 * {@link GrantsError} naming the first bad entry.
 */
export function parseGrants(value: unknown): Grant[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new GrantsError("grants must be a list");
  return value.map((entry, i) => {
    if (typeof entry !== "object" || entry === null) {
      throw new GrantsError(`grant ${i} must be a table`);
    }
    const { subject, caps } = entry as Record<string, unknown>;
    if (!isNonEmptyString(subject)) {
      throw new GrantsError(`grant ${i}: subject must be a service name`);
    }
    if (!Array.isArray(caps) || !caps.every((c) => isNonEmptyString(c))) {
      throw new GrantsError(`grant ${i} (${subject}): caps must be a list of 1..255-byte strings`);
    }
    return { subject, caps: [...caps] as string[] };
  });
}

/** What policyd decided about one request. */
export interface Decision {
  /** Op answered. */
  op: number;
  /** PO_* status answered. */
  status: number;
  /** Why, for the audit record. */
  reason: "granted" | "not-granted" | "requester-spoof" | "malformed" | "unsupported";
  /** Subject asked about (the sender for CHECK); absent for refused frames. */
  subject?: bigint;
  /** Capability asked about (`route:<name>` for ROUTE). */
  cap?: string;
}

const OP_NAMES: Record<number, string> = {
  [PO_OP_CHECK]: "check",
  [PO_OP_ROUTE]: "route",
  [PO_OP_CHECK_CAP]: "check_cap",
};

/** Deny-by-default grants, keyed on identity. */
export class Policy {
  #grants = new Map<bigint, Set<string>>();
  #names = new Map<bigint, string>([[fnv1a64(INIT_SERVICE), INIT_SERVICE]]);
  readonly #initId = fnv1a64(INIT_SERVICE);

  /** Builds the table; several entries for one subject add up. */
  constructor(grants: readonly Grant[]) {
    for (const g of grants) {
      const id = fnv1a64(g.subject);
      this.#names.set(id, g.subject);
      let caps = this.#grants.get(id);
      if (caps === undefined) this.#grants.set(id, caps = new Set());
      for (const c of g.caps) caps.add(c);
    }
  }

  /** True when `subject` was granted `cap`. */
  allows(subject: bigint, cap: string): boolean {
    return this.#grants.get(subject)?.has(cap) ?? false;
  }

  /** Decides a decoded request from `sender` (the kernel-reported identity). */
  decide(sender: bigint, req: PolicyRequest): Decision {
    switch (req.kind) {
      case "error":
        return {
          op: req.op,
          status: req.status,
          reason: req.status === PO_MALFORMED ? "malformed" : "unsupported",
        };
      case "check":
        return this.#grant(PO_OP_CHECK, sender, req.cap);
      case "check_cap":
      case "route": {
        const op = req.kind === "route" ? PO_OP_ROUTE : PO_OP_CHECK_CAP;
        const cap = req.kind === "route" ? ROUTE_GRANT_PREFIX + req.name : req.cap;
        if (req.subject !== sender && !this.#mayAskFor(sender, op)) {
          return { op, status: PO_DENY, reason: "requester-spoof", subject: req.subject, cap };
        }
        return this.#grant(op, req.subject, cap);
      }
    }
  }

  /** init may ask about anyone; a delegate only CHECK_CAP (ROUTE is init's alone). */
  #mayAskFor(sender: bigint, op: number): boolean {
    if (sender === this.#initId) return true;
    return op === PO_OP_CHECK_CAP && this.allows(sender, DELEGATE_GRANT);
  }

  #grant(op: number, subject: bigint, cap: string): Decision {
    const ok = this.allows(subject, cap);
    return {
      op,
      status: ok ? PO_ALLOW : PO_DENY,
      reason: ok ? "granted" : "not-granted",
      subject,
      cap,
    };
  }

  /** A service name for `id` when the grants (or init) name it, else `0x` + 16 hex digits. */
  nameOf(id: bigint): string {
    return this.#names.get(id) ?? `0x${id.toString(16).padStart(16, "0")}`;
  }

  /**
   * The audit record of a decision: `decision=<allow|deny|malformed|unsupported> op=<op>
   * sender=<svc> [subject=<svc> cap=<cap>] reason=<why>`.
   */
  auditText(sender: bigint, d: Decision): string {
    const decision = d.status === PO_ALLOW
      ? "allow"
      : d.status === PO_DENY
      ? "deny"
      : d.status === PO_UNSUPPORTED
      ? "unsupported"
      : "malformed";
    const op = OP_NAMES[d.op] ?? `0x${d.op.toString(16).padStart(2, "0")}`;
    const parts = [`decision=${decision}`, `op=${op}`, `sender=${this.nameOf(sender)}`];
    if (d.subject !== undefined) parts.push(`subject=${this.nameOf(d.subject)}`);
    if (d.cap !== undefined) parts.push(`cap=${d.cap}`);
    parts.push(`reason=${d.reason}`);
    return parts.join(" ");
  }
}
