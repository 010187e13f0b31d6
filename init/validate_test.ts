import { assert, assertEquals, assertMatch } from "../tests/assert.ts";
import { RIGHT_RECV, RIGHT_SEND } from "../core/kernel/types.ts";
import type { Diagnostic } from "./diagnostic.ts";
import { formatDiagnostic } from "./diagnostic.ts";
import { DEFAULT_MANIFEST_PATH, parseManifest } from "./manifest.ts";
import { fakeModule, PLAN_NEEDS, planRegistry } from "./testing/fake_services.ts";
import { syncCycles, validateManifest } from "./validate.ts";

const DEFAULT_TEXT = Deno.readTextFileSync(DEFAULT_MANIFEST_PATH);

function validate(text: string, registry = planRegistry()) {
  return validateManifest(parseManifest(text, "sys.toml"), registry);
}

/** Applies `from -> to` replacements (each must match) to the default manifest and validates. */
function mutate(...edits: Array<[string | RegExp, string]>) {
  let text = DEFAULT_TEXT;
  for (const [from, to] of edits) {
    const next = text.replace(from, to);
    assert(next !== text, `edit did not apply: ${from}`);
    text = next;
  }
  return validate(text);
}

function only(problems: Diagnostic[], code: string): Diagnostic {
  const hits = problems.filter((p) => p.code === code);
  assertEquals(hits.length, 1, `${code} in ${problems.map(formatDiagnostic).join("\n")}`);
  return hits[0];
}

Deno.test("the default manifest validates clean against the wiring plan's needs", () => {
  const r = validate(DEFAULT_TEXT);
  assertEquals(r.problems.map(formatDiagnostic), []);
  assert(r.valid);
  assertEquals([r.errors, r.warnings], [0, 0]);
});

