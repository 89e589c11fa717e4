// Reaching Node.js-only modules from code that browsers bundle too: the specifiers are computed at run time, so
// bundlers (vite, webpack) neither resolve nor bundle them. Callers check isNode() first.

/** The part of a CommonJS `require` this package uses; tests pass their own to simulate missing packages. */
export interface RequireFunction {
  (id: string): unknown;
  resolve(id: string): string;
}

export function isNode(): boolean {
  const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
  return typeof versions?.node === "string";
}

/** A Node.js built-in module, e.g. `importNodeBuiltin<typeof import("node:crypto")>("crypto")`. */
export async function importNodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as T;
}

let nodeRequireOfThisPackage: Promise<RequireFunction> | undefined;

/** A `require` resolving from this package, so it finds this package's own dependencies (secp256k1, tiny-secp256k1). */
export function nodeRequire(): Promise<RequireFunction> {
  nodeRequireOfThisPackage ??= importNodeBuiltin<typeof import("node:module")>("module").then(({ createRequire }) =>
    createRequire(import.meta.url),
  );
  return nodeRequireOfThisPackage;
}
