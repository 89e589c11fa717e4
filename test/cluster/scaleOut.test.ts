// Three xmtp-node processes over one PostgreSQL schema behind a real HAProxy (test/support/cluster.ts): they serve
// as one node. Subscribers on every instance get every envelope once, in one order per topic; cursors from one
// instance page on another; killing an instance under load loses nothing acknowledged (docs/scale-out.md).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentity, envelopeJson, nowNs, post, type Identity } from "../../packages/node/test/http/helpers.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { openEnvelopeStream, type EnvelopeStreamReader, type StreamedEnvelope } from "../support/envelopeStream.js";

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;
const run = randomBytes(3).toString("hex");
let topicCounter = 0;
const freshTopic = (kind = "m") => `/xmtp/0/${kind}-scaleout-${run}-${topicCounter++}/proto`;
const messageOf = (label: string) => Buffer.from(label).toString("base64");
const labelOf = (e: StreamedEnvelope) => Buffer.from(e.message, "base64").toString();
const ADMIN_TOKEN = randomBytes(16).toString("hex");

describe.skipIf(!postgresUrl)("three instances over one PostgreSQL behind HAProxy", () => {
  let cluster: Cluster;
  let alice: Identity;
  const streams: EnvelopeStreamReader[] = [];
  const stream = async (baseUrl: string, path: string, body: unknown) => {
    const opened = await openEnvelopeStream(baseUrl, path, body);
    streams.push(opened);
    return opened;
  };
  const publishTo = async (baseUrl: string, topic: string, label: string, timestampNs = nowNs()) => {
    const answer = await post(baseUrl, "/message/v1/publish", { envelopes: [envelopeJson(topic, timestampNs, messageOf(label))] }, {
      authorization: `Bearer ${alice.token()}`,
    });
    if (answer.status !== 200) throw new Error(`publish of ${label} to ${baseUrl} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  };

  beforeAll(async () => {
    alice = await createIdentity();
    cluster = await startCluster({ postgresUrl: postgresUrl!, args: ["--stream-keepalive-ms", "2000", "--admin-token", ADMIN_TOKEN] });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await cluster?.dispose();
  });

  it("streams cross instances: every subscriber gets every envelope once, in the same order per topic", async () => {
    const [t1, t2] = [freshTopic(), freshTopic()];
    const [a, b, c] = cluster.instances.map((instance) => instance.url);
    const onA = await stream(a, "/message/v1/subscribe", { contentTopics: [t1, t2] });
    const allOnB = await stream(b, "/message/v1/subscribe-all", {});
    const onC = await stream(c, "/message/v1/subscribe", { contentTopics: [t1] });
    const viaBalancer = await stream(cluster.url, "/message/v1/subscribe", { contentTopics: [t1, t2] });

    // Each instance publishes 40 envelopes at once, alternating topics, while the others do the same.
    const perInstance = 40;
    await Promise.all(
      [a, b, c].map(async (url, i) => {
        for (let n = 0; n < perInstance; n++) await publishTo(url, n % 2 === 0 ? t1 : t2, `i${i}-n${n}`);
      }),
    );
    const total = 3 * perInstance;
    const ours = (e: StreamedEnvelope) => e.contentTopic === t1 || e.contentTopic === t2;
    const got = {
      a: await onA.atLeast(total, "subscriber on instance A"),
      b: await allOnB.atLeast(total, "subscribe-all on instance B", ours),
      c: await onC.atLeast(total / 2, "subscriber of one topic on instance C"),
      balancer: await viaBalancer.atLeast(total, "subscriber through the balancer"),
    };
    const labels = (list: StreamedEnvelope[], topic?: string) => list.filter((e) => !topic || e.contentTopic === topic).map(labelOf);
    const expected = [0, 1, 2].flatMap((i) => Array.from({ length: perInstance }, (_, n) => `i${i}-n${n}`)).sort();
    for (const [where, list] of Object.entries(got)) {
      const seen = labels(list);
      expect(new Set(seen).size, `${where}: no envelope twice`).toBe(seen.length);
      if (where !== "c") expect([...seen].sort(), `${where}: every envelope`).toEqual(expected);
    }
    // One order per topic on every instance: the store's commit order.
    for (const topic of [t1, t2]) {
      expect(labels(got.b, topic)).toEqual(labels(got.a, topic));
      expect(labels(got.balancer, topic)).toEqual(labels(got.a, topic));
    }
    expect(labels(got.c)).toEqual(labels(got.a, t1));
    // Nothing more arrives later (no late duplicates).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(onA.envelopes).toHaveLength(total);
    expect(viaBalancer.envelopes).toHaveLength(total);
  });

  it("a stream opened on one instance right after another acknowledged a publish starts after it, as on one node", async () => {
    const [a, b] = cluster.instances.map((instance) => instance.url);
    for (let i = 0; i < 15; i++) {
      const topic = freshTopic();
      await publishTo(a, topic, `before-${i}`);
      const onB = await stream(b, "/message/v1/subscribe", { contentTopics: [topic] });
      await publishTo(a, topic, `after-${i}`);
      // Delivered in commit order: had the earlier one come, it would be first.
      expect((await onB.atLeast(1, `stream ${i} on B`)).map(labelOf)).toEqual([`after-${i}`]);
      onB.close();
    }
  });

  it("carries ephemeral envelopes from one instance to subscribers on the others", async () => {
    const topic = freshTopic("mE");
    const [a, b, c] = cluster.instances.map((instance) => instance.url);
    const onB = await stream(b, "/message/v1/subscribe", { contentTopics: [topic] });
    const onC = await stream(c, "/message/v1/subscribe", { contentTopics: [topic] });
    await publishTo(a, topic, "typing…");
    expect((await onB.atLeast(1, "ephemeral on B")).map(labelOf)).toEqual(["typing…"]);
    expect((await onC.atLeast(1, "ephemeral on C")).map(labelOf)).toEqual(["typing…"]);
    // Ephemeral envelopes are never stored, on any instance.
    for (const instance of cluster.instances) {
      const answer = await post(instance.url, "/message/v1/query", { contentTopics: [topic] });
      expect(answer.body.envelopes ?? []).toEqual([]);
    }
  });

  it("pages with a cursor issued by one instance on another, each envelope once", async () => {
    const topic = freshTopic();
    const base = nowNs();
    for (let n = 0; n < 25; n++) await publishTo(cluster.url, topic, `p${n}`, base + BigInt(n));
    const seen: string[] = [];
    let cursor: unknown;
    for (let page = 0; page < 3; page++) {
      const instance = cluster.instances[page % 3];
      const answer = await post(instance.url, "/message/v1/query", {
        contentTopics: [topic],
        pagingInfo: { limit: 10, direction: "SORT_DIRECTION_ASCENDING", ...(cursor ? { cursor } : {}) },
      });
      expect(answer.status).toBe(200);
      seen.push(...(answer.body.envelopes as StreamedEnvelope[]).map(labelOf));
      cursor = answer.body.pagingInfo?.cursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, n) => `p${n}`));
  });

  it("applies a denylist entry made through one instance's admin API on every instance", async () => {
    const mallory = await createIdentity();
    const topic = freshTopic();
    const publishAs = (url: string) =>
      post(url, "/message/v1/publish", { envelopes: [envelopeJson(topic, nowNs(), messageOf("from mallory"))] }, {
        authorization: `Bearer ${mallory.token()}`,
      });
    for (const instance of cluster.instances) expect((await publishAs(instance.url)).status).toBe(200);
    const denied = await post(cluster.instances[0].url, "/admin/v1/authz", { address: mallory.address, permission: "deny" }, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect(denied.status, JSON.stringify(denied.body)).toBe(200);
    // Each instance re-reads the shared lists within --authz-refresh-ms (1 s); wait up to 10 s for all three.
    for (const [i, instance] of cluster.instances.entries()) {
      const deadline = Date.now() + 10_000;
      let status: number;
      while ((status = (await publishAs(instance.url)).status) !== 403 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status, `instance ${i} refuses the denied wallet`).toBe(403);
    }
  });

  it("killing an instance mid-load loses nothing acknowledged; the balancer keeps publishes and streams going", async () => {
    const topic = freshTopic();
    const watcher = await stream(cluster.instances[0].url, "/message/v1/subscribe", { contentTopics: [topic] });
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let killed = false;
    const publishers = [0, 1, 2, 3].map(async (p) => {
      for (let n = 0; n < 60; n++) {
        const label = `k${p}-${n}`;
        try {
          await publishTo(cluster.url, topic, label);
          acknowledged.push(label);
        } catch {
          failed.push(label);
        }
        if (p === 0 && n === 20) {
          await cluster.killInstance(2);
          killed = true;
        }
      }
    });
    await Promise.all(publishers);
    expect(killed).toBe(true);
    // HAProxy retries a publish whose instance died before answering (publishes are idempotent): nothing failed.
    expect(failed).toEqual([]);
    expect(acknowledged).toHaveLength(240);
    // Every acknowledged envelope is stored (read through the balancer: the surviving instances) and was streamed.
    const stored: string[] = [];
    let cursor: unknown;
    do {
      const answer = await post(cluster.url, "/message/v1/query", {
        contentTopics: [topic],
        pagingInfo: { limit: 100, ...(cursor ? { cursor } : {}) },
      });
      expect(answer.status).toBe(200);
      stored.push(...(answer.body.envelopes as StreamedEnvelope[]).map(labelOf));
      cursor = answer.body.pagingInfo?.cursor;
    } while (cursor);
    expect([...stored].sort()).toEqual([...acknowledged].sort());
    const streamed = (await watcher.atLeast(240, "subscriber on a surviving instance")).map(labelOf);
    expect([...streamed].sort()).toEqual([...acknowledged].sort());
    await cluster.restartInstance(2);
  });
});
