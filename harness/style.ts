/**
 * Colour for everything nexus prints, in one place. `node:util` `styleText` makes the escape
 * codes; {@link colorEnabled} decides whether a stream gets them: only a terminal, and never with
 * `NO_COLOR` set to a non-empty value (https://no-color.org). nexus decides this itself instead of
 * leaving it to `styleText`'s own stream check because it writes through injectable streams (the
 * verdict's terminal, `cli/io.ts`), which that check cannot see.
 *
 * @example
 * ```ts
 * import { colorEnabled, painter } from "./style.ts";
 *
 * const paint = painter(colorEnabled(Deno.stdout.isTerminal(), Deno.env.get("NO_COLOR")));
 * console.log(`${paint(["bold", "green"], "PASS")}: 3/3 markers`);
 * ```
 *
 * @module
 */

import { styleText } from "node:util";

/** A `styleText` format: one style name (`"bold"`, `"red"`, ...) or several. */
export type StyleFormat = Parameters<typeof styleText>[0];

/** Styles `text` with `format`, or returns it unchanged when colour is off. */
export type Painter = (format: StyleFormat, text: string) => string;

/** Whether output to a stream may carry colour: a terminal, and NO_COLOR unset or empty. */
export function colorEnabled(isTerminal: boolean, noColor: string | undefined): boolean {
  return isTerminal && (noColor === undefined || noColor === "");
}

const plain: Painter = (_format, text) => text;
// The decision is already made (colorEnabled), so styleText must not second-guess it.
const ansi: Painter = (format, text) => styleText(format, text, { validateStream: false });

/** A {@link Painter} that styles when `on`, and leaves text plain otherwise. */
export function painter(on: boolean): Painter {
  return on ? ansi : plain;
}
