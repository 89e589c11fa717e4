// /metrics, /healthz, /readyz and the logs of a real in-process node: the promised series move with traffic,
// readiness follows the store, requests carry ids, and no token or message bytes ever reach a log line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64 } from "@xmtp-ts/crypto";
import { createJsonLogger, openSqliteStore, type EnvelopeStore } from "../../src/index.js";
import { bytesOf, createIdentity, envelopeJson, nowNs, post, publish, startTestNode, type Identity, type TestNode } from "../http/helpers.js";
import { metricsText, sample, startSecureNode } from "./helpers.js";

let alice: Identity;
beforeAll(async () => {
  alice = await createIdentity();
});

describe("health and readiness", () => {
  it("answers /healthz and /readyz, and /readyz turns 503 when the store stops answering", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmtp-readyz-"));
    const real = await openSqliteStore(join(dir, "store.sqlite3"));
    let broken = false;
    const store: EnvelopeStore = {
      append: (e) => real.append(e),
      query: (q) => (broken ? Promise.reject(new Error("disk I/O error")) : real.query(q)),
      readDigestsSince: (s, l) => real.readDigestsSince(s, l),
      hasDigests: (d) => real.hasDigests(d),
      readBySequence: (sequences) => real.readBySequence(sequences),
      flushCommitted: () => real.flushCommitted(),
      prune: (rule, limit) => real.prune(rule, limit),
      countPrunable: (rule) => real.countPrunable(rule),
      close: () => real.close(),
    };
    const node = await startSecureNode({}, { store });
    try {
      const health = await fetch(node.url + "/healthz");
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      expect((await fetch(node.url + "/readyz")).status).toBe(200);
      broken = true;
      const notReady = await fetch(node.url + "/readyz");
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: "unavailable", reason: "store unreachable: disk I/O error" });
      // The process itself is still alive.
      expect((await fetch(node.url + "/healthz")).status).toBe(200);
    } finally {
      await node.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("/metrics", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startSecureNode({ rateLimits: { read: { capacity: 3, refillPerSecond: 0.01 } } });
  });
  afterAll(() => node?.dispose());

  it("counts requests by endpoint and code, envelopes, streams, rate-limited calls and storage latency", async () => {
    const topic = "/xmtp/0/m-metrics/proto";
    const before = await metricsText(node);
    expect(sample(before, "xmtp_relay_peers")).toBe(0);
    expect(sample(before, "xmtp_active_streams")).toBe(0);

    const controller = new AbortController();
    const stream = await fetch(node.url + "/message/v1/subscribe", { method: "POST", body: JSON.stringify({ contentTopics: [topic] }), signal: controller.signal });
    expect(stream.status).toBe(200);
    expect((await publish(node, [envelopeJson(topic, nowNs(), bytesOf("a")), envelopeJson(topic, nowNs(), bytesOf("b"))], alice.token())).status).toBe(200);
    expect((await publish(node, [envelopeJson(topic, nowNs(), bytesOf("a"))], alice.token())).status).toBe(200); // duplicate
    expect((await publish(node, [envelopeJson(topic, nowNs(), bytesOf("c"))])).status).toBe(401);
    for (let i = 0; i < 4; i++) await post(node.url, "/message/v1/query", { contentTopics: [topic] });

    const text = await metricsText(node);
    expect(sample(text, 'xmtp_http_requests_total{endpoint="publish",code="200"}')).toBe(2);
    expect(sample(text, 'xmtp_http_requests_total{endpoint="publish",code="401"}')).toBe(1);
    expect(sample(text, 'xmtp_http_requests_total{endpoint="query",code="200"}')).toBe(3);
    expect(sample(text, 'xmtp_http_requests_total{endpoint="query",code="429"}')).toBe(1);
    expect(sample(text, "xmtp_envelopes_published_total")).toBe(3);
    // The duplicate was accepted but stored once.
    expect(sample(text, "xmtp_envelopes_stored_total")).toBe(2);
    expect(sample(text, "xmtp_active_streams")).toBe(1);
    expect(sample(text, 'xmtp_rate_limited_total{limit="read"}')).toBe(1);
    expect(sample(text, 'xmtp_storage_latency_seconds_count{operation="append"}')).toBe(2);
    expect(sample(text, 'xmtp_storage_latency_seconds_count{operation="query"}')).toBeGreaterThanOrEqual(3);

    controller.abort();
    for (let i = 0; i < 500 && sample(await metricsText(node), "xmtp_active_streams") !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(sample(await metricsText(node), "xmtp_active_streams")).toBe(0);
  });

  it("serves the Prometheus text content type", async () => {
    const response = await fetch(node.url + "/metrics");
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  });
});

