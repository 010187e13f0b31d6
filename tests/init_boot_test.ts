/**
 * The boot entry point end to end: the default system from a fresh default image, through init
 * and every real service, on the virtio-blk disk.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { mkfsImage } from "../images/mod.ts";
import { BootError, type BootOptions, bootSystem } from "../init/boot.ts";
import {
  DEFAULT_MANIFEST_PATH,
  loadManifest,
  ManifestError,
  parseManifest,
  requireLoadable,
} from "../init/manifest.ts";
import { SERVICES } from "../services/mod.ts";
import type { ServiceModule } from "../core/kernel/service.ts";
import { checkSlots } from "../core/kernel/slot_check.ts";
import { parseFaultPlan } from "../core/virtio/fault_plan.ts";
import { formatTaskTable } from "../init/watchdog.ts";
import { fileDigest } from "./helpers.ts";
import { SMALL_GPT } from "./small_image.ts";
import { buildSnapshot, type Snapshot } from "../snapshot/snapshot.ts";

const { manifest } = await loadManifest(DEFAULT_MANIFEST_PATH);
const NAMES = manifest.services.map((s) => s.name);
const SIGNATURES = ["SLOT MISSING", "!fatal", "panic", "watchdog fired", "init: FAIL"];

/** A fresh image: the default one, or a small one where its size proves nothing. */
async function freshImage(shape: "default" | "small" = "small"): Promise<string> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/blk.img`;
  await mkfsImage(path, shape === "small" ? { recipe: SMALL_GPT } : {});
  return path;
}

async function boot(opts: Partial<BootOptions> & { imagePath: string }) {
  const lines: Array<{ text: string; time: number }> = [];
  const outcome = await bootSystem({
    seed: 1,
    onLine: (text, time) => lines.push({ text, time }),
    shouldStop: () => false,
    ...opts,
  });
  return { outcome, lines, texts: lines.map((l) => l.text) };
}

Deno.test("the default system boots: init's markers in order, every service up, routing and health", async () => {
  const image = await freshImage("default");
  const run = await boot({ imagePath: image, watchdogTicks: 800 });
  const initMarkers = run.texts.filter((t) => /^init: (start|up|ready)/.test(t));
  assertEquals(initMarkers, [
    "init: start",
    ...NAMES.flatMap((s) => [`init: start ${s}`, `init: up ${s}`]),
    "init: ready",
  ]);
  for (const s of NAMES) {
    assert(
      run.texts.some((t) => /^slot-check: \S+ all \d+ slots ok$/.test(t) && t.includes(` ${s} `)),
      s,
    );
    assert(run.texts.includes(`${s}: ready`), `${s}: ready`);
  }
  for (const peer of ["keystored", "samgrd", "policyd", "bundlemgrd", "updated"]) {
    assert(run.texts.includes(`SELFTEST: ipc routing ${peer} ok`), peer);
  }
  assert(run.texts.includes("init: health ok (slot b)"));
  assert(run.texts.includes("bundlemgrd: slot b active"), "updated routed to bundlemgrd");
  assertEquals(run.texts.filter((t) => t.startsWith("init: boot attempt")).length, 1);
  for (const sig of SIGNATURES) {
    assertEquals(run.texts.filter((t) => t.includes(sig)), [], sig);
  }
  // The selftest ran to its end and the system went idle without tripping the watchdog.
  assertEquals(run.outcome.reason, "idle");
  const selftest = run.outcome.tasks.find((t) => t.name === "selftest-client")!;
  assertEquals(selftest.state, "exited");
  const blocked = run.outcome.tasks.filter((t) => t.state === "blocked").map((t) => t.name);
  assertEquals(blocked, ["init", ...NAMES.filter((n) => n !== "selftest-client")]);

  // A second boot on the kept image finds what the first persisted.
  const again = await boot({ imagePath: image, watchdogTicks: 800 });
  assert(again.texts.some((t) => t.startsWith("updated: bootctl load ok")), again.texts.join("\n"));
  assert(again.texts.includes("SELFTEST: statefs cold-boot persist ok"));
  await Deno.remove(image);
});

Deno.test("two boots with the same seed on fresh images print the same console", async () => {
  const [a, b] = [await freshImage(), await freshImage()];
  const first = await boot({ imagePath: a, seed: 7, watchdogTicks: 800 });
  const second = await boot({ imagePath: b, seed: 7, watchdogTicks: 800 });
  assertEquals(first.lines, second.lines);
  assertEquals(first.outcome.virtualNs, second.outcome.virtualNs);
  assertEquals(await fileDigest(a), await fileDigest(b));
});

Deno.test("a hung service trips the watchdog and the table names it", async () => {
  const needs = SERVICES["selftest-client"].requiredSlots;
  const hung: ServiceModule = {
    name: "selftest-client",
    requiredSlots: needs,
    main: async (sys, env) => {
      if (!checkSlots(sys, env, needs)) return;
      // Waits for a reply to a request it never sent.
      await sys.recv(env.slots.reply);
    },
  };
  const snapshots: Snapshot[] = [];
  const run = await boot({
    imagePath: await freshImage(),
    watchdogTicks: 20,
    services: { ...SERVICES, "selftest-client": hung },
    onWatchdog: (at) => snapshots.push(buildSnapshot({ ...at, manifest })),
  });
  const fatal = run.texts.findIndex((t) => t.startsWith("!fatal init-lite: watchdog fired"));
  assert(fatal > 0, run.texts.join("\n"));
  const row = run.texts.slice(fatal).find((t) => t.includes(" selftest-client "));
  assert(row, run.texts.slice(fatal).join("\n"));
  assertMatch(
    row,
    /blocked\s+t=\S+\s+recv slot 0x03 reply on endpoint "selftest-client\.reply" of selftest-client$/,
  );
  // The host's snapshot is taken at the same tick and shows the same waits, row for row.
  assertEquals(snapshots.length, 1);
  const [snap] = snapshots;
  const unfinished = snap.tasks.filter((t) => t.state !== "exited");
  const printed = run.texts.slice(fatal + 1, fatal + 3 + unfinished.length);
  assertEquals(
    formatTaskTable(unfinished, (t) => t.waits, snap.virtualNs).map((l) => `init-lite: ${l}`),
    printed,
  );
  const client = snap.tasks.find((t) => t.name === "selftest-client")!;
  assertEquals(client.blockedOn?.endpointName, "selftest-client.reply");
  assertEquals(snap.caps["selftest-client"].find((c) => c.slot === 3)?.name, "reply");
});

Deno.test("shouldStop ends the run between steps", async () => {
  let ready = false;
  const outcome = await bootSystem({
    imagePath: await freshImage(),
    seed: 1,
    onLine: (text) => (ready ||= text === "init: ready"),
    shouldStop: () => ready,
  });
  assertEquals(outcome.reason, "stopped");
  assert(outcome.tasks.some((t) => t.state !== "exited"));
});

Deno.test("boot errors: image, manifest, device and options are typed", async () => {
  const dir = await Deno.makeTempDir();
  const base = { seed: 1, onLine: () => {}, shouldStop: () => false };
  const missing = await assertRejects(
    () => bootSystem({ ...base, imagePath: `${dir}/none.img` }),
    BootError,
  );
  assertEquals(missing.code, "IMAGE_UNREADABLE");
  await Deno.writeFile(`${dir}/empty.img`, new Uint8Array(0));
  const empty = await assertRejects(
    () => bootSystem({ ...base, imagePath: `${dir}/empty.img` }),
    BootError,
  );
  assertEquals(empty.code, "BAD_IMAGE");
  await Deno.writeFile(`${dir}/odd.img`, new Uint8Array(1000));
  assertEquals(
    (await assertRejects(() => bootSystem({ ...base, imagePath: `${dir}/odd.img` }), BootError))
      .code,
    "BAD_IMAGE",
  );

  const text = await Deno.readTextFile(DEFAULT_MANIFEST_PATH);
  await Deno.writeTextFile(`${dir}/bad.toml`, text.replace("slot = 3,", "slot = 300,"));
  const invalid = await assertRejects(
    () => bootSystem({ ...base, imagePath: `${dir}/odd.img`, manifestPath: `${dir}/bad.toml` }),
    ManifestError,
  );
  assertEquals(invalid.code, "INVALID");
  await Deno.writeTextFile(
    `${dir}/dev.toml`,
    text.replace('device = "virtio-blk"', 'device = "nvme"'),
  );
  const device = await assertRejects(
    () => bootSystem({ ...base, imagePath: `${dir}/odd.img`, manifestPath: `${dir}/dev.toml` }),
    BootError,
  );
  assertEquals(device.code, "BAD_DEVICE");
  // A manifest the caller already loaded is the one booted: the file is not read again.
  const loaded = requireLoadable(parseManifest(await Deno.readTextFile(`${dir}/dev.toml`)));
  const given = await assertRejects(
    () =>
      bootSystem({
        ...base,
        imagePath: `${dir}/odd.img`,
        manifest: loaded,
        manifestPath: `${dir}/bad.toml`,
      }),
    BootError,
  );
  assertEquals(given.code, "BAD_DEVICE");
  const crash = await assertRejects(
    () =>
      bootSystem({
        ...base,
        imagePath: `${dir}/none.img`,
        faults: parseFaultPlan("crash@nobody:3"),
      }),
    BootError,
  );
  assertEquals([crash.code, crash.message.endsWith('has no service "nobody"')], [
    "BAD_OPTION",
    true,
  ]);
  for (const opts of [{ watchdogTicks: 0 }, { seed: -1 }, { watchdogTicks: 2.5 }]) {
    const e = await assertRejects(
      () => bootSystem({ ...base, imagePath: `${dir}/odd.img`, ...opts }),
      BootError,
    );
    assertEquals(e.code, "BAD_OPTION");
  }
  await Deno.remove(dir, { recursive: true });
});
