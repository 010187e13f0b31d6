/**
 * CRC-32/IEEE (GPT) as nexus computes it (sliced tables, crc.ts) against `node:zlib`'s `crc32`,
 * on what GPT checksums (a 92-byte header, a 16 KiB entry array) and on 1 MiB; and CRC32-C
 * (every journal record) on 1 MiB beside them.
 *
 * zlib is faster per byte, but loading `node:zlib` costs more than every GPT checksum of a run
 * together (measured: about 0.06 s of CPU and 0.3 s of wall added to a process's start, against
 * well under a millisecond for the checksums), and nexus never checksums large IEEE inputs, so
 * crc.ts keeps its tables. The import is timed here too ("load node:zlib").
 *
 * Run with `deno task bench` (or `deno bench -A core/statefs/crc_bench.ts`).
 */

import { crc32, crc32c } from "./crc.ts";

const zlib = await import("node:zlib");
const header = new Uint8Array(92).map((_, i) => i * 7);
const entries = new Uint8Array(128 * 128).map((_, i) => i * 13);
const mib = new Uint8Array(1 << 20).map((_, i) => i * 31);

for (
  const [label, data] of [["GPT header", header], ["GPT entries", entries], ["1 MiB", mib]] as const
) {
  const group = `CRC-32 (IEEE), ${label}`;
  Deno.bench({ name: `nexus crc32, ${label}`, group, baseline: true, fn: () => void crc32(data) });
  Deno.bench({ name: `node:zlib crc32, ${label}`, group, fn: () => void zlib.crc32(data) });
}
Deno.bench({
  name: "nexus crc32c, 1 MiB",
  group: "CRC-32 (IEEE), 1 MiB",
  fn: () => void crc32c(mib),
});

Deno.bench({
  name: "load node:zlib (a fresh process)",
  group: "module load",
  n: 5,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", 'import("node:zlib").then((z) => z.crc32(new Uint8Array(1)))'],
    }).output();
    if (!out.success) throw new Error("deno eval failed");
  },
});
Deno.bench({
  name: "a fresh process without it",
  group: "module load",
  baseline: true,
  n: 5,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).output();
    if (!out.success) throw new Error("deno eval failed");
  },
});
