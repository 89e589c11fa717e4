// Following a PostgreSQL schema that several stores (node processes) write at once: every follower delivers every
// commit, once, in one shared order. Against a real server: XMTP_TEST_POSTGRES_URL (see .ci/postgres.sh); CI fails
// without it (postgres.test.ts says so once for the whole store).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { withDigest } from "./digest.js";
import type { CommitFollower, SharedEnvelopeStore, StoredEnvelope } from "./EnvelopeStore.js";
import { openPostgresStore } from "./postgres.js";

const url = process.env.XMTP_TEST_POSTGRES_URL;
const runId = randomBytes(4).toString("hex");
let schemaCounter = 0;
const createdSchemas: string[] = [];
function freshSchema(): string {
  const schema = `xmtp_follow_${runId}_${schemaCounter++}`;
  createdSchemas.push(schema);
  return schema;
}

const text = (e: { message: Uint8Array }) => new TextDecoder().decode(e.message);
const envelope = (label: string, topic = "/xmtp/0/m-follow/proto"): StoredEnvelope =>
  withDigest({ contentTopic: topic, timestampNs: BigInt(Date.now()) * 1_000_000n, message: new TextEncoder().encode(label) });

/** What a follower delivered, in order, with a way to wait for a count. */
class Collected {
  readonly labels: string[] = [];
  private waiters: Array<() => void> = [];
  add = (envelopes: StoredEnvelope[]) => {
    for (const e of envelopes) this.labels.push(text(e));
    for (const wake of this.waiters.splice(0)) wake();
  };
  async atLeast(count: number, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (this.labels.length < count) {
      if (Date.now() > deadline) throw new Error(`${what}: ${this.labels.length} of ${count} delivered after 20 s`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

describe.skipIf(!url)("PostgreSQL commit follower", () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const opened: SharedEnvelopeStore[] = [];
  const followers: CommitFollower[] = [];
  const open = async (schema: string) => {
    const store = await openPostgresStore(url!, { schema });
    opened.push(store);
    return store;
  };
  const follow = async (store: SharedEnvelopeStore, pollIntervalMs?: number) => {
    const collected = new Collected();
    followers.push(await store.follow(collected.add, { pollIntervalMs }));
    return collected;
  };

  afterAll(async () => {
    await Promise.all(followers.map((f) => f.close()));
    await Promise.all(opened.map((s) => s.close()));
    for (const schema of createdSchemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it("delivers what three writers commit at once to every follower, each envelope once, in the same order", async () => {
    const schema = freshSchema();
    const stores = [await open(schema), await open(schema), await open(schema)];
    await stores[0].append([envelope("before")]);
    const seen = await Promise.all(stores.map(follow));
    const perWriter = 120;
    await Promise.all(
      stores.map(async (store, w) => {
        for (let i = 0; i < perWriter; i++) await store.append([envelope(`w${w}-${i}`), envelope(`w${w}-${i}b`, "/xmtp/0/m-other/proto")]);
      }),
    );
    // A duplicate is not committed again, so not delivered again.
    await stores[2].append([envelope("w0-0")].map((e) => ({ ...e, timestampNs: e.timestampNs })));
    const total = stores.length * perWriter * 2;
    await Promise.all(seen.map((s, i) => s.atLeast(total, `follower ${i}`)));
    const rows = await admin.query<{ label: string }>(`SELECT convert_from(message, 'UTF8') AS label FROM ${schema}.envelopes ORDER BY seq`);
    const committed = rows.rows.map((r) => r.label).filter((label) => label !== "before");
    for (const s of seen) {
      expect(s.labels).toHaveLength(total);
      expect(new Set(s.labels).size).toBe(total);
      // The store's commit order (sequence order) is the order every follower delivers.
      expect(s.labels).toEqual(committed);
    }
    expect(seen[0].labels).not.toContain("before");
  });

  it("is woken by another process's commit through its notification, not by its poll", async () => {
    const schema = freshSchema();
    const [writer, reader] = [await open(schema), await open(schema)];
    // Polling once a minute: only the notification can bring these within the wait below.
    const seen = await follow(reader, 60_000);
    await writer.append([envelope("notified-1")]);
    await writer.shareEphemeral([envelope("notified-2", "/xmtp/0/mE-notified/proto")]);
    await seen.atLeast(2, "notified commits");
    expect(seen.labels).toEqual(["notified-1", "notified-2"]);
  });

  it("shares ephemeral envelopes with every follower without storing them for queries", async () => {
    const schema = freshSchema();
    const [a, b] = [await open(schema), await open(schema)];
    const [seenA, seenB] = [await follow(a), await follow(b)];
    const topic = "/xmtp/0/mE-typing/proto";
    await a.shareEphemeral([envelope("typing-1", topic), envelope("typing-2", topic)]);
    await b.shareEphemeral([envelope("typing-3", topic)]);
    await Promise.all([seenA.atLeast(3, "follower a"), seenB.atLeast(3, "follower b")]);
    expect(seenA.labels).toEqual(["typing-1", "typing-2", "typing-3"]);
    expect(seenB.labels).toEqual(seenA.labels);
    const page = await a.query({ topic, limit: 10, direction: "ascending" });
    expect(page.envelopes).toEqual([]);
  });

  it("loses nothing when its notification connection is cut: it reads by polling, then listens again", async () => {
    const schema = freshSchema();
    const [writer, reader] = [await open(schema), await open(schema)];
    const seen = await follow(reader);
    await writer.append([envelope("n1")]);
    await seen.atLeast(1, "before the cut");
    const cut = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'xmtp-ts-node-follower'`,
    );
    expect(cut.rows[0].n).toBeGreaterThanOrEqual(1);
    for (let i = 2; i <= 20; i++) await writer.append([envelope(`n${i}`)]);
    await seen.atLeast(20, "after the cut");
    expect(seen.labels).toEqual(Array.from({ length: 20 }, (_, i) => `n${i + 1}`));
    // Listening again: a follower connection is back.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const back = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'xmtp-ts-node-follower' AND query LIKE 'LISTEN%'`,
      );
      if (back.rows[0].n >= 1) break;
      if (Date.now() > deadline) throw new Error("the follower did not listen again within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it("says when it has delivered everything another process committed before the question", async () => {
    const schema = freshSchema();
    const [writer, reader] = [await open(schema), await open(schema)];
    // Polling once a minute: between a commit and its notification, only caughtUp() can make the follower read.
    const seen = await follow(reader, 60_000);
    const follower = followers[followers.length - 1];
    for (let i = 0; i < 30; i++) {
      await writer.append([envelope(`c${i}`)]);
      await follower.caughtUp();
      expect(seen.labels).toContain(`c${i}`);
    }
    expect(seen.labels).toEqual(Array.from({ length: 30 }, (_, i) => `c${i}`));
    await follower.close();
    await expect(follower.caughtUp()).rejects.toThrow(/closed/);
  });

  it("delivers a large backlog in bounded pages, in order", async () => {
    const schema = freshSchema();
    const [writer, reader] = [await open(schema), await open(schema)];
    const seen = await follow(reader);
    // 2,500 envelopes in one commit: more than one page of rows.
    await writer.append(Array.from({ length: 2_500 }, (_, i) => envelope(`bulk-${i}`)));
    await seen.atLeast(2_500, "the backlog");
    expect(seen.labels).toEqual(Array.from({ length: 2_500 }, (_, i) => `bulk-${i}`));
  });
});
