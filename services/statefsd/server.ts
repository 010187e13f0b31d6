/**
 * statefsd's request handling: decodes `SF` frames, authorises each key by its prefix rule
 * (access.ts), runs the StateFS engine and encodes the reply. main.ts binds it to the disk,
 * policyd and logd; tests bind it to fakes.
 *
 * @module
 */

import { type StateFs, StateFsError } from "../../core/statefs/mod.ts";
import { type AccessRule, accessRule, listRule, ruleId } from "./access.ts";
import {
  type BatchEntry,
  decodeRequest,
  encodeGetReply,
  encodeListReply,
  encodeStatsReply,
  encodeStatusReply,
  SF_ACCESS_DENIED,
  SF_INVALID_KEY,
  SF_IO_ERROR,
  SF_KEY_TOO_LONG,
  SF_NOT_FOUND,
  SF_OK,
  SF_OP_BATCH,
  SF_OP_DELETE,
  SF_OP_GET,
  SF_OP_LIST,
  SF_OP_PUT,
  SF_OP_REOPEN,
  SF_OP_STATS,
  SF_OP_SYNC,
  SF_VALUE_TOO_LARGE,
  type SfEnvelope,
  type SfRequestBody,
} from "./protocol.ts";

/** Most keys a LIST returns when its limit is 0 (a reply frame usually fills up first). */
const DEFAULT_LIST_LIMIT = 0xffff;

/** Decides access and records denials. */
export interface Authorizer {
  /** True when `sender` satisfies `rule`. A failure to decide must resolve to false. */
  allows(sender: bigint, rule: AccessRule): Promise<boolean>;
  /** A printable name for `sender`. */
  nameOf(sender: bigint): string;
  /** Records an audit line (fire-and-forget). */
  audit(text: string): Promise<void>;
}

const OP_NAMES: Record<number, string> = {
  [SF_OP_PUT]: "put",
  [SF_OP_GET]: "get",
  [SF_OP_DELETE]: "delete",
  [SF_OP_LIST]: "list",
  [SF_OP_BATCH]: "batch",
};

/** Maps an engine error to a wire status. */
export function statusOf(err: StateFsError): number {
  switch (err.code) {
    case "NOT_FOUND":
      return SF_NOT_FOUND;
    case "VALUE_TOO_LARGE":
      return SF_VALUE_TOO_LARGE;
    case "KEY_TOO_LONG":
      return SF_KEY_TOO_LONG;
    case "INVALID_KEY":
      return SF_INVALID_KEY;
    default:
      // IO_ERROR, NO_SPACE, CORRUPT: the store could not do it.
      return SF_IO_ERROR;
  }
}

/** Per-request cache of decisions, so one LIST or BATCH asks policyd once per rule. */
class Decisions {
  #cache = new Map<string, Promise<boolean>>();
  constructor(readonly auth: Authorizer, readonly sender: bigint) {}
  allows(rule: AccessRule): Promise<boolean> {
    const id = ruleId(rule);
    let p = this.#cache.get(id);
    if (p === undefined) this.#cache.set(id, p = this.auth.allows(this.sender, rule));
    return p;
  }
}

/** The statefsd request handler over one open engine. */
export class StatefsServer {
  #gets = 0;
  #unsynced = 0;

  /**
   * A server over `fs`, authorising with `auth` and printing through `print`; `sectorsRead`
   * reports how many sectors were read from the disk under `fs` (STATS carries it).
   */
  constructor(
    public fs: StateFs,
    readonly auth: Authorizer,
    readonly print: (line: string) => void,
    readonly sectorsRead: () => number = () => 0,
  ) {}

  /** Marks everything acknowledged so far as durable (a compaction syncs the whole state). */
  synced(): void {
    this.#unsynced = 0;
  }

