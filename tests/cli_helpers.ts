/**
 * Spawns the `nexus` CLI as a user would (a separate Deno process) for end-to-end tests.
 *
 * @module
 */

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** The outcome of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Raw stdout bytes (for commands that print binary values). */
  stdoutBytes: Uint8Array;
}

/** Options for {@link nexus}. */
export interface NexusOptions {
  /** Bytes fed to standard input. */
  stdin?: Uint8Array | string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/** Runs `nexus ...args` in a child Deno process and collects its output. */
export async function nexus(args: string[], opts: NexusOptions = {}): Promise<CliResult> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      CONFIG,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      MAIN,
      ...args,
    ],
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...opts.env },
    cwd: opts.cwd,
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}

/** Runs `nexus boot ...args` with `dir` as the working directory (build/ lands there). */
export function bootIn(dir: string, args: string[], opts: NexusOptions = {}): Promise<CliResult> {
  return nexus(["boot", ...args], { cwd: dir, ...opts });
}

/**
 * Runs `nexus ...args` inside this process (no Deno start-up): the exit code and the bytes it
 * wrote to stdout. For commands whose behaviour does not need a process of its own.
 */
export async function nexusInProcess(args: string[]): Promise<{ code: number; out: Uint8Array }> {
  const { run } = await import("../cli/main.ts");
  const parts: Uint8Array[] = [];
  const stdout = Deno.stdout as unknown as { write: (b: Uint8Array) => Promise<number> };
  const write = stdout.write;
  stdout.write = (b) => {
    parts.push(b.slice());
    return Promise.resolve(b.length);
  };
  const exitCode = Deno.exitCode;
  let code: number;
  try {
    code = await run(args);
  } finally {
    stdout.write = write;
    Deno.exitCode = exitCode;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { code, out };
}
