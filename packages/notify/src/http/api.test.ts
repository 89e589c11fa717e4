// The HTTP API against an in-process service (no node followed: these are the installation calls alone).
import { createECDH, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sender } from "../delivery/sender.js";
import { makeEnvelope } from "../envelope.js";
import { call, startTestService, type TestService } from "../test-support/harness.js";

const SECRET = "a-shared-secret-of-some-length";
const TOPIC = "/xmtp/0/m-0123/proto";

let service: TestService;
beforeAll(async () => {
  // No webhook is really sent here: the sender holds every attempt until shutdown aborts it (which records nothing).
  const holdUntilShutdown: Sender = (_delivery, _attempt, { signal }) =>
    new Promise((resolve) => signal?.addEventListener("abort", () => resolve({ ok: false, error: "aborted" })));
  service = await startTestService({ maxTopicsPerInstallation: 3, maxBodyBytes: 4_096, shutdownGraceMs: 0 }, { sender: holdUntilShutdown });
});
afterAll(async () => {
  await service.dispose();
});

async function register(extra: Record<string, unknown> = {}) {
  const answer = await call(service.url, "POST", "/v1/installations", {
    body: { target: { kind: "webhook", url: "https://example.com/hook" }, secret: SECRET, ...extra },
  });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; accessKey: string; topics: string[] };
}

describe("installations", () => {
  it("registers, subscribes, unsubscribes, reads and deletes", async () => {
    const { id, accessKey, topics } = await register({ topics: [TOPIC] });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(accessKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(topics).toEqual([TOPIC]);

    const subscribed = await call(service.url, "POST", `/v1/installations/${id}/subscribe`, {
      key: accessKey,
      body: { topics: ["/xmtp/0/invite-0xabc/proto", TOPIC] },
    });
    expect(subscribed).toMatchObject({ status: 200, body: { topics: ["/xmtp/0/invite-0xabc/proto", TOPIC] } });

    const unsubscribed = await call(service.url, "POST", `/v1/installations/${id}/unsubscribe`, { key: accessKey, body: { topics: [TOPIC] } });
    expect(unsubscribed).toMatchObject({ status: 200, body: { topics: ["/xmtp/0/invite-0xabc/proto"] } });

    const read = await call(service.url, "GET", `/v1/installations/${id}`, { key: accessKey });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      id,
      target: { kind: "webhook", url: "https://example.com/hook" },
      topics: ["/xmtp/0/invite-0xabc/proto"],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deliveries: { pending: 0, delivered: 0, dead: 0 },
      deadLetters: [],
    });
    expect(JSON.stringify(read.body)).not.toContain(SECRET);

    expect((await call(service.url, "DELETE", `/v1/installations/${id}`, { key: accessKey })).status).toBe(204);
    expect(await call(service.url, "GET", `/v1/installations/${id}`, { key: accessKey })).toMatchObject({
      status: 404,
      body: { error: { code: "not_found", message: `no installation ${id}` } },
    });
  });

  it("stores only a hash of the access key", async () => {
    const { id, accessKey } = await register();
    const stored = await service.store.getInstallation(id);
    expect(stored?.accessKeyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(accessKey);
  });

  it("lists dead-lettered deliveries and clears them", async () => {
    const { id, accessKey } = await register({ topics: [TOPIC] });
    // Put one delivery into the dead-letter state straight through the store (the delivery loop is tested elsewhere).
    const envelope = makeEnvelope(TOPIC, 123n, new Uint8Array([7, 8, 9]));
    await service.store.ingest("http://test", [envelope], undefined, 1);
    const [due] = (await service.store.dueDeliveries(Date.now() + 10_000, 100, new Set())).filter((d) => d.installationId === id);
    await service.store.markFailed(due.seq, { attempts: 10, nextAttemptAtMs: 5, error: "HTTP 500", dead: true }, Date.parse("2026-01-02T03:04:05Z"));
    const read = await call(service.url, "GET", `/v1/installations/${id}`, { key: accessKey });
    expect(read.body.deliveries).toEqual({ pending: 0, delivered: 0, dead: 1 });
    expect(read.body.deadLetters).toEqual([
      {
        digest: envelope.digest,
        envelope: { contentTopic: TOPIC, timestampNs: "123", message: "BwgJ" },
        attempts: 10,
        lastError: "HTTP 500",
        deadAt: "2026-01-02T03:04:05.000Z",
      },
    ]);
    expect(await call(service.url, "DELETE", `/v1/installations/${id}/dead-letters`, { key: accessKey })).toMatchObject({ status: 200, body: { removed: 1 } });
    expect((await call(service.url, "GET", `/v1/installations/${id}`, { key: accessKey })).body.deadLetters).toEqual([]);
  });
});

