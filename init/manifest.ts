/**
 * The system manifest: the single source of truth for wiring. A TOML file (default
 * `images/system.toml`) naming the services in start order, each service's capability slots
 * (slot name -> number, rights, target endpoint or MMIO window), the endpoints (name, owner,
 * depth), the MMIO grants, per-service settings and the policy grants policyd enforces.
 *
 * ```toml
 * version = 1
 *
 * [init.slots]
 * inbox = { slot = 4, rights = ["recv"], endpoint = "init" }
 *
 * [[service]]
 * name = "logd"
 * module = "logd"
 * [service.slots]
 * inbox = { slot = 3, rights = ["recv"], endpoint = "logd" }
 * [service.config]
 * capacity = 256
 *
 * [[endpoint]]
 * name = "logd"
 * owner = "logd"
 * depth = 32
 *
 * [[mmio]]
 * window = 0
 * device = "virtio-blk"
 * services = ["statefsd"]
 *
 * [[policy.grant]]
 * subject = "statefsd"
 * caps = ["route:logd"]
 * ```
 *
 * This module checks the shape (types, ranges, required and unknown keys, duplicate names) and
 * reports each problem as a {@link Diagnostic} without stopping, so one run lists them all; the
 * wiring itself is checked by `validate.ts`.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import {
  CAP_SLOTS,
  MAX_ENDPOINT_DEPTH,
  MIN_ENDPOINT_DEPTH,
  RIGHT_MANAGE,
  RIGHT_MAP,
  RIGHT_RECV,
  RIGHT_SEND,
} from "../core/kernel/types.ts";
import type { Diagnostic, DiagnosticCode } from "./diagnostic.ts";
import { didYouMean } from "./suggest.ts";
import { readTextFileOr } from "./text_file.ts";
import { TomlLines, type TomlPath } from "./toml_lines.ts";

/** The name init goes by in the manifest (endpoint owner, policy subject, graph node). */
export const INIT_NAME = "init";
/** The manifest format version this loader reads. */
export const MANIFEST_VERSION = 1;
/** Highest MMIO window index a manifest may grant. */
export const MAX_MMIO_WINDOW = 255;

/** The default system manifest shipped with nexus. */
export const DEFAULT_MANIFEST_PATH: string = decodeURIComponent(
  new URL("../images/system.toml", import.meta.url).pathname,
);

/** Right names as the manifest spells them, with their bit. */
export const RIGHT_NAMES: Readonly<Record<string, number>> = {
  send: RIGHT_SEND,
  recv: RIGHT_RECV,
  map: RIGHT_MAP,
  manage: RIGHT_MANAGE,
};

/** `send|recv`-style spelling of a rights mask (`none` for 0). */
export function rightsToString(rights: number): string {
  const names = Object.entries(RIGHT_NAMES).filter(([, bit]) => (rights & bit) !== 0).map((
    [n],
  ) => n);
  return names.length === 0 ? "none" : names.join("|");
}

/** TOML spelling of a rights mask: `["send", "recv"]`. */
export function rightsToToml(rights: number): string {
  const names = Object.entries(RIGHT_NAMES).filter(([, bit]) => (rights & bit) !== 0).map((
    [n],
  ) => `"${n}"`);
  return `[${names.join(", ")}]`;
}

/** What a slot's capability refers to. */
export type SlotTarget =
  | { kind: "endpoint"; endpoint: string }
  | { kind: "mmio"; window: number };

/** One declared slot in a task's capability table. */
export interface SlotDecl {
  /** Slot name: the key in the manifest and the name in the module's `requiredSlots`. */
  name: string;
  /** Slot number in the task's table. */
  slot: number;
  /** Rights mask (RIGHT_*). */
  rights: number;
  /** The endpoint or MMIO window the cap refers to. */
  target: SlotTarget;
  /** Manifest line, where known. */
  line?: number;
}

/** A service in start order. */
export interface ServiceDecl {
  /** Task name; gives the service identity (FNV-1a-64). */
  name: string;
  /** Key of the service module in the registry init spawns from. */
  module: string;
  /** Every slot placed in the service's table. */
  slots: SlotDecl[];
  /** `[service.config]`, handed to the service as `env.config`. */
  config: Record<string, unknown>;
  /** Manifest line, where known. */
  line?: number;
}