  async #deny(op: number, path: string, sender: bigint): Promise<void> {
    const name = this.auth.nameOf(sender);
    this.print(`statefsd: access denied path=${path} sender=${name}`);
    await this.auth.audit(`statefsd deny op=${OP_NAMES[op] ?? op} path=${path} sender=${name}`);
  }

  /** The first key of `keys` that `d` refuses under its write rule, or null. */
  async #firstDenied(d: Decisions, keys: string[], write: boolean): Promise<string | null> {
    for (const key of keys) {
      if (!(await d.allows(accessRule(key, write)))) return key;
    }
    return null;
  }

  async #run(env: SfEnvelope, body: SfRequestBody, sender: bigint): Promise<Uint8Array> {
    const d = new Decisions(this.auth, sender);
    const denied = async (path: string) => {
      await this.#deny(body.op, path, sender);
      return encodeStatusReply(env, body.op, SF_ACCESS_DENIED);
    };
    switch (body.op) {
      case SF_OP_PUT: {
        if (!(await d.allows(accessRule(body.key, true)))) return denied(body.key);
        await this.fs.put(body.key, body.value);
        this.#unsynced++;
        return encodeStatusReply(env, body.op, SF_OK);
      }
      case SF_OP_GET: {
        if (!(await d.allows(accessRule(body.key, false)))) return denied(body.key);
        const value = await this.fs.get(body.key);
        this.#gets++;
        if (value === undefined) return encodeStatusReply(env, body.op, SF_NOT_FOUND);
        return encodeGetReply(env, value);
      }
      case SF_OP_DELETE: {
        if (!(await d.allows(accessRule(body.key, true)))) return denied(body.key);
        await this.fs.delete(body.key);
        this.#unsynced++;
        return encodeStatusReply(env, body.op, SF_OK);
      }
      case SF_OP_LIST: {
        if (!(await d.allows(listRule(body.prefix)))) return denied(body.prefix);
        const limit = body.limit === 0 ? DEFAULT_LIST_LIMIT : body.limit;
        const keys: string[] = [];
        // Keys in a guarded namespace the sender may not read are left out, not refused.
        for (const key of this.fs.list(body.prefix, DEFAULT_LIST_LIMIT)) {
          if (keys.length >= limit) break;
          if (await d.allows(accessRule(key, false))) keys.push(key);
        }
        return encodeListReply(env, keys);
      }
      case SF_OP_BATCH: {
        const path = await this.#firstDenied(d, body.entries.map((e) => e.key), true);
        if (path !== null) return denied(path);
        await this.fs.batch(body.entries.map(toBatchOp), { abort: body.abort });
        if (!body.abort) this.#unsynced++;
        return encodeStatusReply(env, body.op, SF_OK);
      }
      case SF_OP_SYNC:
        await this.fs.sync();
        this.#unsynced = 0;
        return encodeStatusReply(env, body.op, SF_OK);
      case SF_OP_STATS: {
        const st = this.fs.stats();
        return encodeStatsReply(env, {
          generation: st.generation,
          liveKeys: st.liveKeys,
          records: st.records,
          bytesUsed: st.bytesUsed,
          regionBytes: st.regionBlocks * 512,
          compactions: st.compactions,
          counters: { gets: this.#gets, unsynced: this.#unsynced, sectorsRead: this.sectorsRead() },
        });
      }
      case SF_OP_REOPEN:
        // A reopen writes what is pending but does not flush the disk's cache: no durability.
        await this.fs.reopen();
        this.print(`statefsd: reopened (${this.fs.stats().liveKeys} keys replayed)`);
        return encodeStatusReply(env, body.op, SF_OK);
    }
  }

  /** Answers one request frame from `sender` (the kernel-reported identity). */
  async handle(frame: Uint8Array, sender: bigint): Promise<Uint8Array> {
    const req = decodeRequest(frame);
    if (req.kind === "error") return encodeStatusReply(req, req.op, req.status);
    try {
      return await this.#run(req, req.body, sender);
    } catch (err) {
      if (err instanceof StateFsError) {
        if (statusOf(err) === SF_IO_ERROR) {
          this.print(`statefsd: store error (${err.code}: ${err.message})`);
        }
        return encodeStatusReply(req, req.body.op, statusOf(err));
      }
      throw err;
    }
  }
}

function toBatchOp(e: BatchEntry) {
  return e.kind === "put"
    ? { op: "put" as const, key: e.key, value: e.value }
    : { op: "delete" as const, key: e.key };
}
