import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { Wallet } from "ethers";
import { openSqliteAuthzStore } from "./sqliteAuthzStore.js";
import { describeAuthzStoreConformance } from "./test-support/authzStoreConformance.js";

const dirs: string[] = [];
let current = "";
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describeAuthzStoreConformance("SQLite", {
  async openFresh() {
    const dir = mkdtempSync(join(tmpdir(), "xmtp-authz-sqlite-"));
    dirs.push(dir);
    current = join(dir, "node.sqlite3");
    return openSqliteAuthzStore(current);
  },
  async openSame() {
    return openSqliteAuthzStore(current);
  },
});

describe("SQLite authz store in the node's database file", () => {
  it("lives in its own tables and leaves the others alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmtp-authz-sqlite-"));
    dirs.push(dir);
    const path = join(dir, "node.sqlite3");
    const db = new Database(path);
    db.exec("CREATE TABLE envelopes (x INTEGER); INSERT INTO envelopes VALUES (1)");
    const store = openSqliteAuthzStore(path);
    const wallet = Wallet.createRandom().address;
    await store.put({ address: wallet, permission: "allow" });
    expect(db.prepare("SELECT count(*) AS n FROM envelopes").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT address FROM authz_wallets").all()).toEqual([{ address: wallet }]);
    await store.close();
    db.close();
  });
});
