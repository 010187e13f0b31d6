/**
 * Endpoints and IPC: bounded queues owned by a task, send and receive with deadlines, NONBLOCK
 * and TRUNCATE, a capability moved with a frame (CAP_MOVE at queue time), and closing an exited
 * owner's endpoints. Also the bookkeeping that names a reply (`inReplyTo`) and what a caller
 * waiting on its reply inbox is waiting for ({@link callOf}).
 *
 * @module
 */

import { copyBytes } from "./alloc.ts";
import { capAt, capOf, checkSlot, firstFree, install, requirePrivilege } from "./captable.ts";
import {
  type Endpoint,
  type HeldCap,
  type KernelState,
  kerr,
  liveTask,
  type Queued,
  type Step,
  type Task,
} from "./state.ts";
import { checkDeadline, checkNotPast } from "./timers.ts";
import type { CallRef } from "./trace_events.ts";
import { emit, endpointRef, frameHead, frameLabel } from "./tracing.ts";
import {
  MAX_ENDPOINT_DEPTH,
  MAX_FRAME,
  type Message,
  MIN_ENDPOINT_DEPTH,
  type RecvOptions,
  RIGHT_MANAGE,
  RIGHT_RECV,
  RIGHT_SEND,
  type SendOptions,
} from "./types.ts";
import { takeHead, wakeError, wakeValue } from "./wake.ts";

/** Rejects a queue depth outside 1..256. */
export function checkDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < MIN_ENDPOINT_DEPTH || depth > MAX_ENDPOINT_DEPTH) {
    throw kerr(
      "INVALID_ARGUMENT",
      `endpoint depth must be ${MIN_ENDPOINT_DEPTH}..${MAX_ENDPOINT_DEPTH}, got ${depth}`,
    );
  }
}

/** Creates an endpoint owned by `owner`. */
export function newEndpoint(k: KernelState, owner: Task, depth: number): Endpoint {
  const ep: Endpoint = {
    id: k.nextEndpointId++,
    owner,
    depth,
    queue: [],
    closed: false,
    senders: [],
    receivers: [],
  };
  k.endpoints.set(ep.id, ep);
  return ep;
}

/**
 * Closes every endpoint `owner` owns; their blocked senders and receivers wake with CLOSED, and
 * so does every caller waiting on its own inbox for the answer to a request it queued on one of
 * them ({@link unanswerable}): the reply cap went down with the queue or the owner's table.
 */
export function closeEndpointsOf(k: KernelState, owner: Task): void {
  const woken = new Set<Task>();
  for (const ep of k.endpoints.values()) {
    if (ep.owner !== owner || ep.closed) continue;
    ep.closed = true;
    for (const t of ep.senders) woken.add(t);
    for (const t of ep.receivers) woken.add(t);
  }
  for (const t of k.tasks) {
    const ep = t?.wait?.op === "recv" ? t.wait.endpoint : undefined;
    if (ep && unanswerable(t, ep)) woken.add(t);
  }
  for (const t of [...woken].sort((a, b) => a.pid - b.pid)) {
    const ep = t.wait?.endpoint;
    const why = ep?.owner === owner
      ? `endpoint ${ep?.id} closed: owner ${owner.name} exited`
      : `no answer will come: ${owner.name}, which held the request, exited`;
    wakeError(k, t, kerr("CLOSED", why));
  }
}

/**
 * True when `task`'s pending call can no longer be answered on `inbox`: it was queued on an
 * endpoint that has closed since (its owner exited holding the one-shot reply cap).
 */
function unanswerable(task: Task, inbox: Endpoint): boolean {
  const c = task.call;
  return c !== undefined && c.inbox === inbox.id && c.endpoint.closed;
}

/** The request `task` waits on while it receives on endpoint `inbox`, if it made one. */
export function callOf(task: Task, inbox: number): CallRef | undefined {
  const c = task.call;
  if (!c || c.inbox !== inbox) return undefined;
  const ref: CallRef = {
    msg: c.msg,
    endpointId: c.endpoint.id,
    ownerPid: c.endpoint.owner.pid,
    owner: c.endpoint.owner.name,
  };
  const label = frameLabel(c.frame);
  if (label !== undefined) ref.label = label;
  return ref;
}

/** Moves the cap in `slot` of `task` out of its table (CAP_MOVE at queue time). */
function takeCap(task: Task, slot: number | undefined): HeldCap | undefined {
  if (slot === undefined) return undefined;
  const cap = task.table[slot] ?? undefined;
  task.table[slot] = null;
  return cap;
}

