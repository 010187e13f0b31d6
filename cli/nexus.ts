/**
 * The `nexus` process: what `deno task nexus` runs. It runs the bundled command tree when the
 * bundle is fresh (built again first when it is not; see `bundle.ts`), else the sources, which
 * behave the same: the bundle is built from them.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write --allow-env --allow-run cli/nexus.ts boot --help
 * ```
 *
 * @module
 */

import { bundledEntry } from "./bundle.ts";

// Neither entry is a literal, so Deno does not load the sources' module graph up front.
const sources = new URL("./main.ts", import.meta.url).href;
const bundle = await bundledEntry();
let cli: typeof import("./main.ts");
try {
  cli = await import(bundle ?? sources);
} catch (err) {
  // A bundle removed by a newer build between the check and the load: the sources are current.
  if (bundle === undefined) throw err;
  cli = await import(sources);
}
await cli.main();
