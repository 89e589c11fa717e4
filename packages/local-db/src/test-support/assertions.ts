// Assertions for the conformance suite, which also runs inside Chromium where vitest's expect is not bundled. Each
// failure throws an Error whose message says what differed; the Node.js side reports it as the test's failure.

export class AssertionFailure extends Error {
  override name = "AssertionFailure";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}

/** Deep equality over what the database returns: bytes, bigints, strings, numbers, arrays and plain objects. */
export function assertEqual<T>(actual: T, expected: T, what: string): void {
  const difference = differ(actual, expected, "");
  if (difference !== undefined) {
    throw new AssertionFailure(`${what}: ${difference}\n  actual:   ${show(actual)}\n  expected: ${show(expected)}`);
  }
}

/** Runs `body`, which must reject with an instance of `errorClass`; returns the error for further checks. */
export async function assertRejects<E extends Error>(
  body: () => Promise<unknown>,
  errorClass: abstract new (...args: never[]) => E,
  what: string,
): Promise<E> {
  let outcome: unknown;
  try {
    outcome = await body();
  } catch (error) {
    if (error instanceof errorClass) return error;
    throw new AssertionFailure(`${what}: expected ${errorClass.name}, got ${describeError(error)}`);
  }
  // A database opened where opening should have failed: close it, so the failure leaves nothing open behind.
  const closable = outcome as { close?: unknown } | undefined;
  if (typeof closable?.close === "function") await (closable.close as () => Promise<void>)().catch(() => undefined);
  throw new AssertionFailure(`${what}: expected ${errorClass.name}, but it succeeded with ${show(outcome)}`);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function differ(actual: unknown, expected: unknown, path: string): string | undefined {
  const at = path || "value";
  if (expected instanceof Uint8Array) {
    if (!(actual instanceof Uint8Array)) return `${at} is not a Uint8Array`;
    if (actual.length !== expected.length) return `${at} has ${actual.length} bytes, expected ${expected.length}`;
    const index = expected.findIndex((byte, i) => actual[i] !== byte);
    return index === -1 ? undefined : `${at} differs at byte ${index}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at} is not an array`;
    if (actual.length !== expected.length) return `${at} has ${actual.length} items, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const difference = differ(actual[i], expected[i], `${path}[${i}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null) return `${at} is not an object`;
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      const difference = differ((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : `${at} is ${show(actual)}, expected ${show(expected)}`;
}

/** A short rendering of a value: bytes by length and first bytes, bigints with their n. */
export function show(value: unknown): string {
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "bigint") return `${item}n`;
    if (item instanceof Uint8Array) {
      const head = Array.from(item.subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join("");
      return `<${item.length} bytes ${head}${item.length > 8 ? "…" : ""}>`;
    }
    return item;
  });
  return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}…` : text;
}
