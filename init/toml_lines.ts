/**
 * Maps value paths of a TOML document (`["service", 4, "slots", "reply"]`) back to the line that
 * declares them, so manifest diagnostics can say where to look. The value parser reports
 * positions for syntax errors only; the positions come from a second, position-keeping parse of
 * the same text (`toml-eslint-parser`), so values that span several lines (arrays, multi-line
 * strings) cannot shift the lines of what follows them.
 *
 * That parse costs several times the value parse, and a manifest without problems never needs a
 * line: it runs on the first lookup only, and the parser is loaded then too (loading it was a
 * measurable part of every boot's start-up). The lookups are synchronous, so the parser is loaded
 * with `require`, which also takes an ES module package.
 *
 * @example
 * ```ts
 * import { TomlLines } from "./toml_lines.ts";
 *
 * const lines = new TomlLines('[[service]]\nname = "logd"\n');
 * lines.lineOf(["service", 0, "name"]); // 2
 * ```
 *
 * @module
 */

import type { AST } from "toml-eslint-parser";

type Parser = typeof import("toml-eslint-parser");
let parser: Parser | undefined;

/**
 * The position-keeping parse, its package loaded on the first call. A synchronous load needs
 * `require`; `node:module` is fetched then too, since importing it up front would start Deno's
 * Node compatibility layer (about 35 ms) in every process, and only a diagnostic needs a line.
 */
function parseTOML(text: string): AST.TOMLProgram {
  parser ??= process.getBuiltinModule("node:module").createRequire(import.meta.url)(
    "toml-eslint-parser",
  ) as Parser;
  return parser.parseTOML(text);
}

/** A path into the parsed document: table keys and array indices. */
export type TomlPath = ReadonlyArray<string | number>;

function pathKey(path: TomlPath): string {
  return JSON.stringify(path);
}

/** Line numbers (1-based) of the tables, keys and array entries of one TOML text. */
export class TomlLines {
  readonly #text: string;
  #lines: Map<string, number> | undefined;

  /** Positions of `text`, read on the first lookup. Never throws. */
  constructor(text: string) {
    this.#text = text;
  }

  /**
   * Gives `entry` an enumerable `line` property that looks up `path` when first read (see the
   * module comment), and returns it.
   */
  withLine<T extends object>(entry: T, path: TomlPath): T & { line?: number } {
    const at = [...path];
    Object.defineProperty(entry, "line", {
      get: () => this.lineOf(at),
      enumerable: true,
      configurable: true,
    });
    return entry as T & { line?: number };
  }

  #read(): Map<string, number> {
    if (this.#lines !== undefined) return this.#lines;
    this.#lines = new Map();
    let program: AST.TOMLProgram;
    try {
      program = parseTOML(this.#text);
    } catch {
      // The value parser reports the syntax error; without positions every lookup is undefined.
      return this.#lines;
    }
    for (const top of program.body) {
      for (const node of top.body) {
        if (node.type === "TOMLTable") {
          this.#record(node.resolvedKey, node.loc.start.line);
          for (const kv of node.body) this.#keyValue(node.resolvedKey, kv);
        } else this.#keyValue([], node);
      }
    }
    return this.#lines;
  }

  /** Records each part of a (dotted) key under `table`, then what its value holds. */
  #keyValue(table: TomlPath, kv: AST.TOMLKeyValue): void {
    const path = [...table];
    for (const k of kv.key.keys) {
      path.push(k.type === "TOMLBare" ? k.name : k.value);
      this.#record(path, kv.loc.start.line);
    }
    this.#value(path, kv.value);
  }

  /** Inline tables and arrays: their keys and entries at the lines they are written on. */
  #value(path: TomlPath, value: AST.TOMLContentNode): void {
    if (value.type === "TOMLInlineTable") {
      for (const kv of value.body) this.#keyValue(path, kv);
    } else if (value.type === "TOMLArray") {
      value.elements.forEach((el, i) => {
        const at = [...path, i];
        this.#record(at, el.loc.start.line);
        this.#value(at, el);
      });
    }
  }

  #record(path: TomlPath, line: number): void {
    const k = pathKey(path);
    if (!this.#lines!.has(k)) this.#lines!.set(k, line);
  }

  /**
   * The line declaring `path`, or of its nearest declared ancestor; undefined when nothing on
   * the path was found.
   */
  lineOf(path: TomlPath): number | undefined {
    const lines = this.#read();
    for (let len = path.length; len > 0; len--) {
      const line = lines.get(pathKey(path.slice(0, len)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}