/** An IPC endpoint init creates, owned by a service (or init) so it closes when the owner exits. */
export interface EndpointDecl {
  /** Endpoint name slots refer to (a service's own is named after it). */
  name: string;
  /** Owning service name, or `init`. */
  owner: string;
  /** Queue depth, 1..256. */
  depth: number;
  /** Manifest line, where known. */
  line?: number;
}

/** An MMIO window and the services allowed to map it. */
export interface MmioDecl {
  /** Window index (base `0x10001000 + n * 0x1000`). */
  window: number;
  /** Device model expected at the window (documentation and diagnostics). */
  device: string;
  /** Services allowed to hold a cap to the window. */
  services: string[];
  /** Manifest line, where known. */
  line?: number;
}

/** A policy grant: capability strings (`route:<svc>`, `statefs.read`, ...) for one subject. */
export interface PolicyGrant {
  /** Service the grant is for. */
  subject: string;
  /** Capability strings granted. */
  caps: string[];
  /** Manifest line, where known. */
  line?: number;
}

/** A loaded manifest. Entries whose shape was wrong are left out (and reported). */
export interface SystemManifest {
  /** Where it was read from (diagnostics). */
  file: string;
  /** init's own declared slots. */
  init: { slots: SlotDecl[]; line?: number };
  /** Services in start order. */
  services: ServiceDecl[];
  /** Endpoints init creates. */
  endpoints: EndpointDecl[];
  /** MMIO windows and who may map them. */
  mmio: MmioDecl[];
  /** Policy grants handed to policyd. */
  grants: PolicyGrant[];
}

/** A manifest with the problems found while loading it. */
export interface ManifestLoad {
  /** What could be read. */
  manifest: SystemManifest;
  /** Problems found while reading it. */
  diagnostics: Diagnostic[];
}

/** Why a manifest could not be used. */
export type ManifestErrorCode = "UNREADABLE" | "SYNTAX" | "INVALID";

/** A manifest that cannot be read, parsed, or (for booting) has errors. */
export class ManifestError extends Error {
  /** Creates an error; `diagnostics` lists every problem for INVALID. */
  constructor(
    readonly code: ManifestErrorCode,
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
    this.name = "ManifestError";
  }
}

const TOP_KEYS = ["version", "init", "service", "endpoint", "mmio", "policy"];
const INIT_KEYS = ["slots"];
const SERVICE_KEYS = ["name", "module", "slots", "config"];
const SLOT_KEYS = ["slot", "rights", "endpoint", "mmio"];
const ENDPOINT_KEYS = ["name", "owner", "depth"];
const MMIO_KEYS = ["window", "device", "services"];
const POLICY_KEYS = ["grant"];
const GRANT_KEYS = ["subject", "caps"];

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  // The parser builds tables without a prototype; dates are Date objects.
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (isTable(v)) return "a table";
  if (typeof v === "bigint") return "an integer";
  if (typeof v === "number") return "a float";
  return `a ${typeof v}`;
}

/** Integers arrive as bigint (so `3.0` is told apart from `3`); config wants plain numbers. */
function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  }
  if (Array.isArray(v)) return v.map(plainValue);
  if (isTable(v)) {
    const out: Table = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainValue(x);
    return out;
  }
  return v;
}

function fmtPath(path: TomlPath): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? p : `.${p}`;
  }
  return s;
}

class Loader {
  readonly diagnostics: Diagnostic[] = [];
  /** Readable names for array entries (`service "statefsd"` for `service[4]`). */
  readonly #labels = new Map<string, string>();

  constructor(readonly file: string, readonly lines: TomlLines) {}

  /** Names the array entry at `path` in messages. */
  name(path: TomlPath, label: string): void {
    this.#labels.set(JSON.stringify(path), label);
  }