/** Queues a frame from `sender` (moving the cap in `moveSlot`), and reports it. */
function enqueue(
  k: KernelState,
  ep: Endpoint,
  sender: Task,
  data: Uint8Array,
  moveSlot: number | undefined,
  inReplyTo: number | undefined,
): void {
  const q: Queued = {
    msg: k.nextMsgId++,
    data,
    senderPid: sender.pid,
    senderServiceId: sender.serviceId,
    cap: takeCap(sender, moveSlot),
  };
  if (inReplyTo !== undefined) q.inReplyTo = inReplyTo;
  ep.queue.push(q);
  const cap = q.cap;
  if (cap?.kind === "endpoint" && k.endpoints.get(cap.endpointId)?.owner === sender) {
    // A reply cap to the sender's own inbox: the sender now waits for this request's answer.
    const c = sender.call;
    if (c) {
      c.msg = q.msg;
      c.endpoint = ep;
      c.inbox = cap.endpointId;
      c.frame = data;
    } else sender.call = { msg: q.msg, endpoint: ep, inbox: cap.endpointId, frame: data };
  }
  sender.counts.sent++;
  if (!k.tracer) return;
  const label = frameLabel(data);
  emit(k, {
    kind: "ipc-send",
    time: k.time,
    msg: q.msg,
    pid: sender.pid,
    task: sender.name,
    ...endpointRef(ep),
    size: data.length,
    ...(label !== undefined ? { label } : {}),
    ...(cap
      ? {
        cap: cap.kind === "endpoint"
          ? { kind: cap.kind, endpointId: cap.endpointId }
          : { kind: cap.kind },
      }
      : {}),
    ...(inReplyTo !== undefined ? { inReplyTo, head: frameHead(data) } : {}),
  });
}

/** Hands a dequeued message to `task`; a moved cap lands in its first free slot, or is dropped when the table is full. */
function deliver(k: KernelState, ep: Endpoint, task: Task, msg: Queued, maxLen: number): Message {
  const truncated = msg.data.length > maxLen;
  const out: Message = {
    // The queued frame is the kernel's private copy, so the receiver may have a view of it.
    data: truncated ? msg.data.subarray(0, maxLen) : msg.data,
    truncated,
    senderPid: msg.senderPid,
    senderServiceId: msg.senderServiceId,
  };
  if (msg.cap) {
    const slot = firstFree(task);
    if (slot !== undefined) {
      // The cap remembers the message it came with: what is sent on it answers that message.
      msg.cap.via = msg.msg;
      task.table[slot] = msg.cap;
      out.capSlot = slot;
    }
  }
  // The answer (or anything else) reached the caller's inbox: it no longer waits on the call.
  if (task.call?.inbox === ep.id) task.call.inbox = -1;
  task.counts.received++;
  if (k.tracer) {
    const label = frameLabel(msg.data);
    emit(k, {
      kind: "ipc-recv",
      time: k.time,
      msg: msg.msg,
      pid: task.pid,
      task: task.name,
      ...endpointRef(ep),
      senderPid: msg.senderPid,
      sender: k.tasks[msg.senderPid]?.name ?? "?",
      size: out.data.length,
      ...(label !== undefined ? { label } : {}),
      truncated,
      ...(out.capSlot !== undefined ? { capSlot: out.capSlot } : {}),
      ...(msg.inReplyTo !== undefined
        ? { inReplyTo: msg.inReplyTo, head: frameHead(msg.data) }
        : {}),
    });
  }
  return out;
}

/** Moves blocked senders into free queue room and queued frames to blocked receivers. */
function pump(k: KernelState, ep: Endpoint): void {
  let progress = true;
  while (progress) {
    progress = false;
    while (ep.queue.length < ep.depth && ep.senders.length > 0) {
      const s = ep.senders[0];
      const w = s.wait!;
      enqueue(k, ep, s, w.data!, w.moveCap, w.inReplyTo);
      wakeValue(k, s, undefined, w.data!.length);
      progress = true;
    }
    while (ep.receivers.length > 0 && ep.queue.length > 0) {
      const r = ep.receivers[0];
      const w = r.wait!;
      const head = ep.queue[0];
      if (head.data.length > w.maxLen! && !w.truncate) {
        wakeError(
          k,
          r,
          kerr("FRAME_TOO_LARGE", `frame of ${head.data.length} bytes > buffer of ${w.maxLen}`),
        );
      } else {
        takeHead(ep.queue);
        const msg = deliver(k, ep, r, head, w.maxLen!);
        wakeValue(k, r, msg, msg.data.length, k.schedule?.deliveryDelay() ?? 0);
      }
      progress = true;
    }
  }
}

