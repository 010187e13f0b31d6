/**
 * The durability oracle: given the logical operations a store was asked to do (with whether each
 * was acknowledged), the state before them and the state read back after a crash, decides whether
 * the crash kept the promises of the StateFS contract:
 *
 * - every operation acknowledged before the last acknowledged sync is present with its value;
 * - after that sync, the state is that after some prefix of the later operations (an operation
 *   with no reply yet, or one that failed with an I/O error, may or may not have taken effect);
 * - so no batch is half visible and no value appears that was never written.
 *
 * When the state is not explained, {@link explain} names the keys at fault.
 *
 * @example
 * ```ts
 * import { checkCrashState } from "./oracle.ts";
 * const ops = [{ kind: "put", key: "/state/a", value: new Uint8Array([1]), ack: "ok" } as const,
 *   { kind: "sync", ack: "ok" } as const];
 * checkCrashState(new Map(), ops, new Map([["/state/a", new Uint8Array([1])]])); // { ok: true }
 * ```
 *
 * @module
 */

import { stateKey, type StoreState, valueDigest } from "./medium.ts";

/** How an operation ended as far as its caller knows. */
export type Ack =
  /** acknowledged OK */
  | "ok"
  /** refused before anything was written (access denied, bad key, too large): no effect */
  | "refused"
  /** failed with an I/O error, or no reply before the crash: may or may not have taken effect */
  | "maybe";

/** One logical operation on the store. */
export type LoggedOp =
  | { kind: "put"; key: string; value: Uint8Array; ack: Ack }
  | { kind: "delete"; key: string; ack: Ack }
  | {
    kind: "batch";
    ops: Array<{ op: "put"; key: string; value: Uint8Array } | { op: "delete"; key: string }>;
    abort: boolean;
    ack: Ack;
  }
  | { kind: "sync"; ack: Ack };

/** The oracle's answer. */
export type OracleResult = { ok: true } | { ok: false; problems: string[] };

/** Most distinct candidate states kept while branching on uncertain operations. */
const MAX_CANDIDATES = 256;

function applyOp(s: StoreState, op: LoggedOp): StoreState {
  if (op.kind === "sync") return s;
  const out = new Map(s);
  if (op.kind === "put") out.set(op.key, op.value);
  else if (op.kind === "delete") out.delete(op.key);
  else if (!op.abort) {
    for (const b of op.ops) b.op === "put" ? out.set(b.key, b.value) : out.delete(b.key);
  }
  return out;
}

function addAll(into: Map<string, StoreState>, states: Iterable<StoreState>): void {
  for (const s of states) {
    if (into.size >= MAX_CANDIDATES) return;
    const k = stateKey(s);
    if (!into.has(k)) into.set(k, s);
  }
}

/** Index of the last acknowledged sync, or -1. */
export function lastSync(ops: readonly LoggedOp[]): number {
  for (let i = ops.length - 1; i >= 0; i--) {
    if (ops[i].kind === "sync" && ops[i].ack === "ok") return i;
  }
  return -1;
}

/**
 * Whether `after` is a state the contract allows after a crash following `ops`: the state after
 * every operation up to the last acknowledged sync and then some prefix of the rest, where an
 * uncertain operation may be skipped (candidates are bounded when many are uncertain).
 */
export function explains(
  initial: StoreState,
  ops: readonly LoggedOp[],
  after: StoreState,
): boolean {
  const target = stateKey(after);
  const barrier = lastSync(ops);
  let live = new Map<string, StoreState>([[stateKey(initial), initial]]);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.ack === "refused" || op.kind === "sync") continue;
    if (i > barrier && live.has(target)) return true;
    const next = new Map<string, StoreState>();
    if (op.ack === "maybe") addAll(next, live.values());
    addAll(next, [...live.values()].map((s) => applyOp(s, op)));
    live = next;
  }
  return live.has(target);
}

/** Checks the state read back after a crash against the operations and the state before them. */
export function checkCrashState(
  initial: StoreState,
  ops: readonly LoggedOp[],
  after: StoreState,
): OracleResult {
  if (explains(initial, ops, after)) return { ok: true };
  return { ok: false, problems: explain(initial, ops, after) };
}

/** Names what is wrong with a state no prefix explains, key by key. */
export function explain(
  initial: StoreState,
  ops: readonly LoggedOp[],
  after: StoreState,
): string[] {
  const barrier = lastSync(ops);
  // The state every acknowledged operation up to the last sync must have left (uncertain
  // operations before it are taken as applied when the state shows them).
  let required: StoreState = initial;
  const written = new Map<string, Set<string>>();
  const note = (k: string, v: Uint8Array | undefined) => {
    if (!written.has(k)) written.set(k, new Set());
    written.get(k)!.add(valueDigest(v));
  };
  for (const [k, v] of initial) note(k, v);
  const touchedLater = new Set<string>();
  ops.forEach((op, i) => {
    if (op.ack === "refused" || op.kind === "sync") return;
    const keys = op.kind === "batch" ? op.ops.map((b) => b.key) : [op.key];
    if (op.kind === "put") note(op.key, op.value);
    if (op.kind === "delete") note(op.key, undefined);
    if (op.kind === "batch") {
      for (const b of op.ops) note(b.key, b.op === "put" ? b.value : undefined);
    }
    if (i > barrier || op.ack === "maybe") keys.forEach((k) => touchedLater.add(k));
    else required = applyOp(required, op);
  });
  const problems: string[] = [];
  for (const [k, v] of after) {
    if (!written.get(k)?.has(valueDigest(v))) {
      problems.push(`${k} holds a value never written (${valueDigest(v)})`);
    }
  }
  for (const [k, v] of required) {
    if (touchedLater.has(k)) continue;
    const got = after.get(k);
    if (valueDigest(got) !== valueDigest(v)) {
      problems.push(
        `${k} acknowledged before the last sync as ${valueDigest(v)}, read back ${
          valueDigest(got)
        }`,
      );
    }
  }
  for (const k of after.keys()) {
    if (
      !required.has(k) && !touchedLater.has(k) && written.get(k)?.has(valueDigest(after.get(k)))
    ) {
      problems.push(`${k} deleted before the last sync, read back ${valueDigest(after.get(k))}`);
    }
  }
  if (problems.length === 0) {
    problems.push("no prefix of the operations explains the state (a batch half visible?)");
  }
  return problems;
}
