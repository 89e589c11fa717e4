// `xmtp-node authz …` (the real binary, built by `npm run build`) refuses a database that does not exist instead of
// creating an empty one and editing it: a mistyped --data-dir or --db is reported, naming the place and --create,
// and leaves nothing behind. With --create it makes the database, for lists set up before the node first runs.
// The PostgreSQL half needs XMTP_TEST_POSTGRES_URL (see .ci/postgres.sh): skipped without it on a developer
// machine, failing under CI.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodeBinary, startNode } from "../../../../test/support/runningNode.js";

const run = promisify(execFile);
const wallet = Wallet.createRandom().address;

async function authz(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  // No XMTP_* from the test's own environment may locate the database.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("XMTP_")));
  try {
    const { stdout, stderr } = await run(process.execPath, [nodeBinary, "authz", ...args], {
      cwd: options.cwd,
      env: { ...env, ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("xmtp-node authz on a SQLite database that does not exist", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "xmtp-authz-missing-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a mistyped --data-dir, naming the path and --create, and creates nothing", async () => {
    const typo = join(dir, "dta");
    const commands = [["allow", wallet], ["deny", wallet], ["remove", wallet], ["list"]];
    for (const result of await Promise.all(commands.map((args) => authz([...args, "--data-dir", typo])))) {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `xmtp-node authz: there is no node database at ${join(typo, "xmtp.sqlite3")}; the directory ${typo} does not ` +
          `exist either (from --data-dir ${typo}). Nothing was changed. Check the location, or add --create to ` +
          `create the database there (for lists set up before the node first runs).\n`,
      );
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses an existing directory without the database file, and leaves the directory as it was", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const result = await authz(["allow", wallet, "--data-dir", empty]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^xmtp-node authz: there is no node database at ${join(empty, "xmtp.sqlite3")} \\(from --data-dir`));
    expect(result.stderr).toContain("add --create");
    expect(readdirSync(empty)).toEqual([]);
  });

  it("refuses a --db file (and XMTP_DATA_DIR, and the default ./data) the same way", async () => {
    const file = join(dir, "nodes", "node.sqlite3");
    const [viaDb, viaEnv, byDefault] = await Promise.all([
      authz(["list", "--db", file]),
      authz(["list"], { env: { XMTP_DATA_DIR: join(dir, "env") } }),
      authz(["list"], { cwd: dir }),
    ]);
    expect(viaDb.code).toBe(1);
    expect(viaDb.stderr).toContain(`there is no node database at ${file}`);
    expect(viaDb.stderr).toContain(`(from --db ${file})`);

    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain(`(from --data-dir ${join(dir, "env")})`);

    expect(byDefault.code).toBe(1);
    expect(byDefault.stderr).toContain(`(the default --data-dir, ${join(dir, "data")})`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("creates the directory and the database with --create, then works without it", async () => {
    const fresh = join(dir, "a", "b");
    const created = await authz(["allow", wallet, "--priority", "--create", "--data-dir", fresh]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`allowed: ${wallet}`);
    expect(existsSync(join(fresh, "xmtp.sqlite3"))).toBe(true);

    const listed = await authz(["list", "--json", "--data-dir", fresh]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ address: wallet, permission: "allow", priority: true }]);
  });

  it("lists --create among its options in --help", async () => {
    const help = await authz(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--create");
  });
});

const baseUrl = process.env.XMTP_TEST_POSTGRES_URL;

if (!baseUrl && process.env.CI) {
  describe("xmtp-node authz on a PostgreSQL schema that does not exist", () => {
    it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
      expect.fail("XMTP_TEST_POSTGRES_URL is not set: CI must provide a PostgreSQL database (see .ci/postgres.sh)");
    });
  });
}

describe.skipIf(!baseUrl)("xmtp-node authz on a PostgreSQL schema that does not exist (XMTP_TEST_POSTGRES_URL)", () => {
  const schemas: string[] = [];
  const newSchema = () => {
    const name = `authz_missing_${randomBytes(6).toString("hex")}`;
    schemas.push(name);
    return name;
  };
  const urlOf = (schema: string) => {
    const url = new URL(baseUrl!);
    url.searchParams.set("schema", schema);
    return url.toString();
  };
  async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }
  const schemaExists = async (schema: string) =>
    (await sql("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).length > 0;

  afterAll(async () => {
    for (const schema of schemas) await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it("refuses a mistyped ?schema=, naming it and --create, and creates nothing", async () => {
    const schema = newSchema();
    const result = await authz(["allow", wallet, "--db", urlOf(schema)]);
    expect(result.code).toBe(1);
    const database = new URL(baseUrl!).pathname.slice(1);
    expect(result.stderr).toMatch(new RegExp(`^xmtp-node authz: PostgreSQL schema ${schema} does not exist in database ${database} on `));
    expect(result.stderr).toContain("add --create");
    expect(result.stderr).not.toContain(new URL(baseUrl!).password);
    expect(await schemaExists(schema)).toBe(false);
  });

  it("refuses a schema that no node has used, and adds no table to it", async () => {
    const schema = newSchema();
    await sql(`CREATE SCHEMA ${schema}`);
    const result = await authz(["list", "--db", urlOf(schema)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`PostgreSQL schema ${schema} in database .* has no node tables`));
    expect(await sql("SELECT tablename FROM pg_tables WHERE schemaname = $1", [schema])).toEqual([]);
  });

  it("finds the schema of a node that ran there without --create, and keeps the lists in that schema", async () => {
    const schema = newSchema();
    const node = await startNode({ args: ["--db", urlOf(schema)] });
    try {
      const allowed = await authz(["allow", wallet, "--db", urlOf(schema)]);
      expect(allowed.code, allowed.stderr).toBe(0);
    } finally {
      await node.dispose();
    }
    const rows = await sql<{ address: string }>(`SELECT address FROM ${schema}.authz_wallets`);
    expect(rows).toEqual([{ address: wallet }]);
  });

  it("creates the schema and its lists with --create, and keeps them in that schema", async () => {
    const schema = newSchema();
    const created = await authz(["deny", wallet, "--create", "--db", urlOf(schema)]);
    expect(created.code, created.stderr).toBe(0);
    const tables = await sql<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [schema]);
    expect(tables.map((row) => row.tablename)).toEqual(["authz_version", "authz_wallets"]);
    const listed = await authz(["list", "--db", urlOf(schema)]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${wallet}  deny`);
  });
});