/** send: queues a copy of `data` on the endpoint in `slot`, or parks until there is room. */
export function sysSend(
  k: KernelState,
  task: Task,
  slot: number,
  data: Uint8Array,
  opts: SendOptions,
): Step<void> {
  const cap = capOf(task, slot, "endpoint", RIGHT_SEND);
  if (!(data instanceof Uint8Array)) throw kerr("INVALID_ARGUMENT", "frame must be a Uint8Array");
  if (data.length > MAX_FRAME) {
    throw kerr("FRAME_TOO_LARGE", `frame of ${data.length} bytes > ${MAX_FRAME}`);
  }
  checkDeadline(opts.deadline);
  if (opts.moveCap !== undefined) capAt(task, opts.moveCap);
  const ep = k.endpoints.get(cap.endpointId)!;
  if (ep.closed) throw kerr("CLOSED", `endpoint ${ep.id} is closed`);
  const copy = copyBytes(data);
  if (ep.queue.length < ep.depth && ep.senders.length === 0) {
    enqueue(k, ep, task, copy, opts.moveCap, cap.via);
    pump(k, ep);
    return { value: undefined, size: copy.length };
  }
  // Routine outcomes are returned, not thrown: a throw costs more than the whole call.
  if (opts.nonblock) return { error: kerr("WOULD_BLOCK", `endpoint ${ep.id} queue is full`) };
  checkNotPast(k, opts.deadline);
  return {
    block: {
      op: "send",
      slot,
      deadline: opts.deadline,
      endpoint: ep,
      data: copy,
      moveCap: opts.moveCap,
      inReplyTo: cap.via,
    },
  };
}

/** recv: takes the head frame of the endpoint in `slot`, or parks until one arrives. */
export function sysRecv(
  k: KernelState,
  task: Task,
  slot: number,
  opts: RecvOptions,
): Step<Message> {
  const cap = capOf(task, slot, "endpoint", RIGHT_RECV);
  const maxLen = opts.maxLen ?? MAX_FRAME;
  if (!Number.isInteger(maxLen) || maxLen < 0) {
    throw kerr("INVALID_ARGUMENT", `bad receive buffer size ${maxLen}`);
  }
  checkDeadline(opts.deadline);
  const ep = k.endpoints.get(cap.endpointId)!;
  if (ep.queue.length > 0) {
    const head = ep.queue[0];
    if (head.data.length > maxLen && !opts.truncate) {
      throw kerr("FRAME_TOO_LARGE", `frame of ${head.data.length} bytes > buffer of ${maxLen}`);
    }
    takeHead(ep.queue);
    const msg = deliver(k, ep, task, head, maxLen);
    pump(k, ep);
    return { value: msg, size: msg.data.length };
  }
  if (ep.closed) return { error: kerr("CLOSED", `endpoint ${ep.id} is closed`) };
  if (unanswerable(task, ep)) {
    const c = task.call!;
    return {
      error: kerr(
        "CLOSED",
        `no answer will come: ${c.endpoint.owner.name}, which held the request, exited`,
      ),
    };
  }
  if (opts.nonblock) return { error: kerr("WOULD_BLOCK", `endpoint ${ep.id} is empty`) };
  checkNotPast(k, opts.deadline);
  return {
    block: {
      op: "recv",
      slot,
      deadline: opts.deadline,
      endpoint: ep,
      maxLen,
      truncate: opts.truncate === true,
    },
  };
}

/**
 * endpointCreate: a new endpoint from the factory in `factorySlot`, with a SEND|RECV|MANAGE cap
 * to it in the caller's table; owned by the caller or (privileged) by `ownerPid`.
 */
export function sysEndpointCreate(
  k: KernelState,
  task: Task,
  factorySlot: number,
  depth: number,
  toSlot?: number,
  ownerPid?: number,
): number {
  capOf(task, factorySlot, "endpoint-factory", RIGHT_MANAGE);
  checkDepth(depth);
  let owner = task;
  if (ownerPid !== undefined && ownerPid !== task.pid) {
    requirePrivilege(task, "endpointCreate for another owner");
    owner = liveTask(k, ownerPid);
  }
  if (toSlot !== undefined) {
    checkSlot(toSlot);
    if (task.table[toSlot]) throw kerr("SLOT_OCCUPIED", `slot ${toSlot} is taken`);
  } else if (firstFree(task) === undefined) {
    throw kerr("NO_FREE_SLOT", `cap table of ${task.name} is full`);
  }
  const ep = newEndpoint(k, owner, depth);
  return install(
    task,
    { kind: "endpoint", endpointId: ep.id, rights: RIGHT_SEND | RIGHT_RECV | RIGHT_MANAGE },
    toSlot,
  );
}