  /** A path as messages spell it, with named entries where known. */
  label(path: TomlPath): string {
    for (let len = path.length; len > 0; len--) {
      const named = this.#labels.get(JSON.stringify(path.slice(0, len)));
      if (named !== undefined) {
        const rest = fmtPath(path.slice(len));
        return rest === "" ? named : `${named} ${rest}`;
      }
    }
    return fmtPath(path);
  }

  report(
    code: DiagnosticCode,
    path: TomlPath,
    message: string,
    hint: string,
    extra: Partial<Diagnostic> = {},
  ): void {
    this.diagnostics.push({
      severity: "error",
      code,
      message,
      hint,
      file: this.file,
      line: this.lines.lineOf(path),
      ...extra,
    });
  }

  unknownKeys(table: Table, allowed: string[], path: TomlPath, extra: Partial<Diagnostic> = {}) {
    for (const key of Object.keys(table)) {
      if (allowed.includes(key)) continue;
      const where = path.length === 0 ? "at the top level" : `in ${this.label(path)}`;
      this.report(
        "UNKNOWN_KEY",
        [...path, key],
        `unknown key "${key}" ${where}${didYouMean(key, allowed)}`,
        `remove it or use one of: ${allowed.join(", ")}`,
        extra,
      );
    }
  }

  string(table: Table, key: string, path: TomlPath, extra: Partial<Diagnostic> = {}) {
    const v = table[key];
    if (v === undefined) {
      this.report(
        "MISSING_KEY",
        path,
        `${this.label(path)} has no "${key}"`,
        `add ${key} = "..."`,
        extra,
      );
      return undefined;
    }
    if (typeof v !== "string" || v.length === 0) {
      this.report(
        "BAD_VALUE",
        [...path, key],
        `${this.label([...path, key])} must be a non-empty string, not ${describe(v)}`,
        `write ${key} = "..."`,
        extra,
      );
      return undefined;
    }
    return v;
  }

  integer(
    table: Table,
    key: string,
    path: TomlPath,
    min: number,
    max: number,
    extra: Partial<Diagnostic> = {},
    required = true,
  ): number | undefined {
    const v = table[key];
    if (v === undefined) {
      if (required) {
        this.report(
          "MISSING_KEY",
          path,
          `${this.label(path)} has no "${key}"`,
          `add ${key} = <integer ${min}..${max}>`,
          extra,
        );
      }
      return undefined;
    }
    if (typeof v !== "bigint" || v < BigInt(min) || v > BigInt(max)) {
      this.report(
        "BAD_VALUE",
        [...path, key],
        `${this.label([...path, key])} must be an integer in ${min}..${max}, not ${
          typeof v === "bigint" ? v.toString() : describe(v)
        }`,
        `write ${key} = <integer ${min}..${max}>`,
        extra,
      );
      return undefined;
    }
    return Number(v);
  }

