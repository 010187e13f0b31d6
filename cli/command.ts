/**
 * The pieces every command group declares its commands with, on top of Stricli: the run's
 * context, the wrapper that hands a command's error back to `run` (which prints it in the CLI's
 * one error style), and short forms of the parameter kinds nexus uses.
 *
 * @example
 * ```ts
 * import { buildCommand } from "@stricli/core";
 * import { action, arg, type NexusContext, option, toggle } from "./command.ts";
 * const show = buildCommand<{ json?: boolean; system?: string }, [string], NexusContext>({
 *   func: action(async (flags, image) => {/* ... *\/}),
 *   parameters: {
 *     flags: { json: toggle("print JSON"), system: option("system manifest", "file") },
 *     positional: { kind: "tuple", parameters: [arg("image file", "image")] },
 *   },
 *   docs: { brief: "show an image" },
 * });
 * ```
 *
 * @module
 */

import type { Command, CommandContext, RouteMap, StricliProcess } from "@stricli/core";
import { io } from "./io.ts";

/** What a nexus command runs with: Stricli's process streams, and where its failure goes. */
export interface NexusContext extends CommandContext {
  /** The streams Stricli writes help and its own errors to, and the exit code it sets. */
  readonly process: StricliProcess;
  /** The whole command tree of the run (what completion scripts describe). */
  readonly root: RouteMap<NexusContext>;
  /** The error the command ended with, for `run` to report (Stricli would print a stack). */
  failure?: { error: unknown };
}

/** A command or a group of commands under one name. */
export type RoutingTarget = Command<NexusContext> | RouteMap<NexusContext>;

/** The top-level commands one group adds, by name. */
export type Routes = Readonly<Record<string, RoutingTarget>>;

/**
 * Wraps a command's implementation so an error it throws reaches `run` (which prints a
 * `nexus: ...` line with the error's exit code, or lets a bug's stack trace through) instead of
 * Stricli's own report.
 */
export function action<F, A extends readonly unknown[]>(
  fn: (this: NexusContext, flags: F, ...args: A) => unknown,
): (this: NexusContext, flags: F, ...args: A) => Promise<void> {
  return async function (this: NexusContext, flags: F, ...args: A): Promise<void> {
    try {
      await fn.call(this, flags, ...args);
    } catch (error) {
      this.failure = { error };
    }
  };
}

/** An optional flag that takes a value (`--name VALUE`), parsed by `parse` (default: as typed). */
export function option<T = string>(
  brief: string,
  placeholder: string,
  parse: (input: string) => T = String as unknown as (input: string) => T,
): {
  kind: "parsed";
  brief: string;
  placeholder: string;
  parse: (input: string) => T;
  optional: true;
} {
  // Help lists flags without their value; the brief names it.
  return { kind: "parsed", brief: `<${placeholder}> ${brief}`, placeholder, parse, optional: true };
}

/** An optional flag whose value is one of `values`. */
export function choice<const T extends string>(
  brief: string,
  values: readonly T[],
): { kind: "enum"; brief: string; values: readonly T[]; optional: true } {
  return { kind: "enum", brief, values, optional: true };
}

/** A flag that is off unless given (`--name`; undefined when absent). */
export function toggle(
  brief: string,
): { kind: "boolean"; brief: string; optional: true; withNegated: false } {
  return { kind: "boolean", brief, optional: true, withNegated: false };
}

/** A flag that is on unless turned off with `--no-name`. */
export function onByDefault(brief: string): { kind: "boolean"; brief: string; default: true } {
  return { kind: "boolean", brief, default: true };
}

/** A required positional argument, as typed. */
export function arg(
  brief: string,
  placeholder: string,
): { brief: string; placeholder: string; parse: (input: string) => string } {
  return { brief, placeholder, parse: String };
}

/** An optional positional argument, as typed. */
export function optionalArg(
  brief: string,
  placeholder: string,
): { brief: string; placeholder: string; parse: (input: string) => string; optional: true } {
  return { brief, placeholder, parse: String, optional: true };
}

/** A command's one-line brief, with the longer text its `--help` shows after it. */
export function docs(brief: string, more?: string): { brief: string; fullDescription: string } {
  return { brief, fullDescription: more === undefined ? brief : `${brief}\n${more}` };
}

/**
 * The arguments that are nexus's own: those before `--`, after which they belong to the command
 * `scan --run` starts.
 */
export function ownArguments(args: readonly string[]): readonly string[] {
  const end = args.indexOf("--");
  return end < 0 ? args : args.slice(0, end);
}

/**
 * `--until-marker [MARKER]`, shared by boot and scan: a flag whose value may be left out. Alone it
 * gives "" (Stricli's empty inference); {@link untilMarkerValue} tells that from a typed "".
 */
export const UNTIL_MARKER = {
  kind: "parsed",
  brief:
    "[marker] stop once every marker of the phase was seen (no value, or 1), or at the first line containing MARKER (a ladder marker: the ladder counts what the console proves before it)",
  placeholder: "marker",
  parse: String,
  optional: true,
  inferEmpty: true,
} as const;

/**
 * The `--until-marker` value for the run: true for the flag alone, the marker as typed, or ""
 * for an empty value the user typed (`--until-marker ""`, `--until-marker=`), which the ladder
 * refuses. Stricli gives "" for the flag alone and for `--until-marker ""` alike, and takes
 * `--until-marker=` for a positional, so the run's own arguments ({@link ownArguments}) decide.
 */
export function untilMarkerValue(parsed: string | undefined): string | true | undefined {
  const own = ownArguments(io().argv ?? []);
  const typedEmpty = own.some((a, i) =>
    ((a === "--until-marker" || a === "--untilMarker") && own[i + 1] === "") ||
    a === "--until-marker=" || a === "--untilMarker="
  );
  if (typedEmpty) return "";
  return parsed === "" ? true : parsed;
}
