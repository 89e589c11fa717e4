// The PostgreSQL store against a real server: XMTP_TEST_POSTGRES_URL (see .ci/postgres.sh).
// Without the variable these tests are skipped on a developer machine but FAIL when CI is set, so CI can never
// pass without having run them.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createWakuHasher } from "../waku/messageHash.js";
import { describeEnvelopeStoreConformance, describeWakuStoreConformance } from "./test-support/envelopeStoreConformance.js";
import { describePostageLedgerConformance } from "./test-support/postageLedgerConformance.js";
import { withDigest } from "./digest.js";
import type { EnvelopeStore, StoredEnvelope } from "./EnvelopeStore.js";
import { openPostgresStore, POSTGRES_SCHEMA_VERSION, redactUrl } from "./postgres.js";
import { readSince } from "./test-support/readSince.js";

const url = process.env.XMTP_TEST_POSTGRES_URL;
const inCi = Boolean(process.env.CI);

if (!url && inCi) {
  describe("PostgreSQL store", () => {
    it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
      throw new Error(
        "XMTP_TEST_POSTGRES_URL is not set but CI is: run `eval \"$(.ci/postgres.sh)\"` before the tests",
      );
    });
  });
}

// Every store gets a schema of its own, so tests start empty and never see each other's rows.
const runId = randomBytes(4).toString("hex");
let schemaCounter = 0;
const createdSchemas: string[] = [];
function freshSchema(): string {
  const schema = `xmtp_test_${runId}_${schemaCounter++}`;
  createdSchemas.push(schema);
  return schema;
}

const message = (text: string) => new TextEncoder().encode(text);
const text = (e: { message: Uint8Array }) => new TextDecoder().decode(e.message);
const TOPIC = "/xmtp/0/m-postgres-test/proto";
const envelope = (i: number, topic = TOPIC): StoredEnvelope =>
  withDigest({ contentTopic: topic, timestampNs: 1_700_000_000_000_000_000n + BigInt(i), message: message(`e${i}`) });

