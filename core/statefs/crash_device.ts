/**
 * A memory block device that remembers every block write and flush, so tests can materialise
 * any disk a power cut could leave under the crash model of {@link ./block_device.ts}: a block
 * write is atomic; writes issued since the last completed `sync()` persist in any subset, in any
 * order.
 *
 * Multi-block writes are recorded as one event per block (the atomic unit), each tagged with the
 * request it belongs to, so a test can also choose whole requests (what a cut that reorders but
 * does not tear leaves) rather than single blocks (a torn cut).
 *
 * @module
 */

import { BLOCK_SIZE, type BlockDevice, BlockDeviceError } from "./block_device.ts";

type Event = InFlightWrite | { sync: true };

/** One block of a write request that a crash may or may not have let land. */
export interface InFlightWrite {
  /** Block number. */
  block: number;
  /** The block's bytes. */
  data: Uint8Array;
  /** The write request (the `write()` call, counting from 0) the block belongs to. */
  request: number;
}

/** A recording memory device for crash-consistency tests. */
export class CrashBlockDevice implements BlockDevice {
  /** Bytes per block. */
  readonly blockSize: number = BLOCK_SIZE;
  /** Number of blocks. */
  readonly blockCount: number;
  #current: Uint8Array;
  #events: Event[] = [];
  /** Durable image at each sync event (by event index), plus the initial image at -1. */
  #durable = new Map<number, Uint8Array>();
  #lastSync = -1;
  #requests = 0;

  /** Creates a zero-filled device, or one holding a copy of `initial`. */
  constructor(blockCount: number, initial?: Uint8Array) {
    this.blockCount = blockCount;
    this.#current = new Uint8Array(blockCount * BLOCK_SIZE);
    if (initial) this.#current.set(initial.subarray(0, this.#current.length));
    this.#durable.set(-1, this.#current.slice());
  }

  /** Reads the latest contents (what the running system sees). */
  read(block: number, count: number): Promise<Uint8Array> {
    if (block < 0 || count < 0 || block + count > this.blockCount) {
      return Promise.reject(new BlockDeviceError("OUT_OF_RANGE", `blocks ${block}+${count}`));
    }
    return Promise.resolve(
      this.#current.slice(block * BLOCK_SIZE, (block + count) * BLOCK_SIZE),
    );
  }

  /** Records one event per block written. */
  write(block: number, data: Uint8Array): Promise<void> {
    if (data.length % BLOCK_SIZE !== 0) {
      return Promise.reject(new BlockDeviceError("BAD_LENGTH", `${data.length} bytes`));
    }
    const n = data.length / BLOCK_SIZE;
    if (block < 0 || block + n > this.blockCount) {
      return Promise.reject(new BlockDeviceError("OUT_OF_RANGE", `blocks ${block}+${n}`));
    }
    const request = this.#requests++;
    for (let i = 0; i < n; i++) {
      const one = data.slice(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
      this.#events.push({ block: block + i, data: one, request });
    }
    this.#current.set(data, block * BLOCK_SIZE);
    return Promise.resolve();
  }

  /** Completes a flush: everything written so far is durable. */
  sync(): Promise<void> {
    const at = this.#events.length;
    this.#events.push({ sync: true });
    this.#durable.set(at, this.#current.slice());
    this.#lastSync = at;
    return Promise.resolve();
  }

  /** Number of events (block writes and syncs) so far; crash points are `0..eventCount`. */
  get eventCount(): number {
    return this.#events.length;
  }

  /** Index of the last sync event before `at` (-1 when none). */
  #syncBefore(at: number): number {
    if (at >= this.#events.length) return this.#lastSync;
    for (let i = at - 1; i >= 0; i--) if ("sync" in this.#events[i]) return i;
    return -1;
  }

  /** The block writes a crash just before event `at` leaves in flight, in issue order. */
  inFlight(at: number = this.eventCount): InFlightWrite[] {
    const out: InFlightWrite[] = [];
    for (let i = this.#syncBefore(at) + 1; i < at; i++) {
      const e = this.#events[i];
      if ("block" in e) out.push(e);
    }
    return out;
  }

  /**
   * The disk after a crash just before event `at`: the image of the last completed sync plus
   * the in-flight writes listed in `apply` (indices into {@link inFlight}), landing in that order.
   */
  crashImage(at: number, apply: number[]): Uint8Array {
    const img = this.#durable.get(this.#syncBefore(at))!.slice();
    const flight = this.inFlight(at);
    for (const i of apply) {
      const w = flight[i];
      if (!w) throw new RangeError(`no in-flight write ${i}`);
      img.set(w.data, w.block * BLOCK_SIZE);
    }
    return img;
  }

  /** The latest contents as a copy (the disk if every write landed). */
  snapshot(): Uint8Array {
    return this.#current.slice();
  }
}
