// The delivery loop against a real webhook receiver (node:http): signatures, per-installation order, retries with
// backoff, dead letters and /metrics. Envelopes are put into the store directly here; following a real node is
// tested in src/follower.e2e.test.ts and src/follower.faults.e2e.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { makeEnvelope } from "../envelope.js";
import { call, startReceiver, startTestService, waitUntil, type TestService, type WebhookReceiver } from "../test-support/harness.js";
import { retryDelayMs } from "./backoff.js";
import { startWebPushReceiver } from "../test-support/webPushReceiver.js";
import { signBody } from "./webhook.js";

const SECRET = "receiver-secret-0123456789";
const TOPIC = "/xmtp/0/m-delivery/proto";
const bytes = (text: string) => new TextEncoder().encode(text);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(overrides: Parameters<typeof startTestService>[0] = {}, receiverSecret = SECRET) {
  const receiver = await startReceiver(receiverSecret);
  cleanups.push(() => receiver.close());
  const service = await startTestService({ retry: { maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 200 }, ...overrides });
  cleanups.push(() => service.dispose());
  return { receiver, service };
}

async function register(service: TestService, receiver: WebhookReceiver, topics = [TOPIC], path = "") {
  const answer = await call(service.url, "POST", "/v1/installations", {
    body: { target: { kind: "webhook", url: receiver.url + path }, secret: SECRET, topics },
  });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; accessKey: string };
}

async function enqueue(service: TestService, texts: string[], topic = TOPIC) {
  const envelopes = texts.map((text, i) => makeEnvelope(topic, 1_000n + BigInt(i), bytes(text)));
  await service.store.ingest("http://test-node", envelopes, undefined, Date.now());
  service.deliverer.wake();
  return envelopes;
}

describe("retry delays", () => {
  it("double from the base up to the cap, with jitter between half and all of the delay", () => {
    const policy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, policy, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, policy, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(retryDelayMs(2, policy, () => 0.5)).toBe(1_500);
    expect(retryDelayMs(200, policy, () => 1)).toBe(10_000);
    expect(() => retryDelayMs(0, policy)).toThrow(RangeError);
  });
});

describe("webhook delivery", () => {
  it("POSTs each envelope once, signed, in order per installation", async () => {
    const { receiver, service } = await setUp();
    const { id } = await register(service, receiver);
    const envelopes = await enqueue(service, ["one", "two", "three"]);
    await receiver.waitFor((r) => r.length === 3);
    expect(receiver.received.map((r) => r.signatureValid)).toEqual([true, true, true]);
    expect(receiver.received.map((r) => Buffer.from(r.body.envelope.message, "base64").toString())).toEqual(["one", "two", "three"]);
    const first = receiver.received[0];
    expect(first.body).toEqual({
      installationId: id,
      deliveryId: `${id}:${envelopes[0].digest}`,
      digest: envelopes[0].digest,
      attempt: 1,
      sentAt: expect.stringMatching(/Z$/),
      envelope: { contentTopic: TOPIC, timestampNs: "1000", message: Buffer.from("one").toString("base64") },
    });
    expect(first.headers["content-type"]).toBe("application/json");
    expect(first.headers["x-xmtp-notify-signature"]).toBe(signBody(SECRET, first.raw));
    expect(first.headers["x-xmtp-notify-delivery"]).toBe(`${id}:${envelopes[0].digest}`);
    await waitUntil(async () => (await service.store.queueStats()).pending === 0, "an empty queue");
    // Nothing more arrives.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(3);
  });

  it("a signature made with another secret does not verify", async () => {
    const { receiver, service } = await setUp({}, "not-the-installations-secret");
    await register(service, receiver);
    await enqueue(service, ["x"]);
    await receiver.waitFor((r) => r.length === 1);
    expect(receiver.received[0].signatureValid).toBe(false);
  });

  it("retries a failing receiver with growing delays, keeping the installation's order, then delivers", async () => {
    const { receiver, service } = await setUp({ retry: { maxAttempts: 6, baseDelayMs: 60, maxDelayMs: 1_000 } });
    await register(service, receiver);
    const times: number[] = [];
    let failures = 3;
    receiver.respond = (d) => {
      times.push(Date.now());
      if (Buffer.from(d.body.envelope.message, "base64").toString() === "first" && failures > 0) {
        failures--;
        return 503;
      }
      return 200;
    };
    await enqueue(service, ["first", "second"]);
    await receiver.waitFor((r) => r.length === 5);
    const texts = receiver.received.map((r) => Buffer.from(r.body.envelope.message, "base64").toString());
    // "second" waits until "first" is through: one in flight per installation, in order.
    expect(texts).toEqual(["first", "first", "first", "first", "second"]);
    expect(receiver.received.map((r) => r.body.attempt)).toEqual([1, 2, 3, 4, 1]);
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
    // Delays with jitter are at least half of 60, 120, 240 ms.
    const gaps = [times[1] - times[0], times[2] - times[1], times[3] - times[2]];
    expect(gaps[0]).toBeGreaterThanOrEqual(30 - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(60 - 5);
    expect(gaps[2]).toBeGreaterThanOrEqual(120 - 5);
    const metrics = await (await fetch(service.url + "/metrics")).text();
    expect(metrics).toContain('xmtp_notify_deliveries_total{outcome="retry"} 3');
    expect(metrics).toContain('xmtp_notify_deliveries_total{outcome="delivered"} 2');
  });

  it("dead-letters after the last attempt, then delivers the next; visible in the API and /metrics", async () => {
    const { receiver, service } = await setUp({ retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 } });
    const { id, accessKey } = await register(service, receiver);
    receiver.respond = (d) => (Buffer.from(d.body.envelope.message, "base64").toString() === "doomed" ? 500 : 204);
    const [doomed] = await enqueue(service, ["doomed", "fine"]);
    await receiver.waitFor((r) => r.length === 4);
    expect(receiver.received.map((r) => Buffer.from(r.body.envelope.message, "base64").toString())).toEqual(["doomed", "doomed", "doomed", "fine"]);
    await waitUntil(async () => (await service.store.queueStats()).pending === 0, "an empty queue");
    const read = await call(service.url, "GET", `/v1/installations/${id}`, { key: accessKey });
    expect(read.body.deliveries).toEqual({ pending: 0, delivered: 1, dead: 1 });
    expect(read.body.deadLetters).toMatchObject([{ digest: doomed.digest, attempts: 3, lastError: "HTTP 500" }]);
    const metrics = await (await fetch(service.url + "/metrics")).text();
    expect(metrics).toContain('xmtp_notify_deliveries_total{outcome="dead"} 1');
    expect(metrics).toContain('xmtp_notify_deliveries_total{outcome="retry"} 2');
    expect(metrics).toContain('xmtp_notify_deliveries_total{outcome="delivered"} 1');
    expect(metrics).toContain("xmtp_notify_dead_letters 1");
    expect(metrics).toContain("xmtp_notify_queue_depth 0");
  });

  it("counts an unreachable target, a redirect and a timeout as failures", async () => {
    const { receiver, service } = await setUp({ retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 }, deliveryTimeoutMs: 300 });
    // A port that was free a moment ago: nothing listens there.
    const closed = await startReceiver(SECRET);
    await closed.close();
    const unreachable = await call(service.url, "POST", "/v1/installations", {
      body: { target: { kind: "webhook", url: closed.url }, secret: SECRET, topics: ["/xmtp/0/a/proto"] },
    });
    const redirected = await register(service, receiver, ["/xmtp/0/b/proto"], "?redirect");
    const slow = await register(service, receiver, ["/xmtp/0/c/proto"], "?slow");
    receiver.respond = (d) => (d.path.endsWith("?redirect") ? 302 : 200);
    // The slow path: answer later than the delivery timeout.
    const originalRespond = receiver.respond;
    receiver.respond = async (d) => {
      // A receiver that answers only after the delivery timeout.
      if (d.path.endsWith("?slow")) await new Promise((r) => setTimeout(r, 600));
      return originalRespond(d);
    };
    await enqueue(service, ["a"], "/xmtp/0/a/proto");
    await enqueue(service, ["b"], "/xmtp/0/b/proto");
    await enqueue(service, ["c"], "/xmtp/0/c/proto");
    await waitUntil(async () => (await service.store.queueStats()).dead === 3, "three dead letters");
    const errorOf = async (id: string, key: string) => (await call(service.url, "GET", `/v1/installations/${id}`, { key })).body.deadLetters[0].lastError;
    expect(await errorOf(unreachable.body.id, unreachable.body.accessKey)).toBe("ECONNREFUSED");
    expect(await errorOf(redirected.id, redirected.accessKey)).toBe("HTTP 302");
    expect(await errorOf(slow.id, slow.accessKey)).toBe("no answer within 300 ms");
  });
});

