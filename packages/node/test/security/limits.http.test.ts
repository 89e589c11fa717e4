// Rate limits (429, code 8, Retry-After) and abuse limits over real HTTP, each proven with a request just over
// the limit that is refused and stores nothing, next to one just under it that passes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  bytesOf,
  createIdentity,
  envelopeJson,
  everythingStored,
  nowNs,
  post,
  publish,
  startTestNode,
  type Identity,
  type TestNode,
} from "../http/helpers.js";
import { ADMIN_TOKEN, admin, metricsText, sample, securityConfig, startSecureNode } from "./helpers.js";

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

describe("failed authentications per client address", () => {
  it("refuses further publishes from an address sending bad tokens, before checking any signature", async () => {
    const node = await startSecureNode({ rateLimits: { authFailures: { capacity: 3, refillPerSecond: 0.01 } } });
    try {
      const expired = alice.token(nowNs() - 7_200_000_000_000n);
      for (let i = 0; i < 3; i++) expect((await publish(node, [message()], expired)).status).toBe(401);
      const verificationsBefore = node.authenticator.verifications;
      const refused = await publish(node, [message()], expired);
      expectRateLimited(refused, /address 127\.0\.0\.1 sent too many invalid publish tokens/);
      // Even a genuine token waits: the address is the unit, and nothing was verified for either request.
      expectRateLimited(await publish(node, [message()], bob.token()), /too many invalid publish tokens/);
      expect(node.authenticator.verifications).toBe(verificationsBefore);
      expect(await everythingStored(node)).toHaveLength(0);
    } finally {
      await node.dispose();
    }
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

describe("read bytes per client address", () => {
  it("charges the message bytes each read returned and refuses the address once it is in debt", async () => {
    // A burst of 5,000 bytes, refilled at 100 bytes per second; messages of 3,000 bytes.
    const node = await startSecureNode({ rateLimits: { readBytes: { capacity: 5000, refillPerSecond: 100 } } });
    try {
      const topic = "/xmtp/0/m-read-bytes/proto";
      const big = (i: number) => envelopeJson(topic, BigInt(i), new Uint8Array(3000).fill(i));
      expect((await publish(node, [big(1), big(2)], alice.token())).status).toBe(200);
      const one = () => post(node.url, "/message/v1/query", { contentTopics: [topic], pagingInfo: { limit: 1 } });
      // 5,000 → 2,000: still credit, so the next read passes and is charged in full → 1,000 bytes of debt.
      expect((await one()).status).toBe(200);
      expect((await one()).status).toBe(200);
      // Reads of nothing, or by batch, are refused the same way while the debt lasts (1,000 bytes at 100/s: ~10 s).
      const refused = await one();
      expectRateLimited(refused, /address 127\.0\.0\.1 may read 100 message bytes per second \(bursts of 5000\) and has read more/);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(9);
      expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(10);
      expectRateLimited(await post(node.url, "/message/v1/query", { contentTopics: ["/xmtp/0/m-empty/proto"] }), /message bytes/);
      expectRateLimited(await post(node.url, "/message/v1/batch-query", { requests: [{ contentTopics: [topic] }] }), /message bytes/);
      expect(sample(await metricsText(node), 'xmtp_rate_limited_total{limit="read_bytes"}')).toBe(3);
      // Publishing is not a read: unaffected.
      expect((await publish(node, [big(3)], alice.token())).status).toBe(200);
    } finally {
      await node.dispose();
    }
  });

  it("is off with the other rate limits", async () => {
    const node = await startSecureNode({ rateLimits: { enabled: false, readBytes: { capacity: 1, refillPerSecond: 1 } } });
    try {
      const topic = "/xmtp/0/m-read-bytes-off/proto";
      expect((await publish(node, [envelopeJson(topic, 1n, new Uint8Array(3000))], alice.token())).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await post(node.url, "/message/v1/query", { contentTopics: [topic] })).status).toBe(200);
    } finally {
      await node.dispose();
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

describe("client addresses behind a proxy", () => {
  const batchOfTwo = (node: TestNode, forwardedFor: string) =>
    post(node.url, "/message/v1/batch-query", { requests: [{ contentTopics: [TOPIC] }, { contentTopics: [TOPIC] }] }, { "x-forwarded-for": forwardedFor });

  it("ignores X-Forwarded-For unless told to trust the proxy", async () => {
    const node = await startSecureNode({ rateLimits: { read: { capacity: 2, refillPerSecond: 0.01 } } });
    try {
      expect((await batchOfTwo(node, "198.51.100.1")).status).toBe(200);
      // A different claimed address does not buy a new bucket.
      expectRateLimited(await batchOfTwo(node, "198.51.100.2"), /address 127\.0\.0\.1 may read/);
    } finally {
      await node.dispose();
    }
  });

  it("with --trust-proxy, counts each forwarded client separately by the address the proxy appended", async () => {
    const node = await startSecureNode({ trustProxy: true, rateLimits: { read: { capacity: 2, refillPerSecond: 0.01 } } });
    try {
      expect((await batchOfTwo(node, "198.51.100.1")).status).toBe(200);
      expect((await batchOfTwo(node, "203.0.113.5, 198.51.100.2")).status).toBe(200);
      // The client-written first entry does not matter: the last one is the proxy's.
      expectRateLimited(await batchOfTwo(node, "203.0.113.6, 198.51.100.1"), /address 198\.51\.100\.1 may read/);
    } finally {
      await node.dispose();
    }
  });
});

describe("slow subscribers", () => {
  it("are cut off at --max-stream-buffer-bytes with an error line, and counted", async () => {
    const { connect } = await import("node:net");
    const slowNode = await startTestNode({
      security: securityConfig(),
      http: { streamKeepAliveMs: 30_000, maxStreamBufferBytes: 16 * 1024, maxBodyBytes: 8 << 20, shutdownGraceMs: 5_000 },
    });
    try {
      const topic = "/xmtp/0/m-slow/proto";
      const socket = connect(Number(new URL(slowNode.url).port), "127.0.0.1");
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      const body = JSON.stringify({ contentTopics: [topic] });
      socket.write(`POST /message/v1/subscribe HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      const received: Buffer[] = [];
      socket.on("data", (chunk) => received.push(chunk));
      for (let i = 0; i < 500 && slowNode.hub.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      socket.pause(); // stop reading
      const big = new Uint8Array(64 * 1024);
      for (let published = 1; slowNode.hub.size > 0; published++) {
        if (published > 500) throw new Error("the slow stream was never cut off");
        big.fill(published & 0xff);
        expect((await publish(slowNode, [envelopeJson(topic, BigInt(published), big)], alice.token())).status).toBe(200);
      }
      const text = await new Promise<string>((resolve) => {
        socket.on("close", () => resolve(Buffer.concat(received).toString()));
        socket.resume();
      });
      // The raw socket sees chunked framing too; the NDJSON lines are the ones that start with "{".
      const lastLine = text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("{")).pop()!;
      expect(JSON.parse(lastLine)).toMatchObject({ error: { code: 8, message: expect.stringContaining("too slow") } });
      expect(sample(await metricsText(slowNode), 'xmtp_streams_cut_total{reason="slow_reader"}')).toBe(1);
      socket.destroy();
    } finally {
      await slowNode.dispose();
    }
  });
});
