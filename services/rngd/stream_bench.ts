import { EntropyStream } from "./stream.ts";
import { sha256 } from "./sha256.ts";

const block = new Uint8Array(4096).map((_, i) => i & 0xff);

Deno.bench("sha256: 4 KiB, synchronous", { group: "sha256", baseline: true }, () => {
  sha256(block);
});

Deno.bench("sha256: 4 KiB, WebCrypto", { group: "sha256" }, async () => {
  await crypto.subtle.digest("SHA-256", block);
});

Deno.bench("EntropyStream: 32-byte draws (a key seed)", () => {
  const stream = new EntropyStream(1);
  for (let i = 0; i < 100; i++) stream.next(32);
});

Deno.bench("EntropyStream: one MAX_GET (4096-byte) draw", () => {
  new EntropyStream(1).next(4096);
});
