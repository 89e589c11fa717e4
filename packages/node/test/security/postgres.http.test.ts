// A node on PostgreSQL keeps its allow/deny lists in the same database, and `xmtp-node authz --db URL` edits them
// for the running node. Needs XMTP_TEST_POSTGRES_URL (see .ci/postgres.sh): skipped without it on a developer
// machine, failing under CI so a misconfigured CI cannot pass silently.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { nodeBinary } from "../../../../test/support/runningNode.js";
import { bytesOf, createIdentity, envelopeJson, nowNs, publish, startTestNode, type Identity, type TestNode } from "../http/helpers.js";
import { ADMIN_TOKEN, admin, securityConfig } from "./helpers.js";

const baseUrl = process.env.XMTP_TEST_POSTGRES_URL;
const run = promisify(execFile);

if (!baseUrl && process.env.CI) {
  describe("authz lists on PostgreSQL", () => {
    it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
      expect.fail("XMTP_TEST_POSTGRES_URL is not set: CI must provide a PostgreSQL database (see .ci/postgres.sh)");
    });
  });
}

describe.skipIf(!baseUrl)("authz lists on PostgreSQL (XMTP_TEST_POSTGRES_URL)", () => {
  const schema = `authz_node_${randomBytes(6).toString("hex")}`;
  let url: string;
  let node: TestNode;
  let alice: Identity;

  beforeAll(async () => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    const withSchema = new URL(baseUrl!);
    withSchema.searchParams.set("options", `-c search_path=${schema}`);
    url = withSchema.toString();
    node = await startTestNode({
      storage: { kind: "postgres", url },
      security: securityConfig({ accessMode: "allowlist", adminToken: ADMIN_TOKEN, authzRefreshMs: 200 }),
    });
    alice = await createIdentity();
  });

  afterAll(async () => {
    await node?.dispose();
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("lets a wallet in once the CLI allowlists it in the node's database", async () => {
    const contact = () => envelopeJson(`/xmtp/0/contact-${alice.address}/proto`, nowNs(), bytesOf(`b ${Math.random()}`));
    expect((await publish(node, [contact()], alice.token())).status).toBe(403);
    const { stdout } = await run(process.execPath, [nodeBinary, "authz", "allow", alice.address, "--db", url]);
    expect(stdout).toContain(`allowed: ${alice.address}`);
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
      status = (await publish(node, [contact()], alice.token())).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    const listed = await admin(node, "GET", "/admin/v1/authz");
    expect(listed.body.entries).toMatchObject([{ address: alice.address, permission: "allow" }]);
    // The lists are rows in the node's own PostgreSQL schema.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client.query("SELECT address, permission FROM authz_wallets");
    await client.end();
    expect(rows.rows).toEqual([{ address: alice.address, permission: "allow" }]);
  });
});
