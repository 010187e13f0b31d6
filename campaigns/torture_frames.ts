/**
 * `torture frames`: hostile frames to every service a client can reach. The system boots with a
 * fuzzing client in the selftest-client's place (same slots, so init wires it the same way); for
 * each service it first sends one normal request (the baseline), then random frames and mutations
 * of valid ones (wrong version, truncated, oversized, wrong op, lying length fields, flipped
 * bytes), then the normal request again. Every frame the kernel delivers must get a well-formed
 * reply (the service's magic and version layout, the reply bit set), no service may die, and the
 * normal request afterwards must get the baseline's reply status or OK.
 *
 * A case is a seed: the frames it sends are drawn from it, so a failing seed replays exactly.
 *
 * @module
 */

import { call } from "../core/kernel/rpc.ts";
import { KernelError, MAX_FRAME, type Syscalls } from "../core/kernel/types.ts";
import type { ServiceEnv, ServiceModule } from "../core/kernel/service.ts";
import { Prng } from "../core/simulation/prng.ts";
import { bootSystem } from "../init/boot.ts";
import { SERVICES } from "../services/mod.ts";
import { encodeGet, encodePut, encodeStats } from "../services/statefsd/protocol.ts";
import {
  encodeRequest,
  KS_OP_GET_DEVICE_PUBKEY,
  KS_OP_VERIFY,
} from "../services/keystored/protocol.ts";
import { encodeLookup, encodeRegister } from "../services/samgrd/protocol.ts";
import { encodeCheck, encodeRoute } from "../services/policyd/protocol.ts";
import { encodeList, encodeSetActiveSlot } from "../services/bundlemgrd/protocol.ts";
import { encodeSimple, encodeSwitch, UD_OP_GET_STATUS } from "../services/updated/protocol.ts";
import { type CaseResult, recipeImage } from "./boot_case.ts";
import { type Campaign, type CampaignOptions, recipeFlag, recipeOption } from "./campaign.ts";
import { OverlayStore } from "./medium.ts";
import { mkfsImage } from "../images/mkfs.ts";
import { parseSeeds } from "./select.ts";

/** A service under fuzz: its slot name in the client, its frame magic, and valid frames. */
interface Target {
  slot: string;
  magic: string;
  normal: () => Uint8Array;
  valid: Array<() => Uint8Array>;
}

const TARGETS: Target[] = [
  {
    slot: "statefsd",
    magic: "SF",
    normal: () => encodeStats(),
    valid: [
      () => encodeGet("/state/fuzz/a"),
      () => encodePut("/state/fuzz/a", new Uint8Array([1, 2, 3])),
      () => encodeStats({ version: 2, nonce: 7n }),
    ],
  },
  {
    slot: "keystored",
    magic: "KS",
    normal: () => encodeRequest(KS_OP_GET_DEVICE_PUBKEY),
    valid: [() => encodeRequest(KS_OP_VERIFY, new Uint8Array(96))],
  },
  {
    slot: "samgrd",
    magic: "SM",
    normal: () => encodeLookup("statefsd"),
    valid: [() => encodeRegister("fuzz", 1, 2)],
  },
  {
    slot: "policyd",
    magic: "PO",
    normal: () => encodeCheck("fuzz.cap"),
    valid: [() => encodeRoute("fuzz", "statefsd")],
  },
  {
    slot: "bundlemgrd",
    magic: "BN",
    normal: () => encodeList(),
    valid: [() => encodeSetActiveSlot(1)],
  },
  {
    slot: "updated",
    magic: "UD",
    normal: () => encodeSimple(UD_OP_GET_STATUS),
    valid: [() => encodeSwitch(3)],
  },
];

/** One hostile frame, drawn from `rng`. */
function hostile(rng: Prng, t: Target): { frame: Uint8Array; kind: string } {
  const base = rng.below(4) === 0 ? t.normal() : t.valid[rng.below(t.valid.length)]();
  const f = base.slice();
  switch (rng.below(8)) {
    case 0: {
      const out = rng.fill(new Uint8Array(rng.below(48)));
      if (out.length >= 2 && rng.bool()) out.set([t.magic.charCodeAt(0), t.magic.charCodeAt(1)]);
      return { frame: out, kind: "random" };
    }
    case 1:
      if (f.length > 2) f[2] = rng.bool() ? 0 : 2 + rng.below(250);
      return { frame: f, kind: "wrong version" };
    case 2:
      return { frame: f.subarray(0, rng.below(f.length)), kind: "truncated" };
    case 3: {
      const out = new Uint8Array(MAX_FRAME);
      out.set(f);
      rng.fill(out.subarray(f.length));
      return { frame: out, kind: "oversized" };
    }
    case 4:
      if (f.length > 3) f[3] = rng.below(256);
      return { frame: f, kind: "wrong op" };
    case 5: {
      // A length field claiming more (or less) than the frame holds.
      if (f.length > 6) {
        const at = 4 + rng.below(f.length - 5);
        f[at] = 0xff;
        f[at + 1] = rng.below(256);
      }
      return { frame: f, kind: "lying length" };
    }
    case 6: {
      for (let i = 0, n = 1 + rng.below(4); i < n && f.length > 0; i++) {
        f[rng.below(f.length)] ^= 1 << rng.below(8);
      }
      return { frame: f, kind: "flipped bits" };
    }
    default: {
      const out = new Uint8Array(f.length + 1 + rng.below(64));
      out.set(f);
      rng.fill(out.subarray(f.length));
      return { frame: out, kind: "trailing bytes" };
    }
  }
}

