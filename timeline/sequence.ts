/**
 * A boot's IPC as a Mermaid sequence diagram: who sent which request to whom, and the replies,
 * in the order the kernel delivered them. Bounded (the first `limit` messages, then a note saying
 * how many were left out) and filterable to the services named (a message is kept when both
 * ends are among them). A reply with a non-zero status (a refusal or an error) is drawn as a
 * dotted arrow ending in a cross, with its status: `--x` in Mermaid.
 *
 * @example
 * ```ts
 * import { SequenceDiagram } from "./sequence.ts";
 * const seq = new SequenceDiagram();
 * // hand seq.tracer to bootSystem({ tracer: seq.tracer, ... }), then:
 * Deno.writeTextFileSync("boot.mmd", seq.render({ limit: 40, only: ["selftest-client", "statefsd"] }));
 * ```
 *
 * @module
 */

import type {
  IpcRecvEvent,
  IpcSendEvent,
  TraceEvent,
  Tracer,
} from "../core/kernel/trace_events.ts";
import { describeLabel } from "../init/watchdog.ts";
import { failedStatusText, replyStatus } from "./reply_status.ts";

/** Options for {@link SequenceDiagram.render}. */
export interface SequenceOptions {
  /** Most messages drawn (default 60). */
  limit?: number;
  /** Only messages between these services (default: all). */
  only?: readonly string[];
}

/** Default bound on the messages drawn. */
export const DEFAULT_SEQUENCE_LIMIT = 60;

/** Text Mermaid shows as is: no characters that end a message or start markup. */
export function mermaidText(text: string): string {
  return text.replace(/[;#:<>{}\[\]"`\n\r]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A participant id Mermaid accepts (letters, digits, underscores). */
function participant(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Collects IPC events and renders them as a Mermaid sequence diagram. */
export class SequenceDiagram {
  readonly #sends = new Map<number, IpcSendEvent>();
  readonly #recvs: IpcRecvEvent[] = [];
  readonly #order: string[] = [];

  /** The tracer to hand the kernel. */
  readonly tracer: Tracer = (e: TraceEvent) => {
    if (e.kind === "task" && e.event === "spawn") this.#order.push(e.task);
    else if (e.kind === "ipc-send") this.#sends.set(e.msg, e);
    else if (e.kind === "ipc-recv") this.#recvs.push(e);
  };

  /** The diagram as Mermaid text. */
  render(opts: SequenceOptions = {}): string {
    const limit = opts.limit ?? DEFAULT_SEQUENCE_LIMIT;
    const only = opts.only !== undefined && opts.only.length > 0 ? new Set(opts.only) : null;
    const kept = this.#recvs.filter((r) =>
      only === null || (only.has(r.sender) && only.has(r.task))
    );
    const drawn = kept.slice(0, limit);
    const used = new Set(drawn.flatMap((r) => [r.sender, r.task]));
    const lines = ["sequenceDiagram"];
    for (const name of this.#order) {
      if (used.has(name)) lines.push(`  participant ${participant(name)} as ${mermaidText(name)}`);
    }
    for (const r of drawn) {
      const send = this.#sends.get(r.msg);
      const label = r.label !== undefined ? describeLabel(r.label) : `${r.size} bytes`;
      const reply = send?.inReplyTo !== undefined;
      const status = reply ? failedStatusText(replyStatus(r.head)) : "";
      const arrow = status !== "" ? "--x" : reply ? "-->>" : "->>";
      const text = `${reply ? "reply " : ""}${label}${status}${r.truncated ? " (cut)" : ""}`;
      lines.push(
        `  ${participant(r.sender)}${arrow}${participant(r.task)}: ${mermaidText(text)}`,
      );
    }
    if (kept.length > drawn.length) {
      const first = drawn.length > 0 ? participant(drawn[0].sender) : undefined;
      if (first) {
        lines.push(
          `  Note over ${first}: ${
            kept.length - drawn.length
          } more messages not drawn (limit ${limit})`,
        );
      }
    }
    return lines.join("\n") + "\n";
  }
}
