/**
 * Maps value paths of a TOML document (`["service", 4, "slots", "reply"]`) back to the line that
 * declares them, so manifest diagnostics can say where to look. The TOML parser reports positions
 * for syntax errors only; this light scan of headers and key lines covers the manifest's shape
 * (tables, arrays of tables, dotted and quoted keys, inline tables on one line).
 *
 * @module
 */

/** A path into the parsed document: table keys and array indices. */
export type TomlPath = ReadonlyArray<string | number>;

function pathKey(path: TomlPath): string {
  return JSON.stringify(path);
}

/** Splits a dotted key (`a."b.c".d`) into its parts, unquoting quoted parts. */
export function splitDottedKey(raw: string): string[] | null {
  const parts: string[] = [];
  let i = 0;
  const s = raw.trim();
  while (i < s.length) {
    while (s[i] === " " || s[i] === "\t") i++;
    let part = "";
    if (s[i] === '"' || s[i] === "'") {
      const quote = s[i];
      const end = s.indexOf(quote, i + 1);
      if (end < 0) return null;
      part = s.slice(i + 1, end);
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
      if (!m) return null;
      part = m[0];
      i += part.length;
    }
    parts.push(part);
    while (s[i] === " " || s[i] === "\t") i++;
    if (i < s.length) {
      if (s[i] !== ".") return null;
      i++;
    }
  }
  return parts.length > 0 ? parts : null;
}

const ARRAY_HEADER = /^\s*\[\[([^\]]+)\]\]/;
const TABLE_HEADER = /^\s*\[([^\]]+)\]/;
const KEY_LINE =
  /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/;

/** Line numbers (1-based) of the tables and keys of one TOML text. */
export class TomlLines {
  readonly #lines = new Map<string, number>();

  /** Scans `text`. Never throws: lines it cannot read are skipped. */
  constructor(text: string) {
    const counts = new Map<string, number>();
    let table: Array<string | number> = [];
    let inMultiline = false;
    const lines = text.split(/\r?\n/);
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n];
      const triples = line.split('"""').length - 1 + line.split("'''").length - 1;
      if (inMultiline) {
        if (triples % 2 === 1) inMultiline = false;
        continue;
      }
      const arr = ARRAY_HEADER.exec(line);
      const tab = arr ? null : TABLE_HEADER.exec(line);
      if (arr || tab) {
        const parts = splitDottedKey((arr ?? tab)![1]);
        if (!parts) continue;
        const resolved: Array<string | number> = [];
        for (let i = 0; i < parts.length; i++) {
          resolved.push(parts[i]);
          const k = pathKey(resolved);
          if (arr && i === parts.length - 1) {
            const next = counts.get(k) ?? 0;
            counts.set(k, next + 1);
            resolved.push(next);
          } else if (counts.has(k)) {
            resolved.push(counts.get(k)! - 1);
          }
        }
        table = resolved;
        this.#record(table, n + 1);
        continue;
      }
      const key = KEY_LINE.exec(line);
      if (key) {
        const parts = splitDottedKey(key[1]);
        if (parts) {
          const full = [...table];
          for (const p of parts) {
            full.push(p);
            this.#record(full, n + 1);
          }
        }
      }
      if (triples % 2 === 1) inMultiline = true;
    }
  }

  #record(path: TomlPath, line: number): void {
    const k = pathKey(path);
    if (!this.#lines.has(k)) this.#lines.set(k, line);
  }

  /**
   * The line declaring `path`, or of its nearest declared ancestor (a key inside an inline table
   * maps to the line of the table's key); undefined when nothing on the path was found.
   */
  lineOf(path: TomlPath): number | undefined {
    for (let len = path.length; len > 0; len--) {
      const line = this.#lines.get(pathKey(path.slice(0, len)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}