Deno.test("a required slot missing from the map", () => {
  const r = mutate([/^logd = \{ slot = 6, .*\n/m, ""]);
  assert(!r.valid);
  const d = only(r.problems, "MISSING_SLOT");
  assertEquals([d.service, d.slot], ["statefsd", "logd"]);
  assertMatch(d.message, /statefsd needs slot logd \(audit records\)/);
  assertMatch(d.hint, /add logd = \{ slot = 6, rights = \["send"\], endpoint = "logd" \}/);
  assertEquals(d.line, 53, "points at the service");
});

Deno.test("a slot assigned twice", () => {
  const r = mutate(["rngd = { slot = 7,", "rngd = { slot = 6,"]);
  const d = only(r.problems, "DUPLICATE_SLOT");
  assertEquals([d.service, d.slot, d.slotNumber], ["keystored", "rngd", 6]);
  assertMatch(d.message, /slot 0x06 is assigned twice in keystored: to statefsd and to rngd/);
  assertMatch(d.hint, /slot = 5/);
  assertEquals(r.errors, 1);
});

Deno.test("a reserved slot reused", () => {
  for (const n of [0, 1, 2]) {
    const r = mutate(["samgrd = { slot = 6,", `samgrd = { slot = ${n},`]);
    const d = only(r.problems, "RESERVED_SLOT");
    assertEquals([d.service, d.slot, d.slotNumber], ["selftest-client", "samgrd", n]);
    assertMatch(d.hint, /slot = 6/);
  }
});

Deno.test("wrong rights for the use: missing is an error, extra a warning", () => {
  const missing = mutate([
    'reply = { slot = 4, rights = ["send", "recv"], endpoint = "statefsd.reply"',
    'reply = { slot = 4, rights = ["recv"], endpoint = "statefsd.reply"',
  ]);
  const d = only(missing.problems, "WRONG_RIGHTS");
  assertEquals([d.service, d.slot], ["statefsd", "reply"]);
  assertMatch(d.message, /has rights recv but statefsd needs send\|recv .*missing send/);
  assertMatch(d.hint, /rights = \["send", "recv"\]/);

  const extra = mutate([
    'inbox = { slot = 3, rights = ["recv"], endpoint = "samgrd"',
    'inbox = { slot = 3, rights = ["send", "recv"], endpoint = "samgrd"',
  ]);
  assert(extra.valid);
  const w = only(extra.problems, "EXCESS_RIGHTS");
  assertEquals([w.severity, w.service, w.slot], ["warning", "samgrd", "inbox"]);

  const stolen = mutate([
    'policyd = { slot = 5, rights = ["send"]',
    'policyd = { slot = 5, rights = ["send", "recv"]',
  ]);
  const s = stolen.problems.find((p) => p.code === "WRONG_RIGHTS")!;
  assertMatch(
    s.message,
    /holds recv on "policyd", owned by policyd: only an endpoint's owner receives/,
  );
});

Deno.test("wrong kind: an endpoint where an MMIO window is needed", () => {
  const r = mutate([
    'blk = { slot = 8, rights = ["map"], mmio = 0 }',
    'blk = { slot = 8, rights = ["map"], endpoint = "statefsd.reply" }',
  ]);
  const d = only(r.problems, "WRONG_KIND");
  assertEquals([d.service, d.slot], ["statefsd", "blk"]);
  assertMatch(d.message, /needs an MMIO window/);
});

Deno.test("a target that is not declared, with did-you-mean", () => {
  const r = mutate([
    'keystored = { slot = 7, rights = ["send"], endpoint = "keystored" }',
    'keystored = { slot = 7, rights = ["send"], endpoint = "keystore" }',
  ]);
  const d = only(r.problems, "UNKNOWN_TARGET");
  assertEquals([d.service, d.slot], ["updated", "keystored"]);
  assertMatch(
    d.message,
    /endpoint "keystore", which is not declared \(did you mean "keystored"\?\)/,
  );

  const w = mutate([
    'blk = { slot = 8, rights = ["map"], mmio = 0 }',
    'blk = { slot = 8, rights = ["map"], mmio = 1 }',
  ]);
  const m = only(w.problems, "UNKNOWN_TARGET");
  assertMatch(m.message, /MMIO window 1, which is not declared \(declared: 0\)/);
});

Deno.test("retargets that break the wiring conventions are WRONG_TARGET", () => {
  const inbox = mutate([
    'inbox = { slot = 3, rights = ["recv"], endpoint = "rngd" }',
    'inbox = { slot = 3, rights = ["recv"], endpoint = "samgrd" }',
  ]);
  const i = inbox.problems.filter((p) => p.code === "WRONG_TARGET");
  assertEquals(i.map((p) => [p.service, p.slot]), [["rngd", "inbox"]]);
  assertMatch(i[0].message, /inbox must be rngd's own request endpoint "rngd", not "samgrd"/);

  const reply = mutate([
    'reply = { slot = 4, rights = ["send", "recv"], endpoint = "updated.reply" }',
    'reply = { slot = 4, rights = ["send", "recv"], endpoint = "keystored.reply" }',
  ]);
  const r = reply.problems.find((p) => p.code === "WRONG_TARGET")!;
  assertEquals([r.service, r.slot], ["updated", "reply"]);
  assertMatch(r.hint, /endpoint = "updated.reply"/);

  const peer = mutate([
    'statefsd = { slot = 4, rights = ["send"], endpoint = "statefsd" }',
    'statefsd = { slot = 4, rights = ["send"], endpoint = "keystored" }',
  ]);
  const p = only(peer.problems, "WRONG_TARGET");
  assertEquals([p.service, p.slot], ["selftest-client", "statefsd"]);
  assertMatch(p.message, /named after the service statefsd but targets endpoint "keystored"/);
});

Deno.test("MMIO windows must be granted to the service that maps them", () => {
  const r = mutate(['services = ["statefsd"]', 'services = ["keystored"]']);
  const d = only(r.problems, "MMIO_NOT_GRANTED");
  assertEquals([d.service, d.slot], ["statefsd", "blk"]);
  assertMatch(d.hint, /add "statefsd" to services of \[\[mmio\]\] window 0/);
});

Deno.test("modules: unknown (did you mean) and name mismatch", () => {
  const r = mutate(['module = "bundlemgrd"', 'module = "bundlemgr"']);
  const d = only(r.problems, "UNKNOWN_MODULE");
  assertEquals(d.service, "bundlemgrd");
  assertMatch(d.message, /did you mean "bundlemgrd"/);
  assertEquals(r.problems.filter((p) => p.code === "UNUSED_SLOT").length, 0, "no needs, no noise");

  const reg = planRegistry();
  reg.rngd = fakeModule("entropyd", PLAN_NEEDS.rngd);
  const m = validate(DEFAULT_TEXT, reg);
  assertEquals(only(m.problems, "MODULE_NAME_MISMATCH").service, "rngd");
});

Deno.test("endpoints: unknown owner, nobody receiving, never used", () => {
  const owner = mutate([/name = "rngd"\nowner = "rngd"/, 'name = "rngd"\nowner = "rng"']);
  const o = only(owner.problems, "UNKNOWN_OWNER");
  assertMatch(o.message, /owned by "rng".*did you mean "rngd"/);

  const deaf = mutate([
    /\[service\.slots\]\ninbox = \{ slot = 3, rights = \["recv"\], endpoint = "rngd" \}\n/,
    "[service.slots]\n",
  ]);
  const n = only(deaf.problems, "NO_RECEIVER");
  assertMatch(
    n.message,
    /endpoint "rngd" has senders \(keystored\.rngd\) but nobody receives on it/,
  );
  assertEquals(only(deaf.problems, "MISSING_SLOT").service, "rngd");

  const unused = mutate([
    "[[mmio]]",
    '[[endpoint]]\nname = "spare"\nowner = "rngd"\ndepth = 2\n\n[[mmio]]',
  ]);
  assert(unused.valid);
  assertEquals(only(unused.problems, "UNUSED_ENDPOINT").severity, "warning");
});

Deno.test("a slot declared but never used is a warning", () => {
  const r = mutate([
    '[service.slots]\ninbox = { slot = 3, rights = ["recv"], endpoint = "samgrd" }',
    '[service.slots]\ninbox = { slot = 3, rights = ["recv"], endpoint = "samgrd" }\nlogd = { slot = 4, rights = ["send"], endpoint = "logd" }',
  ]);
  const d = only(r.problems, "UNUSED_SLOT");
  assertEquals([d.severity, d.service, d.slot], ["warning", "samgrd", "logd"]);
  // ...and the unused send still needs its route grant.
  assertEquals(only(r.problems, "ROUTE_NOT_GRANTED").service, "samgrd");
});

Deno.test("policy: routes not granted, grants without a slot, unknown subjects and targets", () => {
  const r = mutate(['"route:samgrd",\n', ""]);
  const d = only(r.problems, "ROUTE_NOT_GRANTED");
  assertEquals([d.service, d.slot, d.slotNumber], ["selftest-client", "samgrd", 6]);
  assertMatch(
    d.message,
    /does not grant selftest-client "route:samgrd": routing it would be DENIED/,
  );

  const extra = mutate(['caps = ["route:logd"]', 'caps = ["route:logd", "route:rngd"]']);
  assert(extra.valid);
  assertEquals(only(extra.problems, "GRANT_WITHOUT_SLOT").service, "policyd");

  const subj = mutate(['subject = "keystored"', 'subject = "keystore"']);
  assertMatch(only(subj.problems, "UNKNOWN_SUBJECT").message, /did you mean "keystored"/);

  const tgt = mutate(['"route:rngd"', '"route:rgnd"']);
  assertMatch(
    tgt.problems.find((p) => p.code === "UNKNOWN_TARGET")!.message,
    /"route:rgnd".*did you mean "rngd"/,
  );
});

Deno.test("a cycle of synchronous calls is reported once, with its path", () => {
  // keystored also calls updated synchronously: updated -> keystored -> updated.
  const reg = planRegistry();
  reg.keystored = fakeModule("keystored", [
    ...PLAN_NEEDS.keystored,
    { name: "updated", kind: "endpoint", rights: RIGHT_SEND, use: "x", sync: true },
  ]);
  const text = DEFAULT_TEXT.replace(
    'rngd = { slot = 7, rights = ["send"], endpoint = "rngd" }',
    'rngd = { slot = 7, rights = ["send"], endpoint = "rngd" }\nupdated = { slot = 8, rights = ["send"], endpoint = "updated" }',
  ).replace(
    'caps = ["route:statefsd", "route:rngd"]',
    'caps = ["route:statefsd", "route:rngd", "route:updated"]',
  );
  const r = validate(text, reg);
  const d = only(r.problems, "SYNC_CYCLE");
  assertEquals([d.service, d.slot, d.slotNumber], ["keystored", "updated", 8]);
  assertMatch(d.message, /keystored -\(updated\)-> updated -\(keystored\)-> keystored/);

  // A service calling its own endpoint synchronously deadlocks on itself.
  const self = mutate([
    'statefsd = { slot = 6, rights = ["send"], endpoint = "statefsd" }',
    'statefsd = { slot = 6, rights = ["send"], endpoint = "keystored" }',
  ]);
  const c = only(self.problems, "SYNC_CYCLE");
  assertMatch(c.message, /keystored -\(statefsd\)-> keystored$/);
});

Deno.test("syncCycles: one cycle per component, shortest way round, deterministic", () => {
  const e = (from: string, to: string, slot = to) => ({ from, to, slot });
  const nodes = ["a", "b", "c", "d", "e"];
  const edges = [e("a", "b"), e("b", "c"), e("c", "a"), e("b", "a"), e("d", "d"), e("e", "a")];
  const cycles = syncCycles(nodes, edges);
  assertEquals(cycles.map((c) => c.map((x) => `${x.from}>${x.to}`)), [["a>b", "b>a"], ["d>d"]]);
  assertEquals(syncCycles(nodes, [e("a", "b"), e("b", "c")]), []);
});

Deno.test("loader problems are part of the report, with every other problem", () => {
  const r = mutate(["rngd = { slot = 7,", 'rngd = { slot = 7, kind = "x",'], [
    '"route:samgrd",\n',
    "",
  ]);
  assertEquals(r.problems.map((p) => p.code), ["UNKNOWN_KEY", "ROUTE_NOT_GRANTED"]);
  assertEquals(r.problems[0].service, "keystored");
});

Deno.test("init's own needs: inbox always, policyd and updated when the system has them", () => {
  const r = mutate([/^updated = \{ slot = 7, .*\n/m, ""]);
  const d = only(r.problems, "MISSING_SLOT");
  assertEquals([d.service, d.slot], ["init", "updated"]);
  assertMatch(d.hint, /to \[init\.slots\]/);
  const recv = mutate([
    'inbox = { slot = 4, rights = ["recv"], endpoint = "init" }',
    'inbox = { slot = 4, rights = ["send"], endpoint = "init" }',
  ]);
  assertEquals(only(recv.problems, "WRONG_RIGHTS").service, "init");
  assertEquals(RIGHT_RECV, 2);
});

Deno.test("a grant a service needs and lacks is GRANT_MISSING, at the slot that needs it", () => {
  const r = mutate([`  "bundle.set_active",\n`, ""]);
  assert(!r.valid);
  const d = only(r.problems, "GRANT_MISSING");
  assertEquals([d.service, d.slot], ["updated", "bundlemgrd"]);
  assertMatch(d.message, /updated needs the grant "bundle.set_active"/);
  assertMatch(d.hint, /add "bundle.set_active" to caps of the \[\[policy.grant\]\] for updated/);
  const k = only(mutate([`  "keystore.sign",\n`, ""]).problems, "GRANT_MISSING");
  assertEquals([k.service, k.slot], ["selftest-client", "keystored"]);
});
