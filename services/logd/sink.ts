/**
 * logd's storage: a bounded ring of audit records. Beyond the bound the oldest record goes and is
 * counted as dropped, so a chatty auditor can never exhaust logd's memory.
 *
 * @module
 */

import type { LogQueryResult, LogRecord } from "./protocol.ts";

/** Default number of records logd holds. */
export const DEFAULT_CAPACITY = 256;
/** Largest capacity a manifest may configure. */
export const MAX_CAPACITY = 65536;

/** A bounded, append-only record store with drop-oldest eviction. */
export class AuditSink {
  #ring: (LogRecord | undefined)[];
  #head = 0;
  #held = 0;
  #appended = 0;
  #dropped = 0;
  #rejected = 0;

  /** Creates a sink holding at most `capacity` records (1..{@link MAX_CAPACITY}). */
  constructor(readonly capacity: number = DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`capacity must be an integer in 1..${MAX_CAPACITY}, got ${capacity}`);
    }
    this.#ring = new Array(capacity);
  }

  /** Stores a record, evicting the oldest when full; returns its sequence number. */
  append(source: bigint, time: number, text: string): number {
    const seq = this.#appended++;
    const at = (this.#head + this.#held) % this.capacity;
    if (this.#held === this.capacity) {
      this.#head = (this.#head + 1) % this.capacity;
      this.#dropped++;
    } else {
      this.#held++;
    }
    this.#ring[at] = { seq, source, time, text };
    return seq;
  }

  /** Counts a refused frame. */
  reject(): void {
    this.#rejected++;
  }

  /** Records currently held. */
  get held(): number {
    return this.#held;
  }
  /** Records ever accepted. */
  get appended(): number {
    return this.#appended;
  }
  /** Records evicted by the bound. */
  get dropped(): number {
    return this.#dropped;
  }
  /** Frames refused. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Held records with `seq >= since`, oldest first, at most `limit`, plus the counters. */
  query(since: number, limit: number): LogQueryResult {
    const records: LogRecord[] = [];
    // Held records carry consecutive sequence numbers, so the first wanted one is found directly.
    const firstSeq = this.#appended - this.#held;
    for (let i = Math.max(0, since - firstSeq); i < this.#held && records.length < limit; i++) {
      records.push(this.#ring[(this.#head + i) % this.capacity]!);
    }
    return {
      held: this.#held,
      appended: this.#appended,
      dropped: this.#dropped,
      rejected: this.#rejected,
      records,
    };
  }
}
