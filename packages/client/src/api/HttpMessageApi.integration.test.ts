// HttpMessageApi against the real node (packages/node/dist/main.js; build it with `npx tsc -b packages/node`).
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { ApiError, GrpcCode, HttpMessageApi, type Envelope } from "./index.js";
import { testIdentity, type TestIdentity } from "./test-support/walletToken.js";

let node: RunningNode;
let me: TestIdentity;
let api: HttpMessageApi;

beforeAll(async () => {
  node = await startNode();
  me = await testIdentity();
  api = new HttpMessageApi({ apiUrl: node.url, authTokenProvider: me.provider, appVersion: "xmtp-ts-tests/1" });
});

afterAll(async () => {
  // SIGKILL rather than dispose(): after an aborted stream Node's fetch leaves an idle pooled socket that keeps a
  // SIGTERMed node in its 10 s shutdown grace; nothing here depends on a clean shutdown.
  await node?.kill();
  if (node) rmSync(node.dataDir, { recursive: true, force: true });
});

let topicCounter = 0;
const freshTopic = (name = "m") => `/xmtp/0/${name}-${process.pid}-${Date.now()}-${topicCounter++}/proto`;
const bytes = (...values: number[]) => new Uint8Array(values);

describe("publish", () => {
  it("stores envelopes exactly as sent (timestamp and bytes) with a real token", async () => {
    const topic = freshTopic();
    const sent: Envelope[] = [
      { contentTopic: topic, timestampNs: 1795659984974000001n, message: bytes(0xfb, 0xff, 0, 1, 2) },
      { contentTopic: topic, timestampNs: 1795659984974000002n, message: bytes(9) },
    ];
    await api.publish(sent);
    expect(await api.queryAll({ contentTopic: topic })).toEqual(sent);
  });

  it("refreshes an expired token once and succeeds", async () => {
    const refreshes: boolean[] = [];
    const client = new HttpMessageApi({
      apiUrl: node.url,
      authTokenProvider: async ({ refresh }) => {
        refreshes.push(refresh);
        return refresh ? me.token() : me.token(2 * 3600_000);
      },
    });
    const topic = freshTopic();
    await client.publish([{ contentTopic: topic, timestampNs: 1n, message: bytes(1) }]);
    expect(refreshes).toEqual([false, true]);
    expect(await api.queryAll({ contentTopic: topic })).toHaveLength(1);
  });

  it("fails with code 16 when even the refreshed token is forged", async () => {
    const stranger = await testIdentity();
    // Claims our wallet but is signed by another identity: the node must refuse it.
    const forged = stranger.token().slice(0, -8) + me.token().slice(-8);
    const client = new HttpMessageApi({ apiUrl: node.url, authTokenProvider: async () => forged });
    const topic = freshTopic();
    const error = await client.publish([{ contentTopic: topic, timestampNs: 1n, message: bytes(1) }]).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: GrpcCode.UNAUTHENTICATED, httpStatus: 401, call: "publish" });
    expect(error.serverMessage).toMatch(/^validating token/);
    expect(await api.queryAll({ contentTopic: topic })).toEqual([]);
  });

  it("gets code 7 for another wallet's contact topic", async () => {
    const other = await testIdentity();
    const error = await api
      .publish([{ contentTopic: `/xmtp/0/contact-${other.address}/proto`, timestampNs: 1n, message: bytes(1) }])
      .catch((e) => e);
    expect(error).toMatchObject({ code: GrpcCode.PERMISSION_DENIED, httpStatus: 403, transient: false });
  });

  it("gets code 3 for a topic the node refuses", async () => {
    const error = await api
      .publish([{ contentTopic: "/xmtp/0/" + "x".repeat(300) + "/proto", timestampNs: 1n, message: bytes(1) }])
      .catch((e) => e);
    expect(error).toMatchObject({ code: GrpcCode.INVALID_ARGUMENT, httpStatus: 400 });
  });
});

