import { assertEquals, assertThrows } from "../tests/assert.ts";
import { HarnessError } from "./errors.ts";
import { DEFAULT_IMAGE_PATH, pathKind, planImage } from "./image_plan.ts";

const is = (k: "file" | "missing" | "other") => () => k;

Deno.test("the default image is made fresh for every boot unless kept", () => {
  assertEquals(planImage({ keepImage: false }, is("file")), {
    path: DEFAULT_IMAGE_PATH,
    action: "recreate",
    explicit: false,
  });
  assertEquals(planImage({ keepImage: false }, is("missing")).action, "create");
  assertEquals(planImage({ keepImage: true }, is("file")).action, "keep");
  assertEquals(planImage({ keepImage: true }, is("missing")).action, "create");
});

Deno.test("an image the user names is never recreated, only created when missing", () => {
  for (const keepImage of [false, true]) {
    assertEquals(planImage({ image: "mine.img", keepImage }, is("file")), {
      path: "mine.img",
      action: "keep",
      explicit: true,
    });
    assertEquals(planImage({ image: "mine.img", keepImage }, is("missing")).action, "create");
  }
});

Deno.test("a directory where the image should be is refused", () => {
  const err = assertThrows(
    () => planImage({ image: "d", keepImage: false }, is("other")),
    HarnessError,
  );
  assertEquals(err.code, "BAD_OPTION");
  assertEquals(err.message, "image d is not a regular file");
});

Deno.test("pathKind tells files, directories and missing paths apart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "x");
    assertEquals(pathKind(`${dir}/f`), "file");
    assertEquals(pathKind(dir), "other");
    assertEquals(pathKind(`${dir}/none`), "missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
