/**
 * A boot as a timeline: the kernel's trace events turned into the Chrome trace-event format that
 * Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * - one process track per task (service), named after it, in pid order;
 * - each IPC request a slice on the receiver ("handle SF op 0x01", from taking the request to
 *   sending the reply) and on the caller ("call statefsd SF op 0x01", from sending the request
 *   to taking the reply), linked by one flow: caller -> receiver -> back to the caller;
 *   a message nobody answers is an instant on the receiver, with its flow from the sender;
 * - virtio requests as async slices on a device track (op, sector, count, status);
 * - console lines as instant events on their writer's track;
 * - counters: each endpoint's queue depth, the sectors written to each device, and what tasks
 *   record themselves (statefsd: its journal size and live keys);
 * - a reply with a non-zero status names it: both slices end in "status 0xNN" and carry
 *   `status` in their arguments.
 *
 * Timestamps are the virtual clock (microseconds with nanosecond fractions), so the same seed
 * gives a byte-identical file. Slices on one track always nest: a slice that would overlap
 * another without nesting goes on a second thread of the same process.
 *
 * @example
 * ```ts
 * import { ChromeTrace } from "./chrome_trace.ts";
 * const trace = new ChromeTrace();
 * // hand trace.tracer to bootSystem({ tracer: trace.tracer, ... }), then:
 * Deno.writeTextFileSync("boot.json", trace.render());
 * ```
 *
 * @module
 */

import type {
  DeviceEvent,
  IpcRecvEvent,
  IpcSendEvent,
  TraceEvent,
  Tracer,
} from "../core/kernel/trace_events.ts";
import { describeLabel } from "../init/watchdog.ts";
import { failedStatusText, replyStatus } from "./reply_status.ts";

/** One event of the Chrome trace-event format (the fields nexus uses). */
export interface ChromeEvent {
  /** Event name. */
  name: string;
  /** Category. */
  cat?: string;
  /** Phase: X complete, i instant, b/e async, s/t/f flow, C counter, M metadata. */
  ph: "X" | "i" | "b" | "e" | "s" | "t" | "f" | "C" | "M";
  /** Timestamp in microseconds. */
  ts?: number;
  /** Duration in microseconds (X). */
  dur?: number;
  /** Process id (the task's pid; devices after the tasks). */
  pid: number;
  /** Thread id (1, or more when slices of one task overlap). */
  tid?: number;
  /** Id linking async and flow events. */
  id?: number;
  /** Flow binding point ("e": the enclosing slice). */
  bp?: "e";
  /** Instant scope ("t": thread). */
  s?: "t";
  /** Arguments shown in the viewer. */
  args?: Record<string, unknown>;
}

/** A slice waiting for its lane. */
interface Slice {
  pid: number;
  name: string;
  cat: string;
  start: number;
  end: number;
  args: Record<string, unknown>;
  flows: ChromeEvent[];
  tid?: number;
}

/** Device tracks come after every task: pid DEVICE_PID_BASE + window. */
export const DEVICE_PID_BASE = 1000;

const us = (ns: number) => ns / 1000;

/** Collects trace events and renders them as a Chrome trace. */
export class ChromeTrace {
  readonly #events: TraceEvent[] = [];

  /** The tracer to hand the kernel. */
  readonly tracer: Tracer = (event) => {
    this.#events.push(event);
  };

  /** Events collected so far. */
  get count(): number {
    return this.#events.length;
  }