describe.skipIf(!url)("PostgreSQL store", () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const opened: EnvelopeStore[] = [];
  const open = async (schema = freshSchema()) => {
    const store = await openPostgresStore(url!, { schema });
    opened.push(store);
    return store;
  };

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    for (const schema of createdSchemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  describeEnvelopeStoreConformance("postgres", () => openPostgresStore(url!, { schema: freshSchema() }));
  describePostageLedgerConformance("postgres", () => openPostgresStore(url!, { schema: freshSchema() }));
  describeWakuStoreConformance("postgres", {
    newLocation: freshSchema,
    open: (schema, waku) => openPostgresStore(url!, { schema, ...waku }),
  });

  it("migrates a version-1 schema: adds the waku hash column and index, and hashes the existing rows", async () => {
    const schema = freshSchema();
    // The schema as a node before the Waku hash column left it.
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.xmtp_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`CREATE TABLE ${schema}.envelopes (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, digest bytea NOT NULL UNIQUE,
                         topic text NOT NULL, timestamp_ns bigint NOT NULL, message bytea NOT NULL)`);
    await admin.query(`CREATE INDEX envelopes_by_topic_time ON ${schema}.envelopes (topic, timestamp_ns, seq)`);
    await admin.query(`INSERT INTO ${schema}.xmtp_schema_migrations (version) VALUES (1)`);
    const old = Array.from({ length: 31 }, (_, i) => envelope(i));
    for (const e of old) {
      await admin.query(`INSERT INTO ${schema}.envelopes (digest, topic, timestamp_ns, message) VALUES ($1, $2, $3, $4)`, [
        e.digest,
        e.contentTopic,
        (e.timestampNs - (1n << 63n)).toString(),
        e.message,
      ]);
    }
    const hasher = createWakuHasher({ clusterId: 3, shardCount: 8 });
    const store = await openPostgresStore(url!, { schema, wakuHasher: hasher, wakuBackfillBatchSize: 7 });
    opened.push(store);
    const page = await store.queryWaku({ contentTopics: [TOPIC], direction: "descending", limit: 100 });
    expect(page.envelopes.map(text)).toEqual(old.map(text).reverse());
    page.envelopes.forEach((e) => expect(Buffer.from(e.wakuHash).equals(Buffer.from(hasher.hash(e)))).toBe(true));
    const versions = await admin.query(`SELECT version FROM ${schema}.xmtp_schema_migrations ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
    const nulls = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.envelopes WHERE waku_hash IS NULL`);
    expect(nulls.rows[0].n).toBe(0);
    const index = await admin.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'envelopes_by_waku_hash'`, [schema]);
    expect(index.rows).toHaveLength(1);
  });

  it("hashes, and writes back, a row another writer stored without a hash while the store was open", async () => {
    const schema = freshSchema();
    const hasher = createWakuHasher({ clusterId: 1, shardCount: 8 });
    const store = await open(schema);
    await store.close();
    const waku = await openPostgresStore(url!, { schema, wakuHasher: hasher });
    opened.push(waku);
    const plain = await open(schema); // e.g. an older node sharing the schema
    await plain.append([envelope(1), envelope(2)]);
    const page = await waku.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 1 });
    expect(Buffer.from(page.cursor!).equals(Buffer.from(hasher.hash(envelope(1))))).toBe(true);
    const next = await waku.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 1, cursor: page.cursor });
    expect(next.envelopes.map(text)).toEqual(["e2"]);
    expect((await waku.readByWakuHashes([hasher.hash(envelope(2))])).map(text)).toEqual(["e2"]);
  });

  it("creates its schema once and records the version; reopening keeps the data", async () => {
    const schema = freshSchema();
    const first = await open(schema);
    await first.append([envelope(1)]);
    const second = await open(schema);
    expect((await readSince(second, 0n, 10)).envelopes.map(text)).toEqual(["e1"]);
    const versions = await admin.query(`SELECT version FROM ${schema}.xmtp_schema_migrations ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it("prunes from several processes at once without deleting a row twice; by age on the timestamp index", async () => {
    const schema = freshSchema();
    const [a, b] = [await open(schema), await open(schema)];
    const batch = Array.from({ length: 300 }, (_, i) => envelope(i, `/xmtp/0/m-${i % 7}/proto`));
    await a.append(batch);
    const rule = { topicPrefix: "/xmtp/0/m-", olderThanNs: 1_700_000_000_000_000_000n + 250n };
    expect((await b.countPrunable(rule)).envelopes).toBe(250);
    let deleted = 0;
    const prunes = [a, b].map(async (store) => {
      for (;;) {
        const { envelopes } = await store.prune(rule, 20);
        if (envelopes === 0) return;
        deleted += envelopes;
      }
    });
    await Promise.all(prunes);
    expect(deleted).toBe(250);
    expect((await readSince(a, 0n, 1000)).envelopes).toHaveLength(50);
    const indexes = await admin.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'envelopes_by_time'`, [schema]);
    expect(indexes.rows[0]?.indexdef).toMatch(/\(timestamp_ns\)/);
  });

  it("accepts the schema as a URL parameter", async () => {
    const schema = freshSchema();
    const withParam = new URL(url!);
    withParam.searchParams.set("schema", schema);
    const store = await openPostgresStore(withParam.toString());
    opened.push(store);
    await store.append([envelope(7)]);
    const rows = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.envelopes`);
    expect(rows.rows[0].n).toBe(1);
  });

  it("refuses a database whose schema is newer than it understands", async () => {
    const schema = freshSchema();
    await open(schema);
    await admin.query(`INSERT INTO ${schema}.xmtp_schema_migrations (version) VALUES (999)`);
    await expect(openPostgresStore(url!, { schema })).rejects.toThrow(/schema version 999 is newer/);
  });

  it("names what is wrong with a bad URL or schema, without leaking the password", async () => {
    await expect(openPostgresStore("mysql://u:secret@127.0.0.1/db")).rejects.toThrow(/must start with postgres:\/\//);
    await expect(openPostgresStore(url!, { schema: "Robert'); DROP" })).rejects.toThrow(/schema name/);
    const wrongPassword = new URL(url!);
    wrongPassword.password = "not-the-password";
    const failure = openPostgresStore(wrongPassword.toString(), { schema: freshSchema() });
    await expect(failure).rejects.toThrow(/opening PostgreSQL store at postgres:\/\/xmtp:\*\*\*@/);
    await expect(failure).rejects.not.toThrow(/not-the-password/);
    expect(redactUrl("postgres://a:b@h/d")).toBe("postgres://a:***@h/d");
  });

  it("writes a batch larger than one insert statement in one call, in input order", async () => {
    const store = await open();
    const batch = Array.from({ length: 12_345 }, (_, i) => envelope(i, `/xmtp/0/m-batch-${i % 13}/proto`));
    const added = await store.append(batch);
    expect(added).toHaveLength(batch.length);
    const seen: string[] = [];
    let after = 0n;
    for (;;) {
      const page = await readSince(store, after, 1000);
      if (page.envelopes.length === 0) break;
      seen.push(...page.envelopes.map(text));
      after = page.nextSequence;
    }
    expect(seen).toEqual(batch.map(text));
  });

  it("never lets a replication reader skip an envelope while several stores write to the same schema", async () => {
    const schema = freshSchema();
    const writers = [await open(schema), await open(schema), await open(schema)];
    const reader = await open(schema);
    const perWriter = 150;
    const writing = Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < perWriter; i++) await writer.append([envelope(w * 10_000 + i), envelope(w * 10_000 + i + 5_000)]);
      }),
    );
    let done = false;
    void writing.then(() => (done = true));
    // Follow the log the way a catching-up peer does: the position only ever moves forward.
    const seen = new Set<string>();
    let after = 0n;
    for (;;) {
      const finished = done;
      const page = await readSince(reader, after, 37);
      for (const e of page.envelopes) seen.add(text(e));
      after = page.nextSequence;
      if (finished && page.envelopes.length === 0) break;
    }
    await writing;
    expect(seen.size).toBe(writers.length * perWriter * 2);
  });

  it("migrates once when several stores open a new schema at the same moment; the others wait, then find it done", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema)));
    const versions = await admin.query<{ version: number }>(`SELECT version FROM ${schema}.xmtp_schema_migrations ORDER BY version`);
    expect(versions.rows.map((row) => row.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
    // Each store works on the shared tables.
    await Promise.all(stores.map((store, i) => store.append([envelope(9_000 + i)])));
    const page = await stores[0].query({ topic: TOPIC, limit: 10, direction: "ascending" });
    expect(page.envelopes.map(text)).toEqual(["e9000", "e9001", "e9002", "e9003"]);
  });

  it("acknowledges an append only once it is visible to a fresh connection", async () => {
    const schema = freshSchema();
    const store = await open(schema);
    await store.append([envelope(1), envelope(2)]);
    const rows = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.envelopes`);
    expect(rows.rows[0].n).toBe(2);
  });
});
