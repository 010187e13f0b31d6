/**
 * A campaign worker process: reads JSON lines on stdin (`{"setup": {...}}` once, then
 * `{"run": "<case id>"}` per case), answers one JSON line per message on stdout
 * (`{"ready": true}`, `{"result": {...}}`), and on end of input reports its CPU time
 * (`{"cpuMs": n}`) and exits. Started by runner.ts; not a user command.
 *
 * @module
 */

import process from "node:process";
import { type CampaignOptions, crashedCase } from "./campaign.ts";
import { CAMPAIGNS } from "./registry.ts";
import { TextLineStream } from "./text_lines.ts";

async function main(): Promise<void> {
  const enc = new TextEncoder();
  const out = (msg: unknown) => Deno.stdout.writeSync(enc.encode(JSON.stringify(msg) + "\n"));
  let ctx: unknown;
  let campaign: string | undefined;
  let options: CampaignOptions = {};
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TextLineStream(),
  );
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const msg = JSON.parse(line);
    if (msg.setup) {
      campaign = msg.setup.campaign;
      options = msg.setup.options;
      try {
        const c = CAMPAIGNS[campaign!];
        if (!c) throw new Error(`unknown campaign ${campaign}`);
        ctx = await c.setup(options, msg.setup.dir);
        out({ ready: true });
      } catch (err) {
        out({ error: err instanceof Error ? err.message : String(err) });
        return;
      }
    } else if (typeof msg.run === "string") {
      const c = CAMPAIGNS[campaign!];
      let result;
      try {
        result = await c.run(ctx, msg.run, options);
      } catch (err) {
        result = crashedCase(
          msg.run,
          err,
          campaign === "torture power"
            ? `nexus ${campaign} --case ${msg.run}`
            : `nexus ${campaign} --seeds ${msg.run}`,
        );
      }
      out({ result });
    }
  }
  const c = process.cpuUsage();
  out({ cpuMs: (c.user + c.system) / 1000 });
}

if (import.meta.main) await main();