  stringArray(table: Table, key: string, path: TomlPath, extra: Partial<Diagnostic> = {}) {
    const v = table[key];
    if (v === undefined) {
      this.report(
        "MISSING_KEY",
        path,
        `${this.label(path)} has no "${key}"`,
        `add ${key} = ["..."]`,
        extra,
      );
      return undefined;
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.length === 0)) {
      this.report(
        "BAD_VALUE",
        [...path, key],
        `${this.label([...path, key])} must be an array of non-empty strings`,
        `write ${key} = ["...", "..."]`,
        extra,
      );
      return undefined;
    }
    return v as string[];
  }

  tableArray(doc: Table, key: string, path: TomlPath): Table[] {
    const v = doc[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => !isTable(x))) {
      this.report(
        "BAD_VALUE",
        [...path, key],
        `${fmtPath([...path, key])} must be an array of tables ([[${fmtPath([...path, key])}]])`,
        `declare each entry under its own [[${fmtPath([...path, key])}]] header`,
      );
      return [];
    }
    return v as Table[];
  }

  slots(value: unknown, path: TomlPath, owner: string): SlotDecl[] {
    if (value === undefined) return [];
    if (!isTable(value)) {
      this.report(
        "BAD_VALUE",
        path,
        `${this.label(path)} must be a table of slot name = { slot, rights, endpoint | mmio }`,
        `write [${path[0] === INIT_NAME ? "init" : "service"}.slots] with one line per slot`,
        { service: owner },
      );
      return [];
    }
    const out: SlotDecl[] = [];
    for (const [name, raw] of Object.entries(value)) {
      const p = [...path, name];
      const extra: Partial<Diagnostic> = { service: owner, slot: name };
      if (!isTable(raw)) {
        this.report(
          "BAD_VALUE",
          p,
          `slot ${name} of ${owner} must be an inline table, not ${describe(raw)}`,
          `write ${name} = { slot = <n>, rights = ["send"], endpoint = "<name>" }`,
          extra,
        );
        continue;
      }
      this.unknownKeys(raw, SLOT_KEYS, p, extra);
      const slot = this.integer(raw, "slot", p, 0, CAP_SLOTS - 1, extra);
      if (slot !== undefined) extra.slotNumber = slot;
      const rights = this.rights(raw, p, extra);
      const target = this.target(raw, p, extra);
      if (slot === undefined || rights === undefined || target === undefined) continue;
      out.push(this.lines.withLine({ name, slot, rights, target }, p));
    }
    return out;
  }

  rights(raw: Table, path: TomlPath, extra: Partial<Diagnostic>): number | undefined {
    const names = this.stringArray(raw, "rights", path, extra);
    if (names === undefined) return undefined;
    let mask = 0;
    let ok = names.length > 0;
    for (const n of names) {
      const bit = RIGHT_NAMES[n];
      if (bit === undefined) {
        this.report(
          "BAD_VALUE",
          [...path, "rights"],
          `unknown right "${n}"${didYouMean(n, Object.keys(RIGHT_NAMES))}`,
          `rights are ${Object.keys(RIGHT_NAMES).join(", ")}`,
          extra,
        );
        ok = false;
      } else mask |= bit;
    }
    if (names.length === 0) {
      this.report(
        "BAD_VALUE",
        [...path, "rights"],
        `${this.label(path)} grants no rights`,
        `list the rights the slot needs, e.g. rights = ["send"]`,
        extra,
      );
    }
    return ok ? mask : undefined;
  }

  target(raw: Table, path: TomlPath, extra: Partial<Diagnostic>): SlotTarget | undefined {
    const hasEp = raw.endpoint !== undefined;
    const hasMmio = raw.mmio !== undefined;
    if (hasEp === hasMmio) {
      this.report(
        hasEp ? "BAD_VALUE" : "MISSING_KEY",
        path,
        `${this.label(path)} needs exactly one target: endpoint = "<name>" or mmio = <window>`,
        `keep one of endpoint / mmio`,
        extra,
      );
      return undefined;
    }
    if (hasEp) {
      const ep = this.string(raw, "endpoint", path, extra);
      return ep === undefined ? undefined : { kind: "endpoint", endpoint: ep };
    }
    const w = this.integer(raw, "mmio", path, 0, MAX_MMIO_WINDOW, extra);
    return w === undefined ? undefined : { kind: "mmio", window: w };
  }
}

/**
 * Parses and checks the shape of a manifest. Throws {@link ManifestError} (SYNTAX) only when the
 * text is not TOML; every other problem is returned as a diagnostic and the offending entry left
 * out of the manifest.
 */
export function parseManifest(text: string, file = "<manifest>"): ManifestLoad {
  const doc = parseToml(text, file);
  const lines = new TomlLines(text);
  const l = new Loader(file, lines);
  l.unknownKeys(doc, TOP_KEYS, []);
  if (doc.version !== undefined) {
    l.integer(doc, "version", [], MANIFEST_VERSION, MANIFEST_VERSION);
  }
  const manifest: SystemManifest = {
    file,
    init: lines.withLine({ slots: [] as SlotDecl[] }, ["init"]),
    services: [],
    endpoints: [],
    mmio: [],
    grants: [],
  };
  readInit(l, doc, manifest);
  readServices(l, doc, manifest);
  readEndpoints(l, doc, manifest);
  readMmio(l, doc, manifest);
  readPolicy(l, doc, manifest);
  return { manifest, diagnostics: l.diagnostics };
}