describe("authentication", () => {
  it("refuses a missing, malformed, forged or another installation's access key", async () => {
    const alice = await register({ topics: [TOPIC] });
    const bob = await register();
    const path = `/v1/installations/${alice.id}`;

    expect(await call(service.url, "GET", path)).toMatchObject({
      status: 401,
      body: { error: { code: "unauthenticated", message: "missing Authorization: Bearer <access key>" } },
    });
    expect((await call(service.url, "GET", path, { headers: { authorization: "Basic abc" } })).status).toBe(401);
    expect((await call(service.url, "GET", path, { headers: { authorization: "Bearer has spaces" } })).status).toBe(401);

    // A forged key of the right shape, and a real key of another installation.
    const forged = alice.accessKey.slice(0, -1) + (alice.accessKey.endsWith("A") ? "B" : "A");
    for (const key of [forged, bob.accessKey]) {
      for (const [method, suffix, body] of [
        ["GET", "", undefined],
        ["DELETE", "", undefined],
        ["POST", "/subscribe", { topics: ["/xmtp/0/evil/proto"] }],
        ["POST", "/unsubscribe", { topics: [TOPIC] }],
        ["DELETE", "/dead-letters", undefined],
      ] as const) {
        const answer = await call(service.url, method, path + suffix, { key, body });
        expect(answer, `${method} ${suffix}`).toMatchObject({
          status: 403,
          body: { error: { code: "forbidden", message: "this access key does not belong to the installation" } },
        });
      }
    }
    // Nothing changed.
    const read = await call(service.url, "GET", path, { key: alice.accessKey });
    expect(read.body.topics).toEqual([TOPIC]);

    expect((await call(service.url, "GET", "/v1/installations/0123456789abcdef0123456789abcdef", { key: alice.accessKey })).status).toBe(404);
  });
});

