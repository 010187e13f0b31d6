/**
 * The words for an argument Stricli refused, shared by `nexus` and `deno task mutants` so every
 * command line of the project words its usage errors alike.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./usage.ts";
 * didYouMean(["keepImage"], "--"); // " (Did you mean --keep-image?)"
 * ```
 *
 * @module
 */

import { ArgumentScannerError, formatMessageForArgumentScannerError } from "@stricli/core";

/** ` (Did you mean X?)` for Stricli's corrections (flags come as camelCase names). */
export function didYouMean(corrections: readonly string[], prefix = ""): string {
  // Command corrections come in backticks.
  const names = corrections.map((c) =>
    prefix + c.replace(/^`|`$/g, "").replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)
  );
  return names.length === 0 ? "" : ` (Did you mean ${names.join(" or ")}?)`;
}

/** One line for an argument Stricli refused (without the program name or a help pointer). */
export function usageError(exc: unknown): string {
  if (!(exc instanceof ArgumentScannerError)) {
    return exc instanceof Error ? exc.message : String(exc);
  }
  return formatMessageForArgumentScannerError(exc, {
    FlagNotFoundError: (e) =>
      `unknown option '${e.aliasName === undefined ? "--" : "-"}${e.input}'${
        didYouMean(e.corrections, "--")
      }`,
    AliasNotFoundError: (e) => `unknown option '-${e.input}'`,
    UnsatisfiedFlagError: (e) => `option '--${e.externalFlagName}' argument missing`,
    // Only flags have parsers that refuse values; positionals are taken as typed.
    ArgumentParseError: (e) =>
      `option '--${e.externalFlagNameOrPlaceholder}' argument '${e.input}' is invalid: ${
        e.exception instanceof Error ? e.exception.message : String(e.exception)
      }`,
    EnumValidationError: (e) =>
      `option '--${e.externalFlagName}' argument '${e.input}' is invalid. Allowed choices are ${
        e.values.join(", ")
      }.`,
    UnsatisfiedPositionalError: (e) => `missing required argument '${e.placeholder}'`,
    UnexpectedPositionalError: (e) =>
      `too many arguments: expected ${e.expectedCount}, got '${e.input}'`,
    UnexpectedFlagError: (e) => `option '--${e.externalFlagName}' given more than once`,
    InvalidNegatedFlagSyntaxError: (e) =>
      `option '--${e.externalFlagName}' takes no value (got '${e.valueText}')`,
  });
}