describe("query paging", () => {
  const topic = freshTopic();
  const envelopes: Envelope[] = Array.from({ length: 7 }, (_, i) => ({
    contentTopic: topic,
    timestampNs: 1_000n + BigInt(i),
    message: bytes(i + 1),
  }));

  beforeAll(async () => {
    await api.publish(envelopes);
  });

  const pages = async (direction: "ascending" | "descending") => {
    const out: number[][] = [];
    let page = await api.query({ contentTopic: topic, pageSize: 3, direction });
    for (;;) {
      if (page.envelopes.length === 0) break;
      out.push(page.envelopes.map((e) => Number(e.timestampNs - 1_000n)));
      if (!page.cursor) break;
      page = await api.query({ contentTopic: topic, pageSize: 3, direction, cursor: page.cursor });
    }
    return out;
  };

  it("pages ascending with cursors", async () => {
    expect(await pages("ascending")).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it("pages descending with cursors", async () => {
    expect(await pages("descending")).toEqual([[6, 5, 4], [3, 2, 1], [0]]);
  });

  it("queryAll collects every page in both directions", async () => {
    expect(await api.queryAll({ contentTopic: topic, pageSize: 2 })).toEqual(envelopes);
    expect(await api.queryAll({ contentTopic: topic, pageSize: 2, direction: "descending" })).toEqual(
      [...envelopes].reverse(),
    );
  });

  it("queryAll honours limit and inclusive time bounds", async () => {
    expect((await api.queryAll({ contentTopic: topic, limit: 4 })).map((e) => e.timestampNs)).toEqual([
      1000n, 1001n, 1002n, 1003n,
    ]);
    const bounded = await api.queryAll({ contentTopic: topic, startTimeNs: 1_002n, endTimeNs: 1_004n, pageSize: 1 });
    expect(bounded.map((e) => e.timestampNs)).toEqual([1002n, 1003n, 1004n]);
  });
});

describe("batchQuery", () => {
  it("answers 120 queries in request order across three batches", async () => {
    const topics = Array.from({ length: 120 }, () => freshTopic("batch"));
    // Every third topic stays empty; the others get 1 or 2 envelopes.
    const published: Envelope[] = [];
    topics.forEach((contentTopic, i) => {
      if (i % 3 === 0) return;
      for (let j = 0; j <= i % 2; j++) published.push({ contentTopic, timestampNs: BigInt(i * 10 + j), message: bytes(i, j) });
    });
    await api.publish(published);
    const order = [...topics].reverse();
    const results = await api.batchQuery(order.map((contentTopic) => ({ contentTopic, pageSize: 5, direction: "descending" })));
    expect(results).toHaveLength(120);
    results.forEach((envelopes, k) => {
      const i = topics.indexOf(order[k]);
      const expected = published.filter((e) => e.contentTopic === order[k]).reverse();
      expect(envelopes).toEqual(expected);
      expect(envelopes.length).toBe(i % 3 === 0 ? 0 : (i % 2) + 1);
    });
  });
});

describe("subscribe", () => {
  it("is ready before we publish and delivers in order; updateTopics adds a topic; return() ends it", async () => {
    const [a, b] = [freshTopic(), freshTopic()];
    const subscription = api.subscribe([a]);
    await subscription.ready;
    const now = BigInt(Date.now()) * 1_000_000n;
    await api.publish([{ contentTopic: a, timestampNs: now, message: bytes(1) }]);
    await api.publish([{ contentTopic: a, timestampNs: now + 1n, message: bytes(2) }]);
    const first = [await subscription.next(), await subscription.next()];
    expect(first.map((r) => r.value?.message[0])).toEqual([1, 2]);

    await subscription.updateTopics([a, b]);
    await api.publish([
      { contentTopic: b, timestampNs: now + 2n, message: bytes(3) },
      { contentTopic: a, timestampNs: now + 3n, message: bytes(4) },
    ]);
    const second = [await subscription.next(), await subscription.next()];
    expect(second.map((r) => [r.value?.contentTopic, r.value?.message[0]])).toEqual([
      [b, 3],
      [a, 4],
    ]);
    expect(await subscription.return!()).toEqual({ done: true, value: undefined });
    expect(await subscription.next()).toEqual({ done: true, value: undefined });
  });
});