describe("input checks", () => {
  const bad = async (body: unknown, field: string | undefined, message: RegExp, path = "/v1/installations", key?: string) => {
    const answer = await call(service.url, "POST", path, { body, key });
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    if (field) expect(answer.body.error.field).toBe(field);
    expect(answer.body.error.message).toMatch(message);
  };

  it("names the field at fault", async () => {
    const target = { kind: "webhook", url: "https://example.com/hook" };
    await bad("{not json", undefined, /not valid JSON/);
    await bad([], undefined, /must be a JSON object/);
    await bad({ secret: SECRET }, "target", /must be an object/);
    await bad({ target: { kind: "carrier-pigeon" }, secret: SECRET }, "target.kind", /must be "webhook" or "webpush"/);
    await bad({ target: { ...target, extra: 1 }, secret: SECRET }, "target.extra", /unknown field/);
    await bad({ target: { kind: "webhook" }, secret: SECRET }, "target.url", /non-empty string/);
    await bad({ target: { kind: "webhook", url: "ftp://x/" }, secret: SECRET }, "target.url", /http: or https:/);
    await bad({ target: { kind: "webhook", url: "not a url" }, secret: SECRET }, "target.url", /absolute URL/);
    await bad({ target: { kind: "webhook", url: "https://u:p@x/" }, secret: SECRET }, "target.url", /user name or password/);
    await bad({ target }, "secret", /must be a string/);
    await bad({ target, secret: "short" }, "secret", /16 to 256 characters/);
    await bad({ target, secret: SECRET, topics: "x" }, "topics", /array/);
    await bad({ target, secret: SECRET, topics: [TOPIC, 5] }, "topics[1]", /must be a string/);
    await bad({ target, secret: SECRET, topics: ["/other/topic"] }, "topics[0]", /must start with \/xmtp\/0\//);
    await bad({ target, secret: SECRET, topics: ["/xmtp/0/" + "x".repeat(300)] }, "topics[0]", /1 to 300 bytes/);
    await bad({ target, secret: SECRET, extra: 1 }, "extra", /unknown field/);
  });

  it("registers a Web Push subscription as PushSubscription.toJSON() gives it, and names what is wrong with a bad one", async () => {
    const browser = createECDH("prime256v1");
    browser.generateKeys();
    const keys = { p256dh: browser.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") };
    const subscription = { endpoint: "https://push.example.net/wpush/abc", expirationTime: null, keys };
    const answer = await call(service.url, "POST", "/v1/installations", { body: { target: { kind: "webpush", ...subscription }, topics: [TOPIC] } });
    expect(answer.status).toBe(201);
    const read = await call(service.url, "GET", `/v1/installations/${answer.body.id}`, { key: answer.body.accessKey });
    expect(read.body.target).toEqual({ kind: "webpush", endpoint: subscription.endpoint, keys });

    const push = (overrides: Record<string, unknown>) => ({ target: { kind: "webpush", endpoint: subscription.endpoint, keys, ...overrides } });
    await bad({ ...push({}), secret: SECRET }, "secret", /not used by webpush targets/);
    await bad(push({ endpoint: "ftp://x/" }), "target.endpoint", /http: or https:/);
    await bad(push({ keys: undefined }), "target.keys", /p256dh and auth/);
    await bad(push({ keys: { ...keys, p256dh: "not base64!" } }), "target.keys.p256dh", /base64url/);
    await bad(push({ keys: { ...keys, p256dh: keys.p256dh.slice(0, 40) } }), "target.keys.p256dh", /65 bytes/);
    const offCurve = browser.getPublicKey();
    offCurve[64] ^= 1;
    await bad(push({ keys: { ...keys, p256dh: offCurve.toString("base64url") } }), "target.keys.p256dh", /not a point on P-256/);
    await bad(push({ keys: { ...keys, auth: "AAAA" } }), "target.keys.auth", /16 bytes/);
    await bad(push({ keys: { ...keys, extra: "x" } }), "target.keys.extra", /unknown field/);
  });

  it("gives the VAPID public key browsers subscribe with", async () => {
    const answer = await call(service.url, "GET", "/v1/webpush/vapid-public-key");
    expect(answer.status).toBe(200);
    const key = Buffer.from(answer.body.publicKey, "base64url");
    expect(key.length).toBe(65);
    expect(key[0]).toBe(4);
    expect((await call(service.url, "POST", "/v1/webpush/vapid-public-key")).status).toBe(405);
  });

  it("answers browsers' CORS preflight and marks every answer as readable from any origin", async () => {
    const preflight = await call(service.url, "OPTIONS", "/v1/installations/abc/subscribe", {
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("DELETE");
    const refused = await call(service.url, "GET", "/v1/installations/abc", { headers: { origin: "https://app.example" } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("bounds the number of topics per installation", async () => {
    const { id, accessKey } = await register({ topics: ["/xmtp/0/a/proto", "/xmtp/0/b/proto"] });
    await bad({ topics: ["/xmtp/0/c/proto", "/xmtp/0/d/proto"] }, "topics", /at most 3 topics .* would make it 4/, `/v1/installations/${id}/subscribe`, accessKey);
    await bad({ target: { kind: "webhook", url: "https://x/" }, secret: SECRET, topics: ["/xmtp/0/1/p", "/xmtp/0/2/p", "/xmtp/0/3/p", "/xmtp/0/4/p"] }, "topics", /at most 3/);
    const ok = await call(service.url, "POST", `/v1/installations/${id}/subscribe`, { key: accessKey, body: { topics: ["/xmtp/0/c/proto"] } });
    expect(ok.body.topics).toHaveLength(3);
  });

  it("refuses a body over the limit with 413, declared or streamed", async () => {
    const big = JSON.stringify({ target: { kind: "webhook", url: "https://x/" }, secret: SECRET, topics: ["/xmtp/0/" + "y".repeat(5_000)] });
    const declared = await call(service.url, "POST", "/v1/installations", { body: big });
    expect(declared).toMatchObject({ status: 413, body: { error: { code: "body_too_large", message: "request body exceeds 4096 bytes" } } });

    // Chunked, no Content-Length: refused once the bytes read pass the limit.
    const { port } = new URL(service.url);
    const streamed = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: "/v1/installations", method: "POST" }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      });
      req.on("error", reject);
      req.write(big.slice(0, 3_000));
      setTimeout(() => req.end(big.slice(3_000)), 50);
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.text).error.code).toBe("body_too_large");
  });

  it("answers unknown routes and methods with JSON errors", async () => {
    expect(await call(service.url, "GET", "/nope")).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect(await call(service.url, "GET", "/v1/installations")).toMatchObject({ status: 405, body: { error: { code: "method_not_allowed" } } });
    expect((await call(service.url, "PUT", "/v1/installations/abc")).status).toBe(405);
    expect(await call(service.url, "GET", "/healthz")).toEqual({ status: 200, body: { ok: true, nodes: [] }, headers: expect.anything() });
  });
});

describe("/metrics", () => {
  it("serves Prometheus text with deliveries by outcome, queue depth and dead letters", async () => {
    const answer = await fetch(service.url + "/metrics");
    expect(answer.headers.get("content-type")).toContain("text/plain");
    const text = await answer.text();
    expect(text).toContain('xmtp_notify_deliveries_total{outcome="delivered"} 0');
    expect(text).toContain('xmtp_notify_deliveries_total{outcome="dead"} 0');
    expect(text).toMatch(/^xmtp_notify_queue_depth \d+$/m);
    expect(text).toMatch(/^xmtp_notify_dead_letters \d+$/m);
  });
});
