// xmtp-notify's configuration: flags, each with an XMTP_NOTIFY_* environment variable (flags win).
import { join } from "node:path";
import type { LogLevel } from "./log.js";
import { checkVapidSubject } from "./webpush/vapid.js";

export interface RetryPolicy {
  /** Attempts before a delivery is dead-lettered (the first attempt counts). */
  maxAttempts: number;
  /** Delay before the second attempt; doubles with each further failure, up to maxDelayMs, then jittered. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface NotifyConfig {
  nodes: string[];
  host: string;
  port: number;
  dataDir: string;
  /** A SQLite file path or a postgres:// URL; default DATA_DIR/notify.sqlite3. */
  db: string | undefined;
  logLevel: LogLevel;
  maxTopicsPerInstallation: number;
  maxBodyBytes: number;
  retry: RetryPolicy;
  deliveryTimeoutMs: number;
  deliveryConcurrency: number;
  /** How far before a node's cursor catch-up queries start (clock skew between clients and this service). */
  catchUpLookbackMs: number;
  /**
   * A stream with no line (envelope or keep-alive) for this long is dropped and made again; also the longest wait
   * for the answer to a catch-up query.
   */
  streamIdleTimeoutMs: number;
  reconnectMaxDelayMs: number;
  /** How long SIGTERM waits for deliveries in flight. */
  shutdownGraceMs: number;
  /** Who runs this service, for push services' operators: a mailto: address or an https: URL (RFC 8292 section 2.1). */
  vapidSubject: string;
  /** How long a push service keeps a Web Push message for a browser that is offline, in seconds. */
  pushTtlSeconds: number;
}

export class ConfigError extends Error {}

export function defaultNotifyConfig(overrides: Partial<NotifyConfig> = {}): NotifyConfig {
  return {
    nodes: [],
    host: "0.0.0.0",
    port: 8080,
    dataDir: "./notify-data",
    db: undefined,
    logLevel: "info",
    maxTopicsPerInstallation: 1_000,
    maxBodyBytes: 256 * 1024,
    retry: { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 10 * 60_000 },
    deliveryTimeoutMs: 10_000,
    deliveryConcurrency: 16,
    catchUpLookbackMs: 5 * 60_000,
    streamIdleTimeoutMs: 90_000,
    reconnectMaxDelayMs: 10_000,
    shutdownGraceMs: 10_000,
    vapidSubject: "mailto:xmtp-notify@localhost",
    pushTtlSeconds: 24 * 3_600,
    ...overrides,
  };
}

