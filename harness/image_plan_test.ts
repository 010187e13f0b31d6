import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../tests/assert.ts";
import { HarnessError } from "./errors.ts";
import {
  DEFAULT_IMAGE_PATH,
  leaseImage,
  lockImage,
  type MakeImage,
  pathKind,
  planImage,
} from "./image_plan.ts";

const is = (k: "file" | "missing" | "other") => () => k;

Deno.test("the default image is made fresh for every boot unless kept", () => {
  assertEquals(planImage({ keepImage: false }, is("file")), {
    path: DEFAULT_IMAGE_PATH,
    action: "recreate",
    explicit: false,
    inPlace: false,
  });
  assertEquals(planImage({ keepImage: false }, is("missing")).action, "create");
  assertEquals(planImage({ keepImage: true }, is("file")).action, "keep");
  assertEquals(planImage({ keepImage: true }, is("missing")).action, "create");
  assertEquals(planImage({ keepImage: true }, is("missing")).inPlace, true);
});

Deno.test("an image the user names is never recreated, only created when missing", () => {
  for (const keepImage of [false, true]) {
    assertEquals(planImage({ image: "mine.img", keepImage }, is("file")), {
      path: "mine.img",
      action: "keep",
      explicit: true,
      inPlace: true,
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

Deno.test("fresh default images are private per boot; the last one released becomes the image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/build/blk.img`;
    const plan = planImage({ image: undefined, keepImage: false, defaultPath: path });
    const make: MakeImage = (p, force) => {
      assertEquals(force, true);
      return Deno.writeTextFile(p, `image of ${p}`);
    };
    const notices: string[] = [];
    const a = await leaseImage(plan, make, (t) => notices.push(t));
    const b = await leaseImage(plan, make, (t) => notices.push(t));
    assert(a.path !== b.path && a.path !== path && b.path !== path, "each boot its own file");
    assertEquals(pathKind(path), "missing", "nothing half-built at the shared path");
    b.release();
    assertEquals(await Deno.readTextFile(path), `image of ${b.path}`);
    a.release();
    a.release(); // idempotent
    assertEquals(await Deno.readTextFile(path), `image of ${a.path}`);
    assertEquals(pathKind(a.path), "missing");
    const left = [...Deno.readDirSync(`${dir}/build`)].map((e) => e.name).sort();
    assertEquals(left, ["blk.img", "blk.img.lock"]);
    assertEquals(notices, []);

    // A failed build leaves nothing behind.
    const failing: MakeImage = () => Promise.reject(new Error("disk full"));
    await assertRejects(() => leaseImage(plan, failing, () => {}), Error, "disk full");
    assertEquals([...Deno.readDirSync(`${dir}/build`)].length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a kept default image is created once and booted in place; a named one is left alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/blk.img`;
    let made = 0;
    const make: MakeImage = async (p) => {
      made++;
      await Deno.writeTextFile(p, "fresh");
    };
    const keep = planImage({ keepImage: true, defaultPath: path });
    const first = await leaseImage(keep, make, () => {});
    assertEquals([first.path, await Deno.readTextFile(path), made], [path, "fresh", 1]);
    first.release();
    await Deno.writeTextFile(path, "persisted");
    const second = await leaseImage(
      planImage({ keepImage: true, defaultPath: path }),
      make,
      () => {},
    );
    assertEquals([await Deno.readTextFile(second.path), made], ["persisted", 1]);
    second[Symbol.dispose]();
    const mine = `${dir}/mine.img`;
    const named = await leaseImage(planImage({ image: mine, keepImage: false }), make, () => {});
    assertEquals([named.path, made], [mine, 2]);
    named.release();
    assertEquals(pathKind(`${mine}.lock`), "missing", "no lock litter beside a user's image");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second boot on the kept default image waits for the first, and says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/blk.img`;
    await Deno.writeTextFile(path, "x");
    const unlock = lockImage(path, () => {});
    const script = `${dir}/second.ts`;
    await Deno.writeTextFile(
      script,
      `import { lockImage } from ${
        JSON.stringify(new URL("./image_plan.ts", import.meta.url).href)
      };
const release = lockImage(${JSON.stringify(path)}, (t) => console.log("notice: " + t));
console.log("locked after: " + Deno.readTextFileSync(${JSON.stringify(`${dir}/state`)}));
release();
`,
    );
    await Deno.writeTextFile(`${dir}/state`, "first still holds it");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-all", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) out += (await reader.read()).value ?? "";
    assertMatch(out, new RegExp(`^notice: waiting for another nexus boot \\(pid ${Deno.pid}\\)`));
    await Deno.writeTextFile(`${dir}/state`, "first released it");
    unlock();
    for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
    assertEquals((await child.status).code, 0);
    assertMatch(out, /\nlocked after: first released it\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
