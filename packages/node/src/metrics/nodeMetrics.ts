// The node's metrics, in one place so their names and labels stay consistent. Label values come from small fixed
// sets (never from request input) to keep the number of series bounded.
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from "./registry.js";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Endpoint label values; anything else is counted as "other". */
export const METRIC_ENDPOINTS = [
  "publish",
  "query",
  "batch-query",
  "subscribe",
  "subscribe-all",
  "admin",
  "metrics",
  "healthz",
  "readyz",
] as const;

export type MetricEndpoint = (typeof METRIC_ENDPOINTS)[number] | "other";

const MESSAGE_API_ENDPOINTS = new Map<string, MetricEndpoint>(
  (["publish", "query", "batch-query", "subscribe", "subscribe-all"] as const).map((name) => [`/message/v1/${name}`, name]),
);

export class NodeMetrics {
  readonly registry = new MetricsRegistry();
  readonly requests: Counter;
  readonly requestDuration: Histogram;
  readonly envelopesPublished: Counter;
  readonly envelopesStored: Counter;
  readonly activeStreams: Gauge;
  readonly streamsCut: Counter;
  readonly rateLimited: Counter;
  readonly accessDenied: Counter;
  readonly abuseLimitRejections: Counter;
  readonly storageLatency: Histogram;
  readonly relayPeers: Gauge;
  readonly retentionPrunedEnvelopes: Counter;
  readonly retentionPrunedBytes: Counter;
  readonly retentionRefused: Counter;
  private readonly startedAtSeconds = Date.now() / 1000;

  constructor() {
    const r = this.registry;
    this.requests = r.counter("xmtp_http_requests_total", "HTTP requests by endpoint and HTTP status code.", [
      "endpoint",
      "code",
    ]);
    this.requestDuration = r.histogram(
      "xmtp_http_request_duration_seconds",
      "Time to answer a request (for streams: until headers are sent).",
      LATENCY_BUCKETS,
      ["endpoint"],
    );
    this.envelopesPublished = r.counter(
      "xmtp_envelopes_published_total",
      "Envelopes accepted by publish requests on this node.",
    );
    this.envelopesStored = r.counter(
      "xmtp_envelopes_stored_total",
      "Envelopes newly written to storage, whether published here or relayed (duplicates excluded).",
    );
    this.activeStreams = r.gauge("xmtp_active_streams", "Subscribe streams currently open.");
    this.streamsCut = r.counter("xmtp_streams_cut_total", "Streams ended by the node, by reason.", ["reason"]);
    this.rateLimited = r.counter("xmtp_rate_limited_total", "Requests refused by a rate limit (429).", ["limit"]);
    this.accessDenied = r.counter("xmtp_access_denied_total", "Publishes refused by access control (403).", ["reason"]);
    this.abuseLimitRejections = r.counter(
      "xmtp_abuse_limit_rejections_total",
      "Requests refused for exceeding an abuse limit.",
      ["limit"],
    );
    this.storageLatency = r.histogram(
      "xmtp_storage_latency_seconds",
      "Latency of envelope store operations.",
      LATENCY_BUCKETS,
      ["operation"],
    );
    this.relayPeers = r.gauge("xmtp_relay_peers", "Relay peers currently connected (0 when the relay is off).");
    this.retentionPrunedEnvelopes = r.counter(
      "xmtp_retention_pruned_envelopes_total",
      "Envelopes deleted by the retention policy, by topic class.",
      ["class"],
    );
    this.retentionPrunedBytes = r.counter(
      "xmtp_retention_pruned_bytes_total",
      "Message bytes deleted by the retention policy, by topic class.",
      ["class"],
    );
    this.retentionRefused = r.counter(
      "xmtp_retention_refused_total",
      "Envelopes from peers not imported because the retention policy has already expired them, by topic class.",
      ["class"],
    );
    const uptime = r.gauge("process_uptime_seconds", "Seconds since the node started.");
    uptime.collect(() => Date.now() / 1000 - this.startedAtSeconds);
    const rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
    rss.collect(() => process.memoryUsage.rss());
    const heap = r.gauge("nodejs_heap_used_bytes", "V8 heap in use, in bytes.");
    heap.collect(() => process.memoryUsage().heapUsed);
  }

  static endpointOf(path: string): MetricEndpoint {
    // The message API's own paths, on every request: a map lookup instead of the regular expressions below.
    const known = MESSAGE_API_ENDPOINTS.get(path);
    if (known) return known;
    const name = path.replace(/^\/+/, "/").replace(/^\/message\/v1\//, "");
    if ((METRIC_ENDPOINTS as readonly string[]).includes(name)) return name as MetricEndpoint;
    if (path.startsWith("/admin/")) return "admin";
    const bare = path.replace(/^\/+/, "");
    if ((METRIC_ENDPOINTS as readonly string[]).includes(bare)) return bare as MetricEndpoint;
    return "other";
  }

  render(): string {
    return this.registry.render();
  }
}

const TIMED_STORE_OPERATIONS: Record<string, string> = {
  append: "append",
  query: "query",
  readDigestsSince: "read_digests_since",
  readBySequence: "read_by_sequence",
};

/**
 * The same store with the latency of appends and reads (TIMED_STORE_OPERATIONS) recorded in xmtp_storage_latency_seconds and the
 * envelopes append reports as new counted in xmtp_envelopes_stored_total. A proxy, so any other method an
 * implementation offers still works.
 */
export function instrumentStore<S extends EnvelopeStore>(store: S, metrics: NodeMetrics): S {
  // One wrapper per method, made on first use: the store is called on every request.
  type Method = (...args: unknown[]) => unknown;
  const wrappers = new Map<PropertyKey, { method: Method; wrapper: Method }>();
  const timed = (method: Method, operation: string): Method => {
    const labels = { operation };
    return async (...args: unknown[]) => {
      const startedMs = performance.now();
      try {
        const result = await method.apply(store, args);
        if (operation === "append" && Array.isArray(result)) metrics.envelopesStored.inc(undefined, result.length);
        return result;
      } finally {
        metrics.storageLatency.observe((performance.now() - startedMs) / 1000, labels);
      }
    };
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const method = value as Method;
      const cached = wrappers.get(property);
      if (cached?.method === method) return cached.wrapper;
      const operation = typeof property === "string" ? TIMED_STORE_OPERATIONS[property] : undefined;
      const wrapper = operation ? timed(method, operation) : method.bind(target);
      wrappers.set(property, { method, wrapper });
      return wrapper;
    },
  });
}
