// Runs when XMTP_TEST_POSTGRES_URL names a PostgreSQL database the test may create schemas in. Without it the
// suite fails under CI (so a misconfigured CI cannot pass silently) and is skipped on a developer machine.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { openPostgresAuthzStore } from "./postgresAuthzStore.js";
import { describeAuthzStoreConformance } from "./test-support/authzStoreConformance.js";

const baseUrl = process.env.XMTP_TEST_POSTGRES_URL;

if (!baseUrl && process.env.CI) {
  describe("PostgreSQL authz store", () => {
    it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
      expect.fail("XMTP_TEST_POSTGRES_URL is not set: CI must provide a PostgreSQL database (see .ci/postgres.sh)");
    });
  });
}

describe.skipIf(!baseUrl)("PostgreSQL authz store (XMTP_TEST_POSTGRES_URL)", () => {
  const schemas: string[] = [];
  let currentUrl = "";

  afterAll(async () => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  /** A URL whose connections use a new empty schema, so each test starts from nothing. */
  async function freshSchemaUrl(): Promise<string> {
    const schema = `authz_test_${randomBytes(6).toString("hex")}`;
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    schemas.push(schema);
    const url = new URL(baseUrl!);
    url.searchParams.set("options", `-c search_path=${schema}`);
    return url.toString();
  }

  describeAuthzStoreConformance("PostgreSQL", {
    async openFresh() {
      currentUrl = await freshSchemaUrl();
      return openPostgresAuthzStore(currentUrl);
    },
    async openSame() {
      return openPostgresAuthzStore(currentUrl);
    },
  });

  it("reports an unreachable database when opened", async () => {
    await expect(openPostgresAuthzStore("postgres://nobody@127.0.0.1:1/none")).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
