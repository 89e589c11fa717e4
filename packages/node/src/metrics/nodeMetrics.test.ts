import { describe, expect, it } from "vitest";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import { NodeMetrics, instrumentStore } from "./nodeMetrics.js";
import { answerOpsRequest } from "./opsRoutes.js";
import { expectValidExposition } from "./test-support/exposition.js";

function fakeStore(overrides: Partial<EnvelopeStore> = {}): EnvelopeStore & { extra(): string } {
  return {
    append: async (envelopes) => envelopes,
    query: async () => ({ envelopes: [] }),
    readDigestsSince: async (after) => ({ sequences: [], digests: [], messageBytes: [], nextSequence: after }),
    readBySequence: async () => [],
    hasDigests: async (digests) => digests.map(() => false),
    flushCommitted: async () => undefined,
    prune: () => Promise.reject(new Error("not used in this test")),
    countPrunable: () => Promise.reject(new Error("not used in this test")),
    close: async () => undefined,
    extra: () => "still reachable",
    ...overrides,
  };
}

describe("NodeMetrics", () => {
  it("names endpoints from a small fixed set", () => {
    expect(NodeMetrics.endpointOf("/message/v1/publish")).toBe("publish");
    expect(NodeMetrics.endpointOf("//message/v1/batch-query")).toBe("batch-query");
    expect(NodeMetrics.endpointOf("/admin/v1/authz/0xabc")).toBe("admin");
    expect(NodeMetrics.endpointOf("/metrics")).toBe("metrics");
    expect(NodeMetrics.endpointOf("/message/v1/" + "x".repeat(100))).toBe("other");
    expect(NodeMetrics.endpointOf("/../../etc/passwd")).toBe("other");
  });

  it("exposes every metric the node promises, in valid text format", () => {
    const metrics = new NodeMetrics();
    metrics.requests.inc({ endpoint: "publish", code: 200 });
    metrics.relayPeers.collect(() => 2);
    const text = metrics.render();
    expectValidExposition(text);
    for (const name of [
      "xmtp_http_requests_total",
      "xmtp_envelopes_published_total",
      "xmtp_envelopes_stored_total",
      "xmtp_active_streams",
      "xmtp_rate_limited_total",
      "xmtp_storage_latency_seconds",
      "xmtp_relay_peers",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('xmtp_http_requests_total{endpoint="publish",code="200"} 1');
    expect(text).toContain("xmtp_relay_peers 2");
  });
});

describe("instrumentStore", () => {
  it("records each operation's latency and passes results, errors and other methods through", async () => {
    const metrics = new NodeMetrics();
    const store = instrumentStore(
      fakeStore({
        query: async () => {
          throw new Error("disk gone");
        },
      }),
      metrics,
    );
    await store.append([]);
    const envelope = { contentTopic: "t", timestampNs: 1n, message: new Uint8Array([1]), digest: new Uint8Array(32) };
    await store.append([envelope, envelope]);
    await expect(store.query({ topic: "t", limit: 1, direction: "ascending" })).rejects.toThrow("disk gone");
    expect(await store.readDigestsSince(5n, 10)).toEqual({ sequences: [], digests: [], messageBytes: [], nextSequence: 5n });
    expect(store.extra()).toBe("still reachable");
    const text = metrics.render();
    expect(text).toContain('xmtp_storage_latency_seconds_count{operation="append"} 2');
    expect(text).toContain('xmtp_storage_latency_seconds_count{operation="query"} 1');
    expect(text).toContain('xmtp_storage_latency_seconds_count{operation="read_digests_since"} 1');
    expect(text).toContain("xmtp_envelopes_stored_total 2\n");
  });
});

describe("ops routes", () => {
  it("answers /healthz while the process runs", async () => {
    expect(await answerOpsRequest("GET", "/healthz", { store: fakeStore() })).toMatchObject({ status: 200 });
  });

  it("answers /readyz 200 when the store answers, 503 with the reason when it fails or hangs", async () => {
    expect(await answerOpsRequest("GET", "/readyz", { store: fakeStore() })).toMatchObject({ status: 200 });
    const failing = fakeStore({
      query: async () => {
        throw new Error("connection refused");
      },
    });
    const down = await answerOpsRequest("GET", "/readyz", { store: failing });
    expect(down?.status).toBe(503);
    expect(JSON.parse(down!.body).reason).toBe("store unreachable: connection refused");
    const hanging = fakeStore({ query: () => new Promise(() => undefined) });
    const slow = await answerOpsRequest("GET", "/readyz", { store: hanging, readinessTimeoutMs: 50 });
    expect(JSON.parse(slow!.body).reason).toMatch(/no answer within 50 ms/);
    const draining = await answerOpsRequest("GET", "/readyz", { store: fakeStore(), isDraining: () => true });
    expect(JSON.parse(draining!.body).reason).toBe("node is shutting down");
  });

  it("serves /metrics in Prometheus format, refuses other methods, ignores other paths", async () => {
    const metrics = new NodeMetrics();
    const answer = await answerOpsRequest("GET", "/metrics", { store: fakeStore(), metrics });
    expect(answer?.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expectValidExposition(answer!.body);
    expect((await answerOpsRequest("POST", "/metrics", { store: fakeStore(), metrics }))?.status).toBe(405);
    expect(await answerOpsRequest("GET", "/message/v1/query", { store: fakeStore(), metrics })).toBeUndefined();
  });
});
