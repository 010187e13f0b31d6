/**
 * `nexus ps` and `nexus caps` end to end: a real boot writes snapshot.json into its log dir and
 * both commands read it back, as tables and as JSON; the errors a user can cause are one line.
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { withTempDir } from "./helpers.ts";
import { makeSmallImage } from "./small_image.ts";
import { bootIn, nexusIn } from "./cli_helpers.ts";
import type { Snapshot } from "../snapshot/snapshot.ts";
import { formatTaskTable } from "../init/watchdog.ts";

const BOOT = ["--phase", "mmio", "--until-marker", "--seed", "0"];

Deno.test("ps and caps: a boot's snapshot shows every task and its slots", async () => {
  await withTempDir("nexus-views-", async (dir) => {
    // A small image: the tables do not depend on the disk's size.
    const boot = await bootIn(dir, [...BOOT, "--image", await makeSmallImage(`${dir}/s.img`)]);
    assertEquals(boot.code, 0, boot.stdout + boot.stderr);
    const snap: Snapshot = JSON.parse(await Deno.readTextFile(`${dir}/build/logs/snapshot.json`));
    assertEquals(snap.schemaVersion, 1);
    assertEquals(snap.tasks.map((t) => t.name), [
      "init",
      "logd",
      "policyd",
      "samgrd",
      "rngd",
      "statefsd",
      "keystored",
      "bundlemgrd",
      "updated",
      "selftest-ungranted",
      "selftest-client",
    ]);
    const statefsd = snap.tasks.find((t) => t.name === "statefsd")!;
    assert(statefsd.received > 0 && statefsd.sent > 0 && statefsd.syscalls > statefsd.sent);
    assertEquals(statefsd.blockedOn?.op, "recv");
    assertEquals(statefsd.blockedOn?.slotName, "inbox");
    // Every request statefsd received was sent by someone: the counts add up across tasks.
    const sent = snap.tasks.reduce((n, t) => n + t.sent, 0);
    const received = snap.tasks.reduce((n, t) => n + t.received, 0);
    assert(sent >= received && received > 0, `${sent} sent, ${received} received`);

    const ps = await nexusIn(["ps"], { cwd: dir });
    assertEquals(ps.code, 0, ps.stderr);
    assertMatch(ps.stdout, /^PID +NAME +STATE +SINCE +SENT +RECV +SYSCALLS +WAITS ON$/m);
    assertMatch(
      ps.stdout,
      new RegExp(
        `^6 +statefsd +blocked +t=[\\d.]+ms +${statefsd.sent} +${statefsd.received} +${statefsd.syscalls} +recv slot 0x03 inbox on endpoint #\\d+ of statefsd$`,
        "m",
      ),
    );
    assertMatch(ps.stdout, /^11 +selftest-client +exited\(0\) /m);

    const caps = await nexusIn(["caps", "keystored"], { cwd: dir });
    assertEquals(caps.code, 0, caps.stderr);
    assertMatch(caps.stdout, /^SLOT +NAME +KIND +RIGHTS +TARGET$/m);
    assertMatch(caps.stdout, /^0x01 +to init +endpoint +s +endpoint #\d+ of init$/m);
    assertMatch(caps.stdout, /^0x06 +statefsd +endpoint +s +endpoint #\d+ of statefsd$/m);
    const init = await nexusIn(["caps", "init"], { cwd: dir });
    assertMatch(init.stdout, /^0x01 +mmio window 0 +mmio +m +mmio window 0 @0x10001000$/m);

    const psJson = JSON.parse((await nexusIn(["ps", "--json"], { cwd: dir })).stdout);
    assertEquals(psJson.tasks, snap.tasks);
    const capsJson = JSON.parse(
      (await nexusIn(["caps", "keystored", "--json"], { cwd: dir })).stdout,
    );
    assertEquals(capsJson, { service: "keystored", slots: snap.caps.keystored });
    const statefsdSlot = capsJson.slots.find((s: { name: string }) => s.name === "statefsd");
    assertEquals(statefsdSlot?.endpoint?.owner, "statefsd");
    assertEquals(statefsdSlot?.rights, "s");
  });
});

Deno.test("ps: a watchdog that fires leaves the snapshot of that moment", async () => {
  await withTempDir("nexus-views-", async (dir) => {
    const boot = await bootIn(dir, [...BOOT, "--watchdog-ticks", "1", "--log-dir", "logs"]);
    assertEquals(boot.code, 1, boot.stdout + boot.stderr);
    const ps = await nexusIn(["ps", "--log-dir", "logs", "--json"], { cwd: dir });
    assertEquals(ps.code, 0, ps.stderr);
    const tasks: Snapshot["tasks"] = JSON.parse(ps.stdout).tasks;
    // The boot stopped at the watchdog: the self-test client had not finished.
    const client = tasks.find((t) => t.name === "selftest-client")!;
    assert(client.state !== "exited", JSON.stringify(client));
    // A caller on its reply inbox waits for the service it called, named with the request.
    assertEquals(client.blockedOn?.calling?.owner, "statefsd");
    assertMatch(client.waits, /^reply from statefsd to SF op 0x\w\w \(recv slot 0x03 reply\)$/);
    const keystored = tasks.find((t) => t.name === "keystored")!;
    assertEquals(keystored.waits, `recv slot 0x03 inbox on endpoint "keystored" of keystored`);
    // The snapshot is init's table at the tick the watchdog fired, row for row.
    const snap: Snapshot = JSON.parse(await Deno.readTextFile(`${dir}/logs/snapshot.json`));
    const uart = (await Deno.readTextFile(`${dir}/logs/uart.log`)).split("\n");
    const head = uart.findIndex((l) => /init-lite: unfinished tasks/.test(l));
    assert(head > 0, uart.join("\n"));
    const printed = uart.slice(
      head,
      head + 2 + snap.tasks.filter((t) => t.state !== "exited").length,
    )
      .map((l) => l.slice(l.indexOf("init-lite: ") + "init-lite: ".length));
    const unfinished = snap.tasks.filter((t) => t.state !== "exited");
    assertEquals(formatTaskTable(unfinished, (t) => t.waits, snap.virtualNs), printed);
  });
});

Deno.test("ps and caps: a missing snapshot, a foreign file or an unknown service is one line, exit 2", async () => {
  await withTempDir("nexus-views-", async (dir) => {
    for (const args of [["ps"], ["caps", "keystored"], ["ps", "--log-dir", "nowhere", "--json"]]) {
      const r = await nexusIn(args, { cwd: dir });
      assertEquals(r.code, 2, args.join(" "));
      assertMatch(r.stderr, /^nexus: .*snapshot\.json: no snapshot; run `nexus boot` first/);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
      assertEquals(r.stdout, "");
    }
    await Deno.mkdir(`${dir}/build/logs`, { recursive: true });
    await Deno.writeTextFile(`${dir}/build/logs/snapshot.json`, "{not json");
    const bad = await nexusIn(["ps"], { cwd: dir });
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /^nexus: .*snapshot\.json: not JSON/);
    await Deno.writeTextFile(`${dir}/build/logs/snapshot.json`, '{"schemaVersion":99,"tasks":[]}');
    const foreign = await nexusIn(["caps", "init"], { cwd: dir });
    assertEquals(foreign.code, 2);
    assertMatch(foreign.stderr, /^nexus: .*not a snapshot of schema 1/);

    await Deno.writeTextFile(
      `${dir}/build/logs/snapshot.json`,
      JSON.stringify({ schemaVersion: 1, virtualNs: 0, tasks: [], caps: { init: [], logd: [] } }),
    );
    const unknown = await nexusIn(["caps", "keystore"], { cwd: dir });
    assertEquals(unknown.code, 2);
    assertEquals(unknown.stdout, "");
    assertMatch(
      unknown.stderr,
      /^nexus: no task "keystore" in the snapshot; tasks: init, logd\n$/,
    );
    // A name that is an Object property is still unknown.
    assertEquals((await nexusIn(["caps", "constructor"], { cwd: dir })).code, 2);
    // A boot that ends in exit 2 leaves no earlier boot's snapshot behind.
    assertEquals((await bootIn(dir, ["--phase", "nope"])).code, 2);
    assertMatch((await nexusIn(["ps"], { cwd: dir })).stderr, /no snapshot; run `nexus boot`/);
  });
});
