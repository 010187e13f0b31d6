import { EntropyStream } from "./stream.ts";

Deno.bench("EntropyStream: 32-byte draws (a key seed)", () => {
  const stream = new EntropyStream(1);
  for (let i = 0; i < 100; i++) stream.next(32);
});

Deno.bench("EntropyStream: one MAX_GET (4096-byte) draw", () => {
  new EntropyStream(1).next(4096);
});
