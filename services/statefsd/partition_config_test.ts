import { assert } from "../../tests/assert.ts";
import { STATEFS_TYPE_GUID } from "../../core/statefs/gpt.ts";
import type { MemoryStore } from "../../core/virtio/store.ts";
import { logd } from "../logd/main.ts";
import { bootServices, type RigResult } from "../testing/rig.ts";
import { statefsd } from "./main.ts";
import { diskOptions, fakePolicyd, makeDisk } from "../testing/statefs.ts";

function boot(store: MemoryStore, partition?: unknown): Promise<RigResult> {
  return bootServices({
    services: [
      { module: logd },
      fakePolicyd({}),
      {
        module: statefsd,
        config: { services: ["logd", "policyd", "statefsd"], partition },
      },
    ],
    ...diskOptions(store),
  });
}

/** Two partitions of the StateFS type: only a configured name can choose between them. */
function twoTyped(): MemoryStore {
  return makeDisk({
    partitions: [["a", 2048, 1024, STATEFS_TYPE_GUID], ["b", 4096, 1024, STATEFS_TYPE_GUID]],
  });
}

Deno.test("statefsd: config.partition picks the partition by its exact name", async () => {
  const r = await boot(twoTyped(), "b");
  assert(
    r.lines.includes("statefsd: formatted and mounted b (lba 4096, 1024 blocks, gen 1, 0 keys)"),
    r.lines.join("\n"),
  );
  const a = await boot(twoTyped(), "a");
  assert(a.lines.some((l) => l.startsWith("statefsd: formatted and mounted a (lba 2048")));
});

Deno.test("statefsd: a configured partition name that is absent is a FAIL, not a fallback", async () => {
  const r = await boot(makeDisk(), "missing");
  assert(
    r.lines.some((l) =>
      l.startsWith("statefsd: FAIL disk partition (no partition ") && l.includes('"missing"')
    ),
    r.lines.join("\n"),
  );
  assert(!r.lines.includes("statefsd: ready"));
});

Deno.test("statefsd: a partition setting that is not a string is ignored (discovery by type)", async () => {
  const r = await boot(twoTyped(), 2);
  assert(
    r.lines.some((l) =>
      l.startsWith("statefsd: FAIL disk partition (2 partitions have the StateFS type")
    ),
    r.lines.join("\n"),
  );
});
