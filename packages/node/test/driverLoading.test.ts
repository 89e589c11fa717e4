// A node on SQLite never loads the PostgreSQL driver: the envelope store, the authz store and the postage ledger
// for PostgreSQL are imported only when PostgreSQL is configured. Checked on the built modules, in a fresh process.
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const nodeDist = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "dist");

describe("the PostgreSQL driver", () => {
  it("is not loaded by the server's modules (it loads only for a PostgreSQL node)", async () => {
    const script = `
      import { createRequire } from "node:module";
      await import(${JSON.stringify(pathToFileURL(join(nodeDist, "server.js")).href)});
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes("/node_modules/pg/"));
      console.log(JSON.stringify(loaded));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { timeout: 30_000 });
    expect(JSON.parse(stdout.trim())).toEqual([]);
  });
});
