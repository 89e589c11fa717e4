// Rate limits (429, code 8, Retry-After) and abuse limits over real HTTP, each proven with a request just over
// the limit that is refused and stores nothing, next to one just under it that passes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytesOf, createIdentity, envelopeJson, everythingStored, nowNs, post, publish, type Identity, type TestNode } from "../http/helpers.js";
import { ADMIN_TOKEN, admin, metricsText, sample, startSecureNode } from "./helpers.js";

let alice: Identity;
let bob: Identity;
const TOPIC = "/xmtp/0/m-limits/proto";
const message = () => envelopeJson(TOPIC, nowNs(), bytesOf(`m ${Math.random()}`));
const query = (node: TestNode, topic = TOPIC) => post(node.url, "/message/v1/query", { contentTopics: [topic] });

beforeAll(async () => {
  [alice, bob] = await Promise.all([createIdentity(), createIdentity()]);
});

function expectRateLimited(res: { status: number; body: any; headers: Headers }, what: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body).toMatchObject({ code: 8, details: [] });
  expect(res.body.message).toMatch(what);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(res.body.message).toContain(`retry in ${retryAfter} s`);
}

describe("publish rate limit per wallet", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startSecureNode({
      adminToken: ADMIN_TOKEN,
      rateLimits: {
        publish: { capacity: 3, refillPerSecond: 0.01 },
        publishPriority: { capacity: 6, refillPerSecond: 0.01 },
      },
    });
  });
  afterAll(() => node?.dispose());

  it("lets a burst of 3 envelopes through, then answers 429 with a retry hint and stores nothing", async () => {
    expect((await publish(node, [message(), message()], alice.token())).status).toBe(200);
    expect((await publish(node, [message()], alice.token())).status).toBe(200);
    const before = (await everythingStored(node)).length;
    const refused = await publish(node, [message()], alice.token());
    expectRateLimited(refused, new RegExp(`wallet ${alice.address} may publish 0.01 envelopes per second \\(bursts of 3\\)`));
    expect(Number(refused.headers.get("retry-after"))).toBe(100);
    expect(await everythingStored(node)).toHaveLength(before);
    // Another wallet is not affected.
    expect((await publish(node, [message()], bob.token())).status).toBe(200);
    expect(sample(await metricsText(node), 'xmtp_rate_limited_total{limit="publish"}')).toBe(1);
  });

  it("gives priority wallets the priority burst", async () => {
    const vip = await createIdentity();
    await admin(node, "POST", "/admin/v1/authz", { address: vip.address, permission: "allow", priority: true });
    for (let i = 0; i < 6; i++) expect((await publish(node, [message()], vip.token())).status).toBe(200);
    expectRateLimited(await publish(node, [message()], vip.token()), /bursts of 6/);
  });
});

describe("read and subscribe rate limits per client address", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startSecureNode({
      rateLimits: {
        read: { capacity: 4, refillPerSecond: 0.01 },
        subscribe: { capacity: 2, refillPerSecond: 0.01 },
      },
    });
  });
  afterAll(() => node?.dispose());

  it("counts one token per topic queried, batches included", async () => {
    expect((await query(node)).status).toBe(200);
    const batch = (n: number) =>
      post(node.url, "/message/v1/batch-query", { requests: Array.from({ length: n }, () => ({ contentTopics: [TOPIC] })) });
    expect((await batch(3)).status).toBe(200);
    expectRateLimited(await query(node), /address 127\.0\.0\.1 may read 0.01 topics per second \(bursts of 4\)/);
    expectRateLimited(await batch(1), /may read/);
  });

  it("limits subscribe requests", async () => {
    const controllers: AbortController[] = [];
    const subscribe = async () => {
      const controller = new AbortController();
      controllers.push(controller);
      const response = await fetch(node.url + "/message/v1/subscribe", {
        method: "POST",
        body: JSON.stringify({ contentTopics: [TOPIC] }),
        signal: controller.signal,
      });
      if (response.status !== 200) return { status: response.status, body: await response.json(), headers: response.headers };
      return { status: 200, body: undefined, headers: response.headers };
    };
    try {
      expect((await subscribe()).status).toBe(200);
      expect((await subscribe()).status).toBe(200);
      expectRateLimited(await subscribe(), /may open 0.01 subscriptions per second \(bursts of 2\)/);
    } finally {
      controllers.forEach((c) => c.abort());
    }
  });
});

describe("abuse limits", () => {
  let node: TestNode;
  const open: AbortController[] = [];
  beforeAll(async () => {
    node = await startSecureNode({
      limits: { maxEnvelopesPerPublish: 2, maxTopicsPerQuery: 3, maxTopicsPerSubscription: 2, maxStreamsPerClient: 2 },
    });
  });
  afterAll(() => node?.dispose());
  afterEach(() => open.splice(0).forEach((c) => c.abort()));

  async function subscribe(topics: string[]) {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(node.url + "/message/v1/subscribe", {
      method: "POST",
      body: JSON.stringify({ contentTopics: topics }),
      signal: controller.signal,
    });
    return { status: response.status, body: response.status === 200 ? undefined : await response.json(), close: () => controller.abort() };
  }

  it("refuses more envelopes per publish than allowed, storing none of them", async () => {
    expect((await publish(node, [message(), message()], alice.token())).status).toBe(200);
    const before = (await everythingStored(node)).length;
    const res = await publish(node, [message(), message(), message()], alice.token());
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 3 });
    expect(res.body.message).toBe(
      "too many envelopes in one publish: 3 given, this node accepts at most 2 (--max-envelopes-per-publish)",
    );
    expect(await everythingStored(node)).toHaveLength(before);
  });

  it("refuses batch queries over the topic limit", async () => {
    const batch = (n: number) =>
      post(node.url, "/message/v1/batch-query", { requests: Array.from({ length: n }, () => ({ contentTopics: [TOPIC] })) });
    expect((await batch(3)).status).toBe(200);
    const res = await batch(4);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/too many topics in one query: 4 given, this node accepts at most 3 \(--max-topics-per-query\)/);
  });

  it("refuses subscriptions over the topic limit", async () => {
    expect((await subscribe(["/xmtp/0/a/proto", "/xmtp/0/b/proto"])).status).toBe(200);
    const res = await subscribe(["/xmtp/0/a/proto", "/xmtp/0/b/proto", "/xmtp/0/c/proto"]);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/too many topics in one subscription: 3 given.*at most 2/);
  });

  it("limits concurrent streams per client address and frees the slot when a stream closes", async () => {
    const first = await subscribe([TOPIC]);
    expect(first.status).toBe(200);
    expect((await subscribe([TOPIC])).status).toBe(200);
    const third = await subscribe([TOPIC]);
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ code: 8, message: expect.stringMatching(/too many open streams: address 127\.0\.0\.1 already has 2/) });
    const subscribeAll = await fetch(node.url + "/message/v1/subscribe-all", { method: "POST", body: "{}" });
    expect(subscribeAll.status).toBe(429);
    first.close();
    // The node notices the closed response asynchronously.
    for (let i = 0; i < 500 && node.security.guard.openStreamCount("127.0.0.1") >= 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await subscribe([TOPIC])).status).toBe(200);
  });
});
