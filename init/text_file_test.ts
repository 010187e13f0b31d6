import { assertEquals, assertRejects } from "../tests/assert.ts";
import { readFailureReason, readTextFileOr } from "./text_file.ts";

class Refused extends Error {}

Deno.test("readTextFileOr returns the text, or the caller's error with a short reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.toml`, "x = 1\n");
    assertEquals(await readTextFileOr(`${dir}/a.toml`, (why) => new Refused(why)), "x = 1\n");
    const missing = await assertRejects(
      () => readTextFileOr(`${dir}/none.toml`, (why) => new Refused(why)),
      Refused,
    );
    assertEquals(missing.message, "no such file");
    const directory = await assertRejects(
      () => readTextFileOr(dir, (why) => new Refused(why)),
      Refused,
    );
    assertEquals(directory.message, "is a directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFailureReason falls back to the message of other errors", () => {
  assertEquals(readFailureReason(new Error("boom")), "boom");
  assertEquals(readFailureReason("odd"), "odd");
});
