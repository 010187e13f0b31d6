/**
 * Whole-system boots: the proof a developer waits for. Each iteration boots the default system
 * until it goes idle after `SELFTEST: end`, and fails loudly if the selftest did not pass, so a
 * broken system can never look fast.
 */

import { bootSystem } from "./boot.ts";
import { mkfsImage } from "../images/mkfs.ts";
import type { Tracer } from "../core/kernel/types.ts";

const dir = await Deno.makeTempDir({ prefix: "nexus-boot-bench-" });
const kept = `${dir}/kept.img`;
await mkfsImage(kept);

async function bootToEnd(imagePath: string, seed = 1, tracer?: Tracer): Promise<void> {
  let ended = false;
  let failure: string | undefined;
  await bootSystem({
    imagePath,
    seed,
    tracer,
    watchdogTicks: 800,
    onLine: (line) => {
      if (line === "SELFTEST: end") ended = true;
      if (failure === undefined && /FAIL|SLOT MISSING|!fatal|panic|watchdog fired/.test(line)) {
        failure = line;
      }
    },
    shouldStop: () => false,
  });
  if (failure !== undefined || !ended) {
    throw new Error(`boot did not pass: ${failure ?? "no SELFTEST: end"}`);
  }
}

let fresh = 0;
Deno.bench("boot: mkfs + full ladder to SELFTEST: end on a fresh 64 MiB image", {
  group: "boot",
  baseline: true,
  n: 10,
  warmup: 1,
}, async () => {
  const path = `${dir}/fresh-${fresh++}.img`;
  await mkfsImage(path);
  await bootToEnd(path);
  await Deno.remove(path);
});

let zero = 0;
Deno.bench("boot: full ladder on a plain 64 MiB zero file (blank proof + whole-disk format)", {
  group: "boot",
  n: 10,
  warmup: 1,
}, async () => {
  const path = `${dir}/zero-${zero++}.img`;
  await Deno.writeFile(path, new Uint8Array(0));
  await Deno.truncate(path, 64 * 1024 * 1024);
  await bootToEnd(path);
  await Deno.remove(path);
});

let coldSeed = 0;
Deno.bench("boot: cold boot on a kept image (persistence proofs against stored state)", {
  group: "boot",
  n: 10,
  warmup: 1,
}, async () => {
  // The cold-boot proof wants a seed other than the one that made the device key: a reload must
  // be told from a remake. Each iteration is the next boot of the kept image, so the next seed.
  await bootToEnd(kept, ++coldSeed);
});

// What a tracer costs a boot: every boot used to run one only to count syscalls and messages
// for snapshot.json, which the kernel now counts itself.
let traced = 0;
for (const withTracer of [false, true]) {
  Deno.bench(
    withTracer ? "boot with a tracer counting events" : "boot without a tracer (the default)",
    { group: "tracer", baseline: !withTracer, n: 10, warmup: 1 },
    async (b) => {
      const path = `${dir}/traced-${traced++}.img`;
      await mkfsImage(path);
      // The counter every boot ran before: syscall, send and receive events per task.
      const counts = new Map<string, number>();
      const tracer: Tracer = (e) => {
        if (e.kind === "syscall" || e.kind === "ipc-send" || e.kind === "ipc-recv") {
          const k = `${e.kind} ${e.pid}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
      };
      b.start();
      await bootToEnd(path, 1, withTracer ? tracer : undefined);
      b.end();
      await Deno.remove(path);
    },
  );
}

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
