// The Node.js modules the SQLite driver needs, loaded by dynamic imports with computed specifiers: bundlers leave
// such imports alone, so a browser bundle of this package contains no Node.js built-in and no better-sqlite3.
import type BetterSqlite3 from "better-sqlite3";
import type * as NodeCrypto from "node:crypto";
import type * as NodeFs from "node:fs";
import type * as NodePath from "node:path";

export interface NodeModules {
  Database: typeof BetterSqlite3;
  crypto: typeof NodeCrypto;
  fs: typeof NodeFs;
  path: typeof NodePath;
}

let loading: Promise<NodeModules> | undefined;

async function importComputed<T>(specifier: string): Promise<T> {
  const module = await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
  return (module.default ?? module) as T;
}

export function loadNodeModules(): Promise<NodeModules> {
  loading ??= (async () => {
    const [Database, crypto, fs, path] = await Promise.all([
      importComputed<typeof BetterSqlite3>(["better", "sqlite3"].join("-")),
      importComputed<typeof NodeCrypto>(["node", "crypto"].join(":")),
      importComputed<typeof NodeFs>(["node", "fs"].join(":")),
      importComputed<typeof NodePath>(["node", "path"].join(":")),
    ]);
    return { Database, crypto, fs, path };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}
