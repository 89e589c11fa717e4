import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { runAuthzCli } from "./authzCli.js";
import { openSqliteAuthzStore } from "./sqliteAuthzStore.js";

let dir: string;
let dbPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmtp-authz-cli-"));
  dbPath = join(dir, "node.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runAuthzCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    openStore: async () => openSqliteAuthzStore(dbPath),
  });
  return { code, stdout, stderr };
}

async function listed() {
  const store = openSqliteAuthzStore(dbPath);
  try {
    return await store.list();
  } finally {
    await store.close();
  }
}

const alice = Wallet.createRandom().address;
const bob = Wallet.createRandom().address;

describe("xmtp-node authz", () => {
  it("allows, denies, lists and removes wallets in the database", async () => {
    expect(await cli("allow", alice.toLowerCase(), "--priority")).toMatchObject({ code: 0 });
    const denied = await cli("deny", bob);
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain(`denied: ${bob}`);
    expect((await listed()).map((e) => [e.address, e.permission, e.priority])).toEqual(
      [
        [alice, "allow", true],
        [bob, "deny", false],
      ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    );
    const list = await cli("list");
    expect(list.stdout).toContain(`${alice}  allow (priority)`);
    expect(list.stdout).toContain(`${bob}  deny`);
    const json = JSON.parse((await cli("list", "--json")).stdout);
    expect(json).toHaveLength(2);
    expect(await cli("remove", alice)).toMatchObject({ code: 0, stdout: `removed: ${alice}\n` });
    expect((await listed()).map((e) => e.address)).toEqual([bob]);
  });

  it("fails removing a wallet that is on neither list", async () => {
    const result = await cli("remove", alice);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is on neither list");
  });

  it("says what is wrong with bad arguments (exit 2) and touches nothing", async () => {
    const cases: [string[], RegExp][] = [
      [[], /missing command/],
      [["grant", alice], /unknown authz command: grant/],
      [["allow"], /allow needs a wallet ADDRESS/],
      [["allow", "0x123"], /invalid Ethereum address/],
      [["deny", "0x976EA74026E726554dB657fA54763abd0C3a0aA9"], /does not match its EIP-55 checksum/],
      [["deny", alice, "--priority"], /--priority only goes with allow/],
      [["allow", alice, "--force"], /unknown option for authz: --force/],
      [["list", alice], /list takes no address/],
      [["allow", alice, bob], /unexpected argument/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain("Usage: xmtp-node authz");
    }
    expect(await listed()).toEqual([]);
  });

  it("prints usage for help", async () => {
    const result = await cli("--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("allow ADDRESS [--priority]");
  });

  it("reports a database it cannot open", async () => {
    let stderr = "";
    const code = await runAuthzCli(["list"], {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      openStore: async () => openSqliteAuthzStore(join(dir, "missing-dir", "node.db")),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot open the node's database/);
  });

  it("opens the store with create only under --create, and reports a missing database with the hint", async () => {
    const seen: boolean[] = [];
    let stderr = "";
    const missing = join(dir, "typo", "node.db");
    const run = (...args: string[]) =>
      runAuthzCli(args, {
        stdout: () => undefined,
        stderr: (t) => (stderr += t),
        openStore: async ({ create }) => {
          seen.push(create);
          return openSqliteAuthzStore(create ? dbPath : missing, { create });
        },
        describeLocation: () => "from --data-dir /typo",
      });
    expect(await run("allow", alice)).toBe(1);
    expect(stderr).toBe(
      `xmtp-node authz: there is no node database at ${missing} (from --data-dir /typo). Nothing was changed. ` +
        "Check the location, or add --create to create the database there (for lists set up before the node first runs).\n",
    );
    expect(await run("allow", alice, "--create")).toBe(0);
    expect(seen).toEqual([false, true]);
    expect((await listed()).map((e) => e.address)).toEqual([alice]);
  });
});