describe("logs", () => {
  it("carry request ids and never a token or message bytes", async () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ level: "debug", sink: { write: (line: string) => lines.push(line) } });
    const node = await startSecureNode({ rateLimits: { publish: { capacity: 2, refillPerSecond: 0.01 } } }, { logger });
    const secretText = "attack at dawn, the password is swordfish";
    const secretBytes = bytesOf(secretText);
    const token = alice.token();
    try {
      const topic = "/xmtp/0/m-logs/proto";
      const ok = await publish(node, [envelopeJson(topic, nowNs(), secretBytes)], token);
      expect(ok.status).toBe(200);
      const requestId = ok.headers.get("x-request-id");
      expect(requestId).toMatch(/^[\w-]{8,}$/);
      // Refusals of every kind, each carrying the secret material somewhere.
      await publish(node, [envelopeJson(`/xmtp/0/contact-0x${"1".repeat(40)}/proto`, nowNs(), secretBytes)], token); // 403
      await publish(node, [envelopeJson(topic, nowNs(), secretBytes)], token.slice(0, -8) + "AAAAAAAA"); // 401
      await publish(node, [envelopeJson(topic, nowNs(), secretBytes)], token); // 429
      await post(node.url, "/message/v1/publish", { envelopes: [{ contentTopic: topic, timestampNs: toBase64(secretBytes), message: toBase64(secretBytes) }] }, { authorization: `Bearer ${token}` }); // 400
      await post(node.url, "/message/v1/query", { contentTopics: [topic] });
      const sentId = "client-chosen-id-1234";
      const echoed = await post(node.url, "/message/v1/query", { contentTopics: [topic] }, { "x-request-id": sentId });
      expect(echoed.headers.get("x-request-id")).toBe(sentId);
    } finally {
      await node.dispose();
    }
    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join("\n");
    const forbidden = [token, toBase64(secretBytes), secretText, Buffer.from(secretBytes).toString("hex")];
    // Any 24-character window of the token would be a leak too (e.g. a truncated token in an error message).
    for (let i = 0; i + 24 <= token.length; i += 12) forbidden.push(token.slice(i, i + 24));
    for (const secret of forbidden) expect(all.includes(secret), `a log line contains ${secret.slice(0, 30)}…`).toBe(false);
    const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg.startsWith("request"));
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line.requestId, JSON.stringify(line)).toMatch(/^[\w-]{8,}$/);
  });
});

describe("relay peers gauge", () => {
  it("shows the connected relay peers", async () => {
    const first = await startTestNode({ p2p: { port: 0, host: "127.0.0.1", peers: [], syncIntervalMs: 60_000 } });
    const second = await startTestNode({ p2p: { port: 0, host: "127.0.0.1", peers: [first.network!.multiaddrs[0]], syncIntervalMs: 60_000 } });
    try {
      let peers = 0;
      for (let i = 0; i < 500 && peers < 1; i++) {
        peers = sample(await metricsText(second), "xmtp_relay_peers") ?? 0;
        if (peers < 1) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(peers).toBe(1);
      expect(sample(await metricsText(first), "xmtp_relay_peers")).toBe(1);
    } finally {
      await second.dispose();
      await first.dispose();
    }
  });
});