function wellFormed(reply: Uint8Array, magic: string): boolean {
  return reply.length >= 5 && reply[0] === magic.charCodeAt(0) &&
    reply[1] === magic.charCodeAt(1) && (reply[3] & 0x80) !== 0;
}

/** Status byte of a reply in its version's layout (SF v2 carries a nonce first). */
function statusOf(reply: Uint8Array, magic: string): number {
  return magic === "SF" && reply[2] === 2 ? reply[12] : reply[4];
}

/** The fuzzing client: the selftest-client's slots, hostile frames instead of proofs. */
function fuzzClient(seed: number, perService: number, problems: string[]): ServiceModule {
  const real = SERVICES["selftest-client"];
  return {
    name: real.name,
    requiredSlots: real.requiredSlots,
    async main(sys: Syscalls, env: ServiceEnv) {
      const rng = Prng.stream(seed, "frames");
      const ask = async (t: Target, frame: Uint8Array) => {
        try {
          return (await call(sys, env.slots[t.slot], env.slots.reply, frame, {
            deadline: sys.now() + 50_000_000,
          })).data;
        } catch (err) {
          if (err instanceof KernelError) return err.code;
          throw err;
        }
      };
      for (const t of TARGETS) {
        const before = await ask(t, t.normal());
        if (typeof before === "string" || !wellFormed(before, t.magic)) {
          problems.push(`${t.slot}: the normal request got no reply before fuzzing (${before})`);
          continue;
        }
        for (let i = 0; i < perService; i++) {
          const { frame, kind } = hostile(rng, t);
          const r = await ask(t, frame);
          if (r === "FRAME_TOO_LARGE" || r === "INVALID_ARGUMENT") continue; // the kernel refused to send it
          if (typeof r === "string") {
            problems.push(
              `${t.slot}: no reply to a ${kind} frame #${i} (${r}): ${
                frame.subarray(0, 16).toHex()
              }`,
            );
            break;
          }
          if (!wellFormed(r, t.magic)) {
            problems.push(
              `${t.slot}: malformed reply to a ${kind} frame #${i}: ${r.subarray(0, 16).toHex()}`,
            );
            break;
          }
        }
        const after = await ask(t, t.normal());
        if (typeof after === "string" || !wellFormed(after, t.magic)) {
          problems.push(
            `${t.slot}: the normal request fails after fuzzing (${
              typeof after === "string" ? after : "malformed"
            })`,
          );
        } else if (
          statusOf(after, t.magic) !== statusOf(before, t.magic) && statusOf(after, t.magic) !== 0
        ) {
          // A hostile frame may legitimately change state (keystored generating its key turns a
          // refused lookup into OK); a request that worked must still work.
          problems.push(
            `${t.slot}: the normal request's status changed from ${statusOf(before, t.magic)} to ${
              statusOf(after, t.magic)
            }`,
          );
        }
      }
      sys.print("FUZZ: done");
    },
  };
}

interface FramesCtx {
  template: Uint8Array;
  /** The recipe file the image was made from (replay lines name it); the default image if none. */
  recipe?: string;
}

/** Runs one frames case: a boot with the fuzzing client sending `perService` frames to each. */
export async function runFramesCase(
  ctx: FramesCtx,
  seed: number,
  perService: number,
): Promise<CaseResult> {
  const problems: string[] = [];
  const lines: string[] = [];
  let done = false;
  try {
    const out = await bootSystem({
      imagePath: "<memory image>",
      store: new OverlayStore(ctx.template),
      seed,
      services: { ...SERVICES, "selftest-client": fuzzClient(seed, perService, problems) },
      onLine: (l) => {
        if (l.includes("FUZZ: done")) done = true;
        if (/FAIL|panic|!fatal/.test(l)) lines.push(l);
      },
      shouldStop: () => done,
    });
    for (const task of out.tasks) {
      if (task.state === "exited" && task.name !== "selftest-client" && task.name !== "init") {
        problems.push(`${task.name} died`);
      }
    }
  } catch (err) {
    problems.push(`boot threw: ${(err as Error).message}`);
  }
  if (!done && problems.length === 0) {
    problems.push("the fuzzing client never finished (a service hung?)");
  }
  problems.push(...lines.filter((l) => /panic|!fatal/.test(l)).map((l) => `console: ${l}`));
  return {
    id: String(seed),
    ok: problems.length === 0,
    problems,
    plan: `${perService} frames per service`,
    replay: `nexus torture frames --seeds ${seed} --frames ${perService}${recipeFlag(ctx.recipe)}`,
  };
}

/**
 * Makes the fresh image every frames case boots on: the default one, or the one the recipe file
 * at `recipe` describes.
 */
export async function makeFramesCtx(dir: string, recipe?: string): Promise<FramesCtx> {
  const path = `${dir}/frames-template.img`;
  await mkfsImage(path, { ...await recipeImage(recipe), force: true });
  const template = await Deno.readFile(path);
  await Deno.remove(path);
  return recipe ? { template, recipe } : { template };
}

/** The torture frames campaign. */
export const tortureFrames: Campaign<FramesCtx> = {
  name: "torture frames",
  setup(o: CampaignOptions, dir: string) {
    return makeFramesCtx(dir, recipeOption(o));
  },
  cases(o) {
    return Promise.resolve(parseSeeds(String(o.seeds ?? "1..10")).map(String));
  },
  run(ctx, id, o) {
    return runFramesCase(ctx, Number(id), Number(o.frames ?? 500));
  },
};