/** The TOML document, integers as bigint; SYNTAX {@link ManifestError} when it is not TOML. */
function parseToml(text: string, file: string): Table {
  try {
    return parse(text, { integersAsBigInt: true }) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw new ManifestError(
        "SYNTAX",
        `${file}:${err.line}:${err.column}: not valid TOML: ${first}`,
        file,
        err.line,
      );
    }
    throw err;
  }
}

/** `[init.slots]`: init's own table. */
function readInit(l: Loader, doc: Table, manifest: SystemManifest): void {
  if (doc.init === undefined) return;
  if (!isTable(doc.init)) {
    l.report("BAD_VALUE", ["init"], "init must be a table", "write [init.slots]", {
      service: INIT_NAME,
    });
    return;
  }
  l.unknownKeys(doc.init, INIT_KEYS, ["init"], { service: INIT_NAME });
  manifest.init.slots = l.slots(doc.init.slots, ["init", "slots"], INIT_NAME);
}

/** `[[service]]` entries in start order; a nameless, duplicate or `init` entry is left out. */
function readServices(l: Loader, doc: Table, manifest: SystemManifest): void {
  const seen = new Set<string>();
  l.tableArray(doc, "service", []).forEach((raw, i) => {
    const p = ["service", i];
    const name = l.string(raw, "name", p);
    if (name !== undefined) l.name(p, `service "${name}"`);
    const extra: Partial<Diagnostic> = name === undefined ? {} : { service: name };
    l.unknownKeys(raw, SERVICE_KEYS, p, extra);
    const module = l.string(raw, "module", p, extra);
    if (name === undefined) return;
    if (name === INIT_NAME) {
      l.report(
        "BAD_VALUE",
        [...p, "name"],
        `"${INIT_NAME}" is not a service: init's own slots go under [init.slots]`,
        `move these slots to [init.slots] and remove this [[service]]`,
        extra,
      );
      return;
    }
    if (seen.has(name)) {
      l.report(
        "DUPLICATE_NAME",
        [...p, "name"],
        `service "${name}" is declared twice`,
        `rename or remove one of the [[service]] entries named ${name}`,
        extra,
      );
      return;
    }
    seen.add(name);
    const slots = l.slots(raw.slots, [...p, "slots"], name);
    const config = readConfig(l, raw, p, name, extra);
    if (module === undefined) return;
    manifest.services.push(l.lines.withLine({ name, module, slots, config }, p));
  });
}

/** `[service.config]` as plain values (`{}` when absent or not a table). */
function readConfig(
  l: Loader,
  raw: Table,
  p: TomlPath,
  name: string,
  extra: Partial<Diagnostic>,
): Record<string, unknown> {
  if (raw.config === undefined) return {};
  if (!isTable(raw.config)) {
    l.report(
      "BAD_VALUE",
      [...p, "config"],
      `config of ${name} must be a table`,
      `write [service.config]`,
      extra,
    );
    return {};
  }
  return plainValue(raw.config) as Record<string, unknown>;
}

/** `[[endpoint]]` entries; an incomplete or duplicate one is left out. */
function readEndpoints(l: Loader, doc: Table, manifest: SystemManifest): void {
  const seen = new Set<string>();
  l.tableArray(doc, "endpoint", []).forEach((raw, i) => {
    const p = ["endpoint", i];
    const name = l.string(raw, "name", p);
    if (name !== undefined) l.name(p, `endpoint "${name}"`);
    l.unknownKeys(raw, ENDPOINT_KEYS, p);
    const owner = l.string(raw, "owner", p);
    const depth = l.integer(raw, "depth", p, MIN_ENDPOINT_DEPTH, MAX_ENDPOINT_DEPTH);
    if (name === undefined || owner === undefined || depth === undefined) return;
    if (seen.has(name)) {
      l.report(
        "DUPLICATE_NAME",
        [...p, "name"],
        `endpoint "${name}" is declared twice`,
        `rename or remove one of the [[endpoint]] entries named ${name}`,
      );
      return;
    }
    seen.add(name);
    manifest.endpoints.push(l.lines.withLine({ name, owner, depth }, p));
  });
}

