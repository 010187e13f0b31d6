/**
 * A tap on statefsd: wraps its service module so every request it receives on its inbox and the
 * status of every reply it sends are logged as logical operations for the durability oracle.
 * statefsd serves one request at a time, so the next SF reply answers the last request received.
 * The tap only reads frames (through statefsd's own protocol codecs); it changes nothing.
 *
 * @module
 */

import type { ServiceModule } from "../core/kernel/service.ts";
import type { Message, Syscalls } from "../core/kernel/types.ts";
import {
  decodeRequest,
  SF_IO_ERROR,
  SF_OK,
  SF_OP_BATCH,
  SF_OP_DELETE,
  SF_OP_PUT,
  SF_OP_SYNC,
  SF_V2,
} from "../services/statefsd/protocol.ts";
import type { LoggedOp } from "./oracle.ts";

/** The log a tap fills. */
export interface SfLog {
  /** Mutations and syncs in the order statefsd received them. */
  ops: LoggedOp[];
}

function opOf(frame: Uint8Array): LoggedOp | undefined {
  const d = decodeRequest(frame);
  if (d.kind !== "request") return undefined;
  const b = d.body;
  switch (b.op) {
    case SF_OP_PUT:
      return { kind: "put", key: b.key, value: b.value.slice(), ack: "maybe" };
    case SF_OP_DELETE:
      return { kind: "delete", key: b.key, ack: "maybe" };
    case SF_OP_SYNC:
      return { kind: "sync", ack: "maybe" };
    case SF_OP_BATCH:
      return {
        kind: "batch",
        abort: b.abort,
        ack: "maybe",
        ops: b.entries.map((e) =>
          e.kind === "put"
            ? { op: "put" as const, key: e.key, value: e.value.slice() }
            : { op: "delete" as const, key: e.key }
        ),
      };
    default:
      return undefined;
  }
}

/** The reply status of an SF reply frame, or undefined when `frame` is not one. */
function replyStatus(frame: Uint8Array): number | undefined {
  if (frame.length < 5 || frame[0] !== 0x53 || frame[1] !== 0x46 || (frame[3] & 0x80) === 0) {
    return undefined;
  }
  const at = frame[2] === SF_V2 ? 12 : 4;
  return frame.length > at ? frame[at] : undefined;
}

/** Wraps statefsd's module so its traffic lands in `log`. */
export function tapStatefsd(module: ServiceModule, log: SfLog): ServiceModule {
  return {
    name: module.name,
    requiredSlots: module.requiredSlots,
    main(sys, env) {
      const inbox = env.slots.inbox;
      let current: LoggedOp | undefined;
      const tapped = new Proxy(sys, {
        get(target, prop, receiver) {
          if (prop === "recv") {
            return async (slot: number, opts?: Parameters<Syscalls["recv"]>[1]) => {
              const m: Message = await target.recv(slot, opts);
              if (slot === inbox) {
                current = opOf(m.data);
                if (current) log.ops.push(current);
              }
              return m;
            };
          }
          if (prop === "send") {
            return async (
              slot: number,
              data: Uint8Array,
              opts?: Parameters<Syscalls["send"]>[2],
            ) => {
              const status = replyStatus(data);
              if (status !== undefined && current) {
                current.ack = status === SF_OK
                  ? "ok"
                  : status === SF_IO_ERROR
                  ? "maybe"
                  : "refused";
                current = undefined;
              }
              return await target.send(slot, data, opts);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      return module.main(tapped, env);
    },
  };
}
