/**
 * Assertions for tests, on top of `node:assert/strict` (JSR's std is not reachable here).
 *
 * @module
 */

import * as nodeAssert from "node:assert/strict";

/** Asserts that `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** Asserts deep strict equality. */
export function assertEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts that two values are not deeply equal. */
export function assertNotEquals(actual: unknown, expected: unknown, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Asserts that `text` matches `re`. */
export function assertMatch(text: string, re: RegExp, msg?: string): void {
  nodeAssert.match(text, re, msg);
}

/** Asserts that `text` does not match `re`. */
export function assertNotMatch(text: string, re: RegExp, msg?: string): void {
  nodeAssert.doesNotMatch(text, re, msg);
}

/** Asserts that `fn` throws (an instance of `type`, when given) and returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => E,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (err) {
    checkError(err, type, msgIncludes);
    return err as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected function to throw" });
}

/** Asserts that `fn` rejects (with an instance of `type`, when given) and returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => E,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    checkError(err, type, msgIncludes);
    return err as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected promise to reject" });
}

function checkError(
  err: unknown,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => Error,
  msgIncludes?: string,
): void {
  if (type && !(err instanceof type)) {
    throw new nodeAssert.AssertionError({
      message: `expected ${type.name}, got ${err instanceof Error ? err.name : String(err)}: ${
        err instanceof Error ? err.message : ""
      }`,
    });
  }
  if (msgIncludes !== undefined) {
    const msg = err instanceof Error ? err.message : String(err);
    nodeAssert.ok(msg.includes(msgIncludes), `expected "${msg}" to include "${msgIncludes}"`);
  }
}
