// The PostgreSQL store against a real server: XMTP_TEST_POSTGRES_URL (`eval "$(bash .ci/postgres.sh)"`). Without
// the variable these tests are skipped on a developer machine, but fail when CI is set.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { makeEnvelope } from "../envelope.js";
import { describeNotifyStoreConformance } from "../test-support/notifyStoreConformance.js";
import { openPostgresNotifyStore, redactPostgresUrl } from "./postgres.js";

const url = process.env.XMTP_TEST_POSTGRES_URL;

if (!url && process.env.CI) {
  it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
    throw new Error('XMTP_TEST_POSTGRES_URL is not set but CI is: run `eval "$(bash .ci/postgres.sh)"` first');
  });
}

const runId = randomBytes(4).toString("hex");
let counter = 0;
const schemas: string[] = [];
function urlWithFreshSchema(base: string): string {
  const schema = `notify_test_${runId}_${counter++}`;
  schemas.push(schema);
  const parsed = new URL(base);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
}

describe.skipIf(!url)("PostgreSQL notify store", () => {
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  describeNotifyStoreConformance("PostgreSQL", () => openPostgresNotifyStore(urlWithFreshSchema(url!)));

  it("keeps everything across a reopen of the same schema", async () => {
    const schemaUrl = urlWithFreshSchema(url!);
    const first = await openPostgresNotifyStore(schemaUrl);
    await first.createInstallation({ id: "one", target: { kind: "webhook", url: "http://x/" }, secret: "s".repeat(16), accessKeyHash: "h", createdAtMs: 1 });
    await first.subscribe("one", ["/xmtp/0/t/proto"], 10);
    const envelope = makeEnvelope("/xmtp/0/t/proto", 5n, new Uint8Array([1, 2, 3]));
    await first.ingest("n", [envelope], { timestampNs: 5n, digest: envelope.digest, updatedAtMs: 1 }, 1);
    await first.close();
    const second = await openPostgresNotifyStore(schemaUrl);
    expect(await second.topicsOf("one")).toEqual(["/xmtp/0/t/proto"]);
    expect((await second.dueDeliveries(1, 10, new Set()))[0].envelope).toEqual(envelope);
    await second.close();
  });

  it("refuses a schema name that is not a plain identifier, and hides the password in logs", async () => {
    await expect(openPostgresNotifyStore(url! + (url!.includes("?") ? "&" : "?") + "schema=a;drop")).rejects.toThrow(/schema/);
    expect(redactPostgresUrl("postgres://u:secret@h:1/d")).toBe("postgres://u:***@h:1/d");
  });
});
