/**
 * Colour for everything nexus prints, in one place. `ansi-styles` supplies the escape codes;
 * {@link colorEnabled} decides whether a stream gets them: only a terminal, and never with
 * `NO_COLOR` set to a non-empty value (https://no-color.org). nexus decides this itself because
 * it writes through injectable streams (the verdict's terminal, `cli/io.ts`) that a library's own
 * stream check cannot see.
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

import styles, { type ForegroundColorName, type ModifierName } from "ansi-styles";

/** One style name (`"bold"`, `"red"`, ...) or several, applied outermost first. */
export type StyleFormat = Style | readonly Style[];

/** A text modifier or a foreground colour. */
export type Style = ModifierName | ForegroundColorName;

/** Styles `text` with `format`, or returns it unchanged when colour is off. */
export type Painter = (format: StyleFormat, text: string) => string;

/** Whether output to a stream may carry colour: a terminal, and NO_COLOR unset or empty. */
export function colorEnabled(isTerminal: boolean, noColor: string | undefined): boolean {
  return isTerminal && (noColor === undefined || noColor === "");
}

const plain: Painter = (_format, text) => text;

const ansi: Painter = (format, text) => {
  const list: readonly Style[] = typeof format === "string" ? [format] : format;
  let out = text;
  for (let i = list.length - 1; i >= 0; i--) {
    const { open, close } = styles[list[i]];
    out = `${open}${out}${close}`;
  }
  return out;
};

/** A {@link Painter} that styles when `on`, and leaves text plain otherwise. */
export function painter(on: boolean): Painter {
  return on ? ansi : plain;
}
