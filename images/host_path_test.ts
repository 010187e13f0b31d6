import fc from "fast-check";
import * as posix from "node:path";
import { assertEquals } from "../tests/assert.ts";
import { basename, dirname, isAbsolute, join } from "./host_path.ts";

// Paths from the pieces that make path code go wrong: slashes in runs, dots, empty parts.
const segment = fc.constantFrom("a", "bc", ".", "..", "x.img", "", "d e");
const path = fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 5 }), fc.boolean()).map(
  ([abs, parts, trailing]) => `${abs ? "/" : ""}${parts.join("/")}${trailing ? "/" : ""}`,
);

Deno.test("host paths: dirname, basename and isAbsolute agree with node:path (property)", () => {
  fc.assert(
    fc.property(path, (p) => {
      assertEquals(dirname(p), posix.dirname(p), `dirname ${JSON.stringify(p)}`);
      assertEquals(basename(p), posix.basename(p), `basename ${JSON.stringify(p)}`);
      assertEquals(isAbsolute(p), posix.isAbsolute(p), `isAbsolute ${JSON.stringify(p)}`);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("host paths: join names the file node:path's join names, as typed (property)", () => {
  fc.assert(
    fc.property(path, path, (dir, rel) => {
      const joined = join(dir, rel);
      assertEquals(posix.normalize(joined), posix.normalize(posix.join(dir, rel)));
    }),
    { numRuns: 2000 },
  );
  assertEquals(join("/home/me/", "./x.img"), "/home/me/./x.img");
  assertEquals(join("/home/me", "../x.img"), "/home/me/../x.img");
});
