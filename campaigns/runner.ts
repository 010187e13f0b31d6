/**
 * Runs a campaign's cases, in this process or spread over long-lived worker processes (each a
 * `deno run` child running many cases and streaming one JSON line per result back). Cases are
 * handed out one at a time as workers finish, so a slow case does not hold a batch; results are
 * returned in case order whatever the interleaving, so a campaign's report depends only on its
 * options and cases.
 *
 * @module
 */

import process from "node:process";
import type { CaseResult } from "./boot_case.ts";
import { type CampaignOptions, crashedCase } from "./campaign.ts";
import { CAMPAIGNS } from "./registry.ts";
import { TextLineStream } from "./text_lines.ts";

/** How to run a batch of cases. */
export interface RunPlan {
  /** Registry name of the campaign. */
  campaign: string;
  /** Its options. */
  options: CampaignOptions;
  /** Case ids to run. */
  cases: string[];
  /** Worker processes; 0 runs every case in this process. */
  jobs: number;
  /** Scratch directory: each worker gets `<dir>/worker-<k>/`. */
  dir: string;
  /** Called after every case. */
  onResult?: (r: CaseResult, done: number, total: number) => void;
}

/** What a batch produced. */
export interface RunOutcome {
  /** Results in case order. */
  results: CaseResult[];
  /** CPU milliseconds spent running cases (workers' own, or this process's). */
  cpuMs: number;
}

function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** The replay command for a case without a campaign-specific one. */
function fallbackReplay(campaign: string, id: string): string {
  return campaign === "torture power"
    ? `nexus ${campaign} --case ${id}`
    : `nexus ${campaign} --seeds ${id}`;
}

/** Runs `plan.cases` and returns their results in order. */
export async function runCases(plan: RunPlan): Promise<RunOutcome> {
  const c = CAMPAIGNS[plan.campaign];
  if (!c) throw new Error(`unknown campaign ${plan.campaign}`);
  // A shard with no cases (more shards than cases) builds no image and starts no worker.
  if (plan.cases.length === 0) return { results: [], cpuMs: 0 };
  if (plan.jobs <= 0) {
    const cpu0 = cpuNow();
    const dir = `${plan.dir}/worker-0`;
    await Deno.mkdir(dir, { recursive: true });
    const ctx = await c.setup(plan.options, dir);
    const results: CaseResult[] = [];
    for (const id of plan.cases) {
      let r: CaseResult;
      try {
        r = await c.run(ctx, id, plan.options);
      } catch (err) {
        r = crashedCase(id, err, fallbackReplay(plan.campaign, id));
      }
      results.push(r);
      plan.onResult?.(r, results.length, plan.cases.length);
    }
    return { results, cpuMs: cpuNow() - cpu0 };
  }
  return await runInWorkers(plan);
}

// Named from the repository root (`../`) so the bundled entry in dist/ finds them too.
const WORKER = new URL("../campaigns/worker.ts", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);

async function runInWorkers(plan: RunPlan): Promise<RunOutcome> {
  const total = plan.cases.length;
  const byId = new Map<string, number>(plan.cases.map((id, i) => [id, i]));
  const results: (CaseResult | undefined)[] = new Array(total);
  let next = 0;
  let done = 0;
  let cpuMs = 0;
  const n = Math.max(1, Math.min(plan.jobs, total));
  const worker = async (k: number) => {
    const dir = `${plan.dir}/worker-${k}`;
    await Deno.mkdir(dir, { recursive: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-all", `--config=${CONFIG.pathname}`, WORKER.pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const writer = child.stdin.getWriter();
    const enc = new TextEncoder();
    const send = (msg: unknown) => writer.write(enc.encode(JSON.stringify(msg) + "\n"));
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    )[Symbol.asyncIterator]();
    const recv = async (): Promise<Record<string, unknown>> => {
      const r = await lines.next();
      if (r.done) throw new Error(`worker ${k} ended unexpectedly`);
      return JSON.parse(r.value);
    };
    let current: string | undefined;
    try {
      await send({ setup: { campaign: plan.campaign, options: plan.options, dir } });
      const ready = await recv();
      if (ready.error) throw new Error(`worker ${k} setup: ${ready.error}`);
      while (next < total) {
        current = plan.cases[next++];
        await send({ run: current });
        const msg = await recv();
        const r = msg.result as CaseResult;
        results[byId.get(r.id) ?? byId.get(current)!] = r;
        current = undefined;
        done++;
        plan.onResult?.(r, done, total);
      }
      await writer.close();
      const bye = await recv();
      cpuMs += Number(bye.cpuMs ?? 0);
    } catch (err) {
      if (current !== undefined) {
        const r = crashedCase(current, err, fallbackReplay(plan.campaign, current));
        results[byId.get(current)!] = r;
        done++;
        plan.onResult?.(r, done, total);
      }
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      // Another worker picks up the remaining cases; if none is left, they are run here.
    } finally {
      await child.status;
    }
  };
  await Promise.all(Array.from({ length: n }, (_, k) => worker(k)));
  // Cases no worker finished (every worker died) run in this process, so none is lost.
  const left = plan.cases.filter((_, i) => results[i] === undefined);
  if (left.length > 0) {
    const rest = await runCases({ ...plan, cases: left, jobs: 0 });
    rest.results.forEach((r) => (results[byId.get(r.id)!] = r));
    cpuMs += rest.cpuMs;
  }
  return { results: results as CaseResult[], cpuMs };
}