describe("Web Push delivery", () => {
  it("pushes in order, carrying the envelope whole, and waits out a push service's 429 Retry-After", async () => {
    const push = await startWebPushReceiver();
    cleanups.push(() => push.close());
    const service = await startTestService({ retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 5_000 } });
    cleanups.push(() => service.dispose());
    const answer = await call(service.url, "POST", "/v1/installations", { body: { target: { kind: "webpush", ...push.newSubscription() }, topics: [TOPIC] } });
    expect(answer.status).toBe(201);
    const attemptsAt: number[] = [];
    push.respond = () => {
      attemptsAt.push(Date.now());
      return attemptsAt.length === 1 ? { status: 429, headers: { "retry-after": "1" } } : 201;
    };
    await enqueue(service, ["one", "two"]);
    const pushes = await push.waitFor(2);
    const documents = pushes.map((p) => JSON.parse(p.plaintext));
    expect(documents.map((d) => Buffer.from(d.envelope.message, "base64").toString())).toEqual(["one", "two"]);
    expect(documents[0].deliveryId).toBe(`${answer.body.id}:${documents[0].digest}`);
    expect(documents.map((d) => d.attempt)).toEqual([2, 1]);
    // Without Retry-After the retry would come after 10-20 ms (the policy's base delay).
    expect(attemptsAt[1] - attemptsAt[0]).toBeGreaterThanOrEqual(950);
    expect(push.rejected).toEqual([]);
  });

  it("dead-letters at the first answer that cannot get better (413), keeping the installation", async () => {
    const push = await startWebPushReceiver();
    cleanups.push(() => push.close());
    const service = await startTestService({ retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 } });
    cleanups.push(() => service.dispose());
    const { body } = await call(service.url, "POST", "/v1/installations", { body: { target: { kind: "webpush", ...push.newSubscription() }, topics: [TOPIC] } });
    let refused = 0;
    push.respond = () => (refused++, 413);
    await enqueue(service, ["too big for this push service"]);
    await waitUntil(async () => (await call(service.url, "GET", `/v1/installations/${body.id}`, { key: body.accessKey })).body.deliveries.dead === 1, "a dead letter");
    const info = (await call(service.url, "GET", `/v1/installations/${body.id}`, { key: body.accessKey })).body;
    expect(info.deadLetters[0]).toMatchObject({ attempts: 1, lastError: "HTTP 413: refused by the push service" });
    expect(refused).toBe(1);
  });
});
