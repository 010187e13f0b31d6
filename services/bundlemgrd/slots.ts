/**
 * bundlemgrd's state: the two system slots with their build properties, and which one is active.
 *
 * Configuration (manifest `[service.config]`, all optional):
 * - `active`: `"a"` or `"b"`, the slot active at start (default `"a"`);
 * - `slots.a` / `slots.b`: tables of extra build properties; `version` (default
 *   {@link DEFAULT_VERSION}) is also what LIST reports.
 *
 * Each slot's properties are `build.slot`, `build.version`, `build.fingerprint`
 * (`nexus/<slot>/<version>`) and the configured extras, rendered as sorted `key=value` lines.
 *
 * @module
 */

import { utf8 } from "../../core/kernel/frame.ts";
import { SLOT_A, SLOT_B, type SlotId, slotLetter, type SlotRow } from "./protocol.ts";

/** Version a slot reports when the configuration names none. */
export const DEFAULT_VERSION = "0.1.0";
/** Longest properties text of one slot, in bytes. */
export const MAX_PROPERTIES_BYTES = 4096;

const KEY_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** A configuration bundlemgrd cannot start with. */
export class BundleConfigError extends Error {
  /** Creates an error naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "BundleConfigError";
  }
}

/** The two slots and the active one. */
export class SlotTable {
  #active: SlotId;
  readonly #props: Record<"a" | "b", Map<string, string>>;

  private constructor(active: SlotId, props: Record<"a" | "b", Map<string, string>>) {
    this.#active = active;
    this.#props = props;
  }

  /** Builds the table from `env.config`; throws {@link BundleConfigError}. */
  static fromConfig(config: Readonly<Record<string, unknown>>): SlotTable {
    const active = config.active ?? "a";
    if (active !== "a" && active !== "b") {
      throw new BundleConfigError(`active must be "a" or "b"`);
    }
    const slots = config.slots ?? {};
    if (typeof slots !== "object" || slots === null || Array.isArray(slots)) {
      throw new BundleConfigError("slots must be a table");
    }
    for (const key of Object.keys(slots)) {
      if (key !== "a" && key !== "b") throw new BundleConfigError(`unknown slot "${key}"`);
    }
    const table = slots as Record<string, unknown>;
    const props = { a: slotProps("a", table.a), b: slotProps("b", table.b) };
    return new SlotTable(active === "a" ? SLOT_A : SLOT_B, props);
  }

  /** The active slot. */
  get active(): SlotId {
    return this.#active;
  }

  /** Makes `slot` the active one. */
  setActive(slot: SlotId): void {
    this.#active = slot;
  }

  /** Both slots, A first, with their versions. */
  rows(): SlotRow[] {
    return [SLOT_A, SLOT_B].map((slot) => ({
      slot: slot as SlotId,
      version: this.#props[slotLetter(slot as SlotId)].get("build.version")!,
    }));
  }

  /** The build properties text of `slot`. */
  properties(slot: SlotId): string {
    const map = this.#props[slotLetter(slot)];
    return [...map.keys()].sort().map((k) => `${k}=${map.get(k)}\n`).join("");
  }
}

function slotProps(letter: "a" | "b", value: unknown): Map<string, string> {
  const where = `slots.${letter}`;
  const extras = value ?? {};
  if (typeof extras !== "object" || extras === null || Array.isArray(extras)) {
    throw new BundleConfigError(`${where} must be a table`);
  }
  const props = new Map<string, string>();
  for (const [key, raw] of Object.entries(extras as Record<string, unknown>)) {
    if (!KEY_RE.test(key)) throw new BundleConfigError(`${where}: bad property name "${key}"`);
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      throw new BundleConfigError(`${where}.${key} must be a string, number or boolean`);
    }
    const text = String(raw);
    if (text.includes("\n") || utf8(text).length > 0xff) {
      throw new BundleConfigError(`${where}.${key} must be one line of at most 255 bytes`);
    }
    props.set(key === "version" ? "build.version" : key, text);
  }
  const version = props.get("build.version") ?? DEFAULT_VERSION;
  if (version.length === 0) throw new BundleConfigError(`${where}.version must not be empty`);
  props.set("build.slot", letter);
  props.set("build.version", version);
  props.set("build.fingerprint", `nexus/${letter}/${version}`);
  const size = [...props].reduce((n, [k, v]) => n + utf8(`${k}=${v}\n`).length, 0);
  if (size > MAX_PROPERTIES_BYTES) {
    throw new BundleConfigError(`${where}: properties exceed ${MAX_PROPERTIES_BYTES} bytes`);
  }
  return props;
}