export function storageLocation(config: NotifyConfig): { kind: "sqlite"; path: string } | { kind: "postgres"; url: string } {
  const db = config.db;
  if (db && /^postgres(ql)?:\/\//.test(db)) return { kind: "postgres", url: db };
  if (db) return { kind: "sqlite", path: db.replace(/^sqlite:/, "") };
  return { kind: "sqlite", path: join(config.dataDir, "notify.sqlite3") };
}

export const USAGE = `Usage: xmtp-notify --node URL [options]

Follows XMTP nodes' subscribe-all streams and delivers the envelopes of the topics that registered installations
subscribed to, as HMAC-signed webhooks or as Web Push messages. See packages/notify/README.md.

Options (each also as an environment variable):
  --node URL                        a node to follow; repeat for several (XMTP_NOTIFY_NODES, comma-separated)
  --port N                          HTTP port, 0 = any free port (XMTP_NOTIFY_PORT, default 8080)
  --host ADDRESS                    HTTP bind address (XMTP_NOTIFY_HOST, default 0.0.0.0)
  --data-dir DIR                    state directory (XMTP_NOTIFY_DATA_DIR, default ./notify-data)
  --db PATH|URL                     a SQLite file or postgres://… URL (XMTP_NOTIFY_DB, default DATA_DIR/notify.sqlite3)
  --log-level LEVEL                 debug, info, warn, error (XMTP_NOTIFY_LOG_LEVEL, default info)
  --max-topics N                    topics per installation (XMTP_NOTIFY_MAX_TOPICS, default 1000)
  --max-body-bytes N                largest API request body (XMTP_NOTIFY_MAX_BODY_BYTES, default 262144)
  --max-attempts N                  delivery attempts before dead-lettering (XMTP_NOTIFY_MAX_ATTEMPTS, default 10)
  --retry-base-ms N                 first retry delay, doubled per failure (XMTP_NOTIFY_RETRY_BASE_MS, default 1000)
  --retry-max-ms N                  longest retry delay (XMTP_NOTIFY_RETRY_MAX_MS, default 600000)
  --delivery-timeout-ms N           one webhook request (XMTP_NOTIFY_DELIVERY_TIMEOUT_MS, default 10000)
  --delivery-concurrency N          webhook requests in flight in all (XMTP_NOTIFY_DELIVERY_CONCURRENCY, default 16)
  --catch-up-lookback-ms N          catch-up starts this long before a cursor (XMTP_NOTIFY_CATCH_UP_LOOKBACK_MS, default 300000)
  --stream-idle-timeout-ms N        reconnect a silent stream (or catch-up query) after (XMTP_NOTIFY_STREAM_IDLE_TIMEOUT_MS, default 90000)
  --reconnect-max-ms N              longest pause between reconnects (XMTP_NOTIFY_RECONNECT_MAX_MS, default 10000)
  --shutdown-grace-ms N             SIGTERM waits this long for deliveries in flight (XMTP_NOTIFY_SHUTDOWN_GRACE_MS, default 10000)
  --vapid-subject mailto:…|https:…  who runs this service, told to push services (XMTP_NOTIFY_VAPID_SUBJECT, default mailto:xmtp-notify@localhost)
  --push-ttl-s N                    how long push services keep a Web Push message (XMTP_NOTIFY_PUSH_TTL_S, default 86400)
  --help                            this text
`;

type Setter = (config: NotifyConfig, value: string) => void;

function integer(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new ConfigError(`${flag}: expected a whole number, got ${JSON.stringify(value)}`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) throw new ConfigError(`${flag}: must be between ${min} and ${max}, got ${value}`);
    return parsed;
  };
}

function nodeUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`--node: not a URL: ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ConfigError(`--node: must be http: or https:, got ${value}`);
  return value.replace(/\/+$/, "");
}

const OPTIONS: Record<string, { env: string; set: Setter }> = {
  "--node": { env: "XMTP_NOTIFY_NODES", set: (c, v) => c.nodes.push(nodeUrl(v)) },
  "--port": { env: "XMTP_NOTIFY_PORT", set: (c, v) => (c.port = integer("--port", 0, 65_535)(v)) },
  "--host": { env: "XMTP_NOTIFY_HOST", set: (c, v) => (c.host = v) },
  "--data-dir": { env: "XMTP_NOTIFY_DATA_DIR", set: (c, v) => (c.dataDir = v) },
  "--db": { env: "XMTP_NOTIFY_DB", set: (c, v) => (c.db = v) },
  "--log-level": {
    env: "XMTP_NOTIFY_LOG_LEVEL",
    set: (c, v) => {
      if (!["debug", "info", "warn", "error"].includes(v)) throw new ConfigError(`--log-level: one of debug, info, warn, error, got ${v}`);
      c.logLevel = v as LogLevel;
    },
  },
  "--max-topics": { env: "XMTP_NOTIFY_MAX_TOPICS", set: (c, v) => (c.maxTopicsPerInstallation = integer("--max-topics", 1)(v)) },
  "--max-body-bytes": { env: "XMTP_NOTIFY_MAX_BODY_BYTES", set: (c, v) => (c.maxBodyBytes = integer("--max-body-bytes", 1024)(v)) },
  "--max-attempts": { env: "XMTP_NOTIFY_MAX_ATTEMPTS", set: (c, v) => (c.retry.maxAttempts = integer("--max-attempts", 1, 1_000)(v)) },
  "--retry-base-ms": { env: "XMTP_NOTIFY_RETRY_BASE_MS", set: (c, v) => (c.retry.baseDelayMs = integer("--retry-base-ms", 1)(v)) },
  "--retry-max-ms": { env: "XMTP_NOTIFY_RETRY_MAX_MS", set: (c, v) => (c.retry.maxDelayMs = integer("--retry-max-ms", 1)(v)) },
  "--delivery-timeout-ms": { env: "XMTP_NOTIFY_DELIVERY_TIMEOUT_MS", set: (c, v) => (c.deliveryTimeoutMs = integer("--delivery-timeout-ms", 1)(v)) },
  "--delivery-concurrency": {
    env: "XMTP_NOTIFY_DELIVERY_CONCURRENCY",
    set: (c, v) => (c.deliveryConcurrency = integer("--delivery-concurrency", 1, 10_000)(v)),
  },
  "--catch-up-lookback-ms": { env: "XMTP_NOTIFY_CATCH_UP_LOOKBACK_MS", set: (c, v) => (c.catchUpLookbackMs = integer("--catch-up-lookback-ms", 0)(v)) },
  "--stream-idle-timeout-ms": {
    env: "XMTP_NOTIFY_STREAM_IDLE_TIMEOUT_MS",
    set: (c, v) => (c.streamIdleTimeoutMs = integer("--stream-idle-timeout-ms", 100)(v)),
  },
  "--reconnect-max-ms": { env: "XMTP_NOTIFY_RECONNECT_MAX_MS", set: (c, v) => (c.reconnectMaxDelayMs = integer("--reconnect-max-ms", 10)(v)) },
  "--shutdown-grace-ms": { env: "XMTP_NOTIFY_SHUTDOWN_GRACE_MS", set: (c, v) => (c.shutdownGraceMs = integer("--shutdown-grace-ms", 0)(v)) },
  "--vapid-subject": {
    env: "XMTP_NOTIFY_VAPID_SUBJECT",
    set: (c, v) => {
      try {
        checkVapidSubject(v);
      } catch (error) {
        throw new ConfigError(`--vapid-subject: ${(error as Error).message}`);
      }
      c.vapidSubject = v;
    },
  },
  // RFC 8030 lets a push service cap the TTL; four weeks is beyond what any of them keeps.
  "--push-ttl-s": { env: "XMTP_NOTIFY_PUSH_TTL_S", set: (c, v) => (c.pushTtlSeconds = integer("--push-ttl-s", 0, 28 * 86_400)(v)) },
};

/** Parses flags over the environment. Throws ConfigError naming the flag on anything wrong. */
export function parseNotifyCommandLine(argv: string[], env: Record<string, string | undefined>): { help: true } | { help: false; config: NotifyConfig } {
  const config = defaultNotifyConfig();
  config.retry = { ...config.retry };
  config.nodes = [];
  for (const [flag, option] of Object.entries(OPTIONS)) {
    const value = env[option.env];
    if (value === undefined || value === "") continue;
    if (flag === "--node") for (const url of value.split(",").filter(Boolean)) option.set(config, url.trim());
    else option.set(config, value);
  }
  let nodesFromFlags: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return { help: true };
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const option = OPTIONS[flag];
    if (!option) throw new ConfigError(`unknown option ${arg}`);
    let value: string | undefined;
    if (eq > 0 && flag !== arg) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new ConfigError(`${flag}: missing value`);
    if (flag === "--node") {
      // Flags replace the environment's list rather than adding to it.
      nodesFromFlags ??= [];
      nodesFromFlags.push(nodeUrl(value));
      continue;
    }
    option.set(config, value);
  }
  if (nodesFromFlags) config.nodes = nodesFromFlags;
  config.nodes = [...new Set(config.nodes)];
  if (config.nodes.length === 0) throw new ConfigError("--node: at least one node to follow is required");
  if (config.retry.maxDelayMs < config.retry.baseDelayMs) throw new ConfigError("--retry-max-ms: must be at least --retry-base-ms");
  return { help: false, config };
}