/** `[[mmio]]` windows; an incomplete or duplicate one is left out. */
function readMmio(l: Loader, doc: Table, manifest: SystemManifest): void {
  const seen = new Set<number>();
  l.tableArray(doc, "mmio", []).forEach((raw, i) => {
    const p = ["mmio", i];
    const window = l.integer(raw, "window", p, 0, MAX_MMIO_WINDOW);
    if (window !== undefined) l.name(p, `mmio window ${window}`);
    l.unknownKeys(raw, MMIO_KEYS, p);
    const device = l.string(raw, "device", p);
    const services = l.stringArray(raw, "services", p);
    if (window === undefined || device === undefined || services === undefined) return;
    if (seen.has(window)) {
      l.report(
        "DUPLICATE_NAME",
        [...p, "window"],
        `MMIO window ${window} is declared twice`,
        `merge the two [[mmio]] entries for window ${window}`,
      );
      return;
    }
    seen.add(window);
    manifest.mmio.push(l.lines.withLine({ window, device, services }, p));
  });
}

/** `[[policy.grant]]` entries. */
function readPolicy(l: Loader, doc: Table, manifest: SystemManifest): void {
  if (doc.policy === undefined) return;
  if (!isTable(doc.policy)) {
    l.report("BAD_VALUE", ["policy"], "policy must be a table", "write [[policy.grant]] entries");
    return;
  }
  l.unknownKeys(doc.policy, POLICY_KEYS, ["policy"]);
  l.tableArray(doc.policy, "grant", ["policy"]).forEach((raw, i) => {
    const p = ["policy", "grant", i];
    const subject = l.string(raw, "subject", p);
    if (subject !== undefined) l.name(p, `grant for "${subject}"`);
    l.unknownKeys(raw, GRANT_KEYS, p);
    const caps = l.stringArray(raw, "caps", p, subject ? { service: subject } : {});
    if (subject === undefined || caps === undefined) return;
    manifest.grants.push(l.lines.withLine({ subject, caps }, p));
  });
}

/**
 * Reads and parses the manifest at `path`. Throws {@link ManifestError}: UNREADABLE when the file
 * cannot be read, SYNTAX when it is not TOML.
 *
 * @example
 * ```ts
 * import { DEFAULT_MANIFEST_PATH, loadManifest, requireLoadable } from "./manifest.ts";
 *
 * const load = await loadManifest(DEFAULT_MANIFEST_PATH);
 * for (const d of load.diagnostics) console.log(`${d.file}:${d.line}: ${d.message}`);
 * const manifest = requireLoadable(load); // throws ManifestError (INVALID) on any error
 * console.log(manifest.services.map((s) => s.name));
 * ```
 */
export async function loadManifest(path: string): Promise<ManifestLoad> {
  const text = await readTextFileOr(
    path,
    (why) => new ManifestError("UNREADABLE", `cannot read manifest ${path}: ${why}`, path),
  );
  return parseManifest(text, path);
}

/**
 * Returns the manifest when loading found no error; otherwise throws {@link ManifestError}
 * (INVALID) naming the first error and carrying them all. Warnings are allowed.
 */
export function requireLoadable(load: ManifestLoad): SystemManifest {
  const errors = load.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    const first = errors[0];
    const where = first.line === undefined ? first.file : `${first.file}:${first.line}`;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new ManifestError(
      "INVALID",
      `${where}: ${first.message}${more}`,
      first.file,
      first.line,
      errors,
    );
  }
  return load.manifest;
}

/** The service named `name`, if declared. */
export function findService(m: SystemManifest, name: string): ServiceDecl | undefined {
  return m.services.find((s) => s.name === name);
}

/** The endpoint named `name`, if declared. */
export function findEndpoint(m: SystemManifest, name: string): EndpointDecl | undefined {
  return m.endpoints.find((e) => e.name === name);
}

/** Slot name -> number, as a service receives it in `env.slots`. */
export function slotNumbers(slots: readonly SlotDecl[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of slots) out[s.name] = s.slot;
  return out;
}
