// @ts-check
/**
 * A StrykerJS ignorer that keeps a deterministic 1-in-N sample of functions (docs/mutants.md).
 * Every outermost function or method is hashed by file and name (FNV-1a); when the hash is not
 * 0 mod N, the function and everything inside it is ignored, so a sampled function is mutated
 * whole. Module-level code outside functions is always kept. N comes from NEXUS_MUTANTS_SAMPLE
 * (default 1: nothing is ignored). The same N gives the same sample in every lane and run, so the
 * ladder's and the suite's scores are measured on the same mutants.
 */
import { relative } from "node:path";
import process from "node:process";

const N = Number(process.env.NEXUS_MUTANTS_SAMPLE ?? 1);
if (!Number.isSafeInteger(N) || N < 1) {
  throw new Error(
    `NEXUS_MUTANTS_SAMPLE must be a positive integer, got "${process.env.NEXUS_MUTANTS_SAMPLE}"`,
  );
}

/**
 * FNV-1a over UTF-16 code units: small, stable, good enough to spread names.
 * @param {string} text
 * @returns {number}
 */
export function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A name for a function node that stays put when unrelated code moves: Class.method or name.
 * @param {any} path a Babel NodePath of a function
 * @returns {string}
 */
export function functionName(path) {
  const node = path.node;
  const key = node.key;
  const keyName = key ? (key.name ?? key.id?.name ?? key.value) : undefined;
  if (keyName !== undefined) {
    const cls = path.findParent((/** @type {any} */ p) => p.isClass());
    const owner = cls?.node.id?.name ?? "class";
    return `${owner}.${keyName}`;
  }
  if (node.id?.name) return node.id.name;
  const parent = path.parentPath?.node;
  if (parent?.type === "VariableDeclarator" && parent.id?.name) return parent.id.name;
  if (parent?.key) return `${parent.key.name ?? parent.key.value}`;
  return `line ${node.loc?.start.line}`;
}

/**
 * The sampling key of a function: its repository path and name.
 * @param {string} fileName
 * @param {string} name
 * @returns {string}
 */
export function sampleKey(fileName, name) {
  return `${relative(process.cwd(), fileName).split("\\").join("/")}#${name}`;
}

/**
 * True when the function with this key is in the 1-in-n sample.
 * @param {string} key
 * @param {number} n
 * @returns {boolean}
 */
export function inSample(key, n) {
  return n === 1 || fnv1a(key) % n === 0;
}

const ignorer = {
  /** @param {any} path a Babel NodePath */
  shouldIgnore(path) {
    if (N === 1 || !path.isFunction() || path.parentPath?.getFunctionParent()) return undefined;
    const key = sampleKey(path.hub?.file?.opts?.filename ?? "", functionName(path));
    return inSample(key, N) ? undefined : `outside the 1-in-${N} sample of functions (${key})`;
  },
};

export const strykerPlugins = [{ kind: "Ignore", name: "nexus-sample", value: ignorer }];
