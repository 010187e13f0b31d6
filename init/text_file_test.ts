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

Deno.test("readTextFileOr refuses a FIFO (no writer would block it) and odd paths, in short words", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/pipe.toml`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assertEquals(made.code, 0);
    const blocked = await assertRejects(
      () => readTextFileOr(fifo, (why) => new Refused(why)),
      Refused,
    );
    assertEquals(blocked.message, "is a FIFO, not a regular file (it could block forever)");
    await Deno.writeTextFile(`${dir}/file`, "x");
    const under = await assertRejects(
      () => readTextFileOr(`${dir}/file/a.toml`, (why) => new Refused(why)),
      Refused,
    );
    assertEquals(under.message, "a part of the path is a file, not a directory");
    const long = await assertRejects(
      () => readTextFileOr(`${dir}/${"n".repeat(300)}.toml`, (why) => new Refused(why)),
      Refused,
    );
    assertEquals(long.message, "file name too long");
    await Deno.symlink(`${dir}/loop-a`, `${dir}/loop-b`);
    await Deno.symlink(`${dir}/loop-b`, `${dir}/loop-a`);
    const loop = await assertRejects(
      () => readTextFileOr(`${dir}/loop-a`, (why) => new Refused(why)),
      Refused,
    );
    assertEquals(loop.message, "too many levels of symbolic links (a symlink loop?)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