  /** The trace as Chrome trace-event JSON (one object, events in a fixed order). */
  render(): string {
    return JSON.stringify({
      displayTimeUnit: "ns",
      otherData: { clock: "virtual", source: "nexus" },
      traceEvents: buildChromeEvents(this.#events),
    }) + "\n";
  }
}

/** Builds the Chrome events for `events` (in the order the kernel reported them). */
export function buildChromeEvents(events: readonly TraceEvent[]): ChromeEvent[] {
  const out: ChromeEvent[] = [];
  const names = new Map<number, string>();
  const sends = new Map<number, IpcSendEvent>();
  const recvs = new Map<number, IpcRecvEvent>();
  const repliesTo = new Map<number, IpcSendEvent>();
  const slices: Slice[] = [];
  const instants: ChromeEvent[] = [];
  const devices = new Map<number, string>();
  const submits = new Map<string, DeviceEvent>();
  const depth = new Map<number, number>();
  const written = new Map<number, number>();
  for (const e of events) {
    switch (e.kind) {
      case "task":
        if (e.event === "spawn") names.set(e.pid, e.task);
        break;
      case "ipc-send": {
        sends.set(e.msg, e);
        if (e.inReplyTo !== undefined) repliesTo.set(e.inReplyTo, e);
        const d = (depth.get(e.endpointId) ?? 0) + 1;
        depth.set(e.endpointId, d);
        out.push(counter(`queue ${e.owner} #${e.endpointId}`, e.ownerPid, e.time, d));
        break;
      }
      case "ipc-recv": {
        recvs.set(e.msg, e);
        const d = Math.max(0, (depth.get(e.endpointId) ?? 0) - 1);
        depth.set(e.endpointId, d);
        out.push(counter(`queue ${e.owner} #${e.endpointId}`, e.ownerPid, e.time, d));
        break;
      }
      case "console":
        instants.push({
          name: e.text,
          cat: "console",
          ph: "i",
          s: "t",
          ts: us(e.time),
          pid: e.pid,
          tid: 1,
        });
        break;
      case "device": {
        const pid = DEVICE_PID_BASE + e.window;
        devices.set(pid, `${e.device} (window ${e.window})`);
        const key = `${e.window}:${e.req}`;
        if (e.phase === "submit") {
          submits.set(key, e);
          out.push({
            name: e.op,
            cat: "virtio",
            ph: "b",
            id: e.req,
            ts: us(e.time),
            pid,
            tid: 1,
            args: {
              op: e.op,
              ...(e.sector !== undefined ? { sector: e.sector } : {}),
              ...(e.count !== undefined ? { count: e.count } : {}),
            },
          });
        } else {
          const sub = submits.get(key);
          out.push({
            name: sub?.op ?? e.op,
            cat: "virtio",
            ph: "e",
            id: e.req,
            ts: us(e.time),
            pid,
            tid: 1,
            args: { status: e.status ?? "unknown" },
          });
          if ((sub?.op ?? e.op) === "out" && e.status === "ok") {
            const total = (written.get(pid) ?? 0) + (sub?.count ?? e.count ?? 0);
            written.set(pid, total);
            out.push(counter("sectors written", pid, e.time, total));
          }
        }
        break;
      }
      case "counter":
        out.push(counter(e.name, e.pid, e.time, e.value));
        break;
      default:
        break;
    }
  }

  // IPC: requests with their replies become slices and flows; other messages instants.
  for (const [msg, send] of sends) {
    if (send.inReplyTo !== undefined) continue; // drawn with its request
    const recv = recvs.get(msg);
    if (!recv) continue; // never delivered: nothing to link
    const label = send.label !== undefined ? describeLabel(send.label) : `${send.size}-byte frame`;
    const reply = repliesTo.get(msg);
    const replyRecv = reply ? recvs.get(reply.msg) : undefined;
    if (reply && replyRecv) {
      const code = replyStatus(reply.head);
      const status = code !== undefined ? { status: code } : {};
      const failed = failedStatusText(code);
      const handle: Slice = {
        pid: recv.pid,
        name: `handle ${label}${failed}`,
        cat: "ipc",
        start: recv.time,
        end: reply.time,
        args: { from: send.task, msg, endpoint: send.endpointId, ...status },
        flows: [{ name: label, cat: "ipc", ph: "t", id: msg, ts: us(recv.time), pid: recv.pid }],
      };
      const call: Slice = {
        pid: send.pid,
        name: `call ${send.owner} ${label}${failed}`,
        cat: "ipc",
        start: send.time,
        end: replyRecv.time,
        args: { to: send.owner, msg, endpoint: send.endpointId, ...status },
        flows: [
          { name: label, cat: "ipc", ph: "s", id: msg, ts: us(send.time), pid: send.pid },
          {
            name: label,
            cat: "ipc",
            ph: "f",
            bp: "e",
            id: msg,
            ts: us(replyRecv.time),
            pid: send.pid,
          },
        ],
      };
      slices.push(call, handle);
    } else {
      // A message without a reply: its flow ends on an instant where it was taken.
      slices.push({
        pid: send.pid,
        name: `send ${send.owner} ${label}`,
        cat: "ipc",
        start: send.time,
        end: send.time,
        args: { to: send.owner, msg },
        flows: [{ name: label, cat: "ipc", ph: "s", id: msg, ts: us(send.time), pid: send.pid }],
      });
      slices.push({
        pid: recv.pid,
        name: `take ${label}`,
        cat: "ipc",
        start: recv.time,
        end: recv.time,
        args: { from: send.task, msg },
        flows: [{
          name: label,
          cat: "ipc",
          ph: "f",
          bp: "e",
          id: msg,
          ts: us(recv.time),
          pid: recv.pid,
        }],
      });
    }
  }

  const meta: ChromeEvent[] = [];
  for (const [pid, name] of [...names].sort((a, b) => a[0] - b[0])) {
    meta.push({ name: "process_name", ph: "M", pid, args: { name } });
    meta.push({ name: "process_sort_index", ph: "M", pid, args: { sort_index: pid } });
  }
  for (const [pid, name] of [...devices].sort((a, b) => a[0] - b[0])) {
    meta.push({ name: "process_name", ph: "M", pid, args: { name } });
    meta.push({ name: "process_sort_index", ph: "M", pid, args: { sort_index: pid } });
  }
  const laid = assignLanes(slices);
  const threads = new Set<string>();
  for (const s of laid) threads.add(`${s.pid}:${s.tid}`);
  for (const key of [...threads].sort()) {
    const [pid, tid] = key.split(":").map(Number);
    meta.push({
      name: "thread_name",
      ph: "M",
      pid,
      tid,
      args: { name: tid === 1 ? (names.get(pid) ?? `pid ${pid}`) : `overlapping ${tid}` },
    });
  }
  const body: ChromeEvent[] = [];
  for (const s of laid) {
    body.push({
      name: s.name,
      cat: s.cat,
      ph: "X",
      ts: us(s.start),
      dur: us(s.end) - us(s.start),
      pid: s.pid,
      tid: s.tid,
      args: s.args,
    });
    for (const f of s.flows) body.push({ ...f, tid: s.tid });
  }
  // Metadata first, then everything by time (stable: equal times keep their order).
  return [
    ...meta,
    ...[...out, ...instants, ...body].map((e, i) => ({ e, i })).sort((a, b) =>
      (a.e.ts ?? 0) - (b.e.ts ?? 0) || a.i - b.i
    ).map((x) => x.e),
  ];
}

function counter(name: string, pid: number, time: number, value: number): ChromeEvent {
  return { name, cat: "counter", ph: "C", ts: us(time), pid, args: { value } };
}

/**
 * Puts each slice on the first thread of its process where it nests within what is open there
 * (a slice ending after an open one it started inside goes on another thread).
 */
function assignLanes(slices: Slice[]): Slice[] {
  const sorted = slices.map((s, i) => ({ s, i })).sort((a, b) =>
    a.s.pid - b.s.pid || a.s.start - b.s.start || (b.s.end - b.s.start) - (a.s.end - a.s.start) ||
    a.i - b.i
  ).map((x) => x.s);
  const lanes = new Map<number, number[][]>(); // pid -> lanes -> stack of end times
  for (const s of sorted) {
    const mine = lanes.get(s.pid) ?? [];
    lanes.set(s.pid, mine);
    let placed = false;
    for (let l = 0; l < mine.length && !placed; l++) {
      const stack = mine[l];
      // Close what ended before this slice starts (a zero-length slice at an end still nests).
      while (
        stack.length > 0 && stack[stack.length - 1] <= s.start &&
        !(stack[stack.length - 1] === s.start && s.end === s.start)
      ) {
        stack.pop();
      }
      if (stack.length === 0 || stack[stack.length - 1] >= s.end) {
        stack.push(s.end);
        s.tid = l + 1;
        placed = true;
      }
    }
    if (!placed) {
      mine.push([s.end]);
      s.tid = mine.length;
    }
  }
  return sorted;
}
