/**
 * nexus: the library behind the `nexus` command. Each part of the system is exposed as a
 * namespace so names stay unambiguous:
 *
 * - `kernel`: the deterministic capability microkernel (tasks, caps, endpoints, scheduler,
 *   console, MMIO bus) and the shared frame / request-reply helpers.
 * - `statefs`: the StateFS engine, its journal and superblock codecs, block devices and fsck.
 * - `virtio`: guest memory, the virtio-mmio virtio-blk device, its driver and fault injection.
 * - `simulation`: the seeded PRNG, the seeded schedule and disk fault plans.
 * - `images`: GPT, image recipes, mkfs and image opening.
 * - `init`: the system manifest, init-lite, the slot validator and `bootSystem`.
 * - `harness`: ladders, the judge, verdict reports and the live runners behind `nexus boot` and
 *   `nexus scan`.
 * - `services`: the service registry (every service module by name).
 *
 * @example
 * ```ts
 * import { images, init } from "./mod.ts";
 * await images.mkfsImage("build/blk.img", { force: true });
 * const outcome = await init.bootSystem({
 *   imagePath: "build/blk.img",
 *   seed: 1,
 *   onLine: (line) => console.log(line),
 *   shouldStop: () => false,
 * });
 * ```
 *
 * @module
 */

export * as kernel from "./core/kernel/mod.ts";
export * as statefs from "./core/statefs/mod.ts";
export * as virtio from "./core/virtio/mod.ts";
export * as simulation from "./core/simulation/mod.ts";
export * as images from "./images/mod.ts";
export * as init from "./init/mod.ts";
export * as harness from "./harness/mod.ts";
export * as services from "./services/mod.ts";
