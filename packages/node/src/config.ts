// The node's whole configuration, built once from command-line flags and environment variables.
// Nothing else in the node reads process.env or process.argv.
import { isAbsolute, join, resolve } from "node:path";
import { LOG_LEVELS, type LogLevel } from "./log.js";
import type { SecurityConfig } from "./security/limits.js";
import { SECURITY_FLAG_ENV, SECURITY_USAGE, parseSecurityFlags, type SecurityFlagName } from "./security/flags.js";
import { POSTAGE_FLAG_ENV, POSTAGE_USAGE, parsePostageFlags, type PostageConfig, type PostageFlagName } from "./postage/postageFlags.js";
import { RETENTION_FLAG_ENV, RETENTION_USAGE, parseRetentionFlags, type RetentionConfig, type RetentionFlagName } from "./retention/retentionFlags.js";

export type StorageConfig =
  | { kind: "sqlite"; path: string; synchronous: "full" | "normal" }
  | { kind: "postgres"; url: string };

export interface NodeConfig {
  /** Interface the HTTP API binds to. */
  host: string;
  /** HTTP port; 0 picks any free port. */
  port: number;
  /** Directory for node state (the SQLite database by default; the relay keeps its key here too). */
  dataDir: string;
  storage: StorageConfig;
  p2p: {
    /** libp2p listen port; absent means the relay is off. 0 picks any free port. */
    port?: number;
    host: string;
    /** Static peers as multiaddrs, in the order given. */
    peers: string[];
    /** Period of the anti-entropy catch-up pass with every connected peer; 0 turns the periodic pass off. */
    syncIntervalMs: number;
    /** libp2p WebSocket listen port (for Waku light nodes such as @waku/sdk); absent means none. 0 picks a free port. */
    wsPort?: number;
    /** The Waku cluster this node serves (Metadata, and the sharded relay topic). */
    wakuClusterId: number;
    /** Shards in the cluster, for autosharding content topics to shards. */
    wakuShardCount: number;
  };
  logLevel: LogLevel;
  http: {
    /** Interval between `{"result":{}}` keep-alive lines on streams (the SDK's fetch drops streams idle 300 s). */
    streamKeepAliveMs: number;
    /** A stream whose unsent output exceeds this is ended with an error line (slow or stalled reader). */
    maxStreamBufferBytes: number;
    /** Request bodies above this are refused with 413 without being buffered. */
    maxBodyBytes: number;
    /** After SIGTERM, in-flight requests get this long before their connections are cut. */
    shutdownGraceMs: number;
    /**
     * After SIGTERM, the node first answers /readyz with 503 and keeps serving this long, so a load balancer's
     * health check takes it out of rotation before it stops listening (docs/scale-out.md). 0: stop at once.
     */
    drainDelayMs: number;
    /** A request whose headers are not complete this long after its first byte is answered 408 and closed. */
    headerTimeoutMs: number;
    /** A request whose body is not complete this long after its headers is answered 408 and closed. */
    bodyTimeoutMs: number;
    /** A connection that has not sent a byte of a request this long after it opened is closed. */
    idleConnectionTimeoutMs: number;
    /** Open connections from one client address (IPv6 per /64); more are answered 429 and closed. 0 = no cap. */
    maxConnectionsPerIp: number;
    /** Request-body bytes held in memory (declared or received, not yet handled) for one client address. */
    maxBodyBufferBytesPerIp: number;
    /** Request-body bytes held in memory for all clients together. */
    maxBodyBufferBytes: number;
    /** Message bytes in one query page: a page stops at the envelope that reaches this and carries a cursor. */
    maxPageBytes: number;
    /** Message bytes in one batch-query answer, all its pages together. */
    maxBatchBytes: number;
  };
  /** Database connection limits (PostgreSQL; SQLite is in-process and needs none). */
  database: {
    /** Connecting to the database (a new pool connection) fails after this long. */
    connectTimeoutMs: number;
    /** A statement that has not answered after this long fails (server-side statement_timeout and a client-side timeout). */
    queryTimeoutMs: number;
    /**
     * Connections of the envelope store's pool (PostgreSQL). A node process holds at most this many plus 3 (two for
     * the allow/deny lists, one listening for other processes' commits): see docs/scale-out.md for sizing.
     */
    poolSize: number;
  };
  /** Access control, rate limits and abuse limits (src/security). */
  security: SecurityConfig;
  /** Postage on first messages to strangers (src/postage, docs/postage.md). */
  postage: PostageConfig;
  /** What is kept, per class of topic, and how the pruner works (src/retention, docs/storage.md). */
  retention: RetentionConfig;
}

export const DEFAULTS = {
  port: 5555,
  host: "0.0.0.0",
  dataDir: "./data",
  sqliteFile: "xmtp.sqlite3",
  p2pHost: "0.0.0.0",
  // A catch-up pass over envelopes gossip already delivered costs 32 bytes each (they are offered by digest), so it
  // can run often; the interval also bounds what a restarted node re-reads, as its position moves only in passes.
  syncIntervalMs: 10_000,
  // Cluster 0 is Waku's unassigned cluster: an XMTP network is not The Waku Network (cluster 1, which requires RLN
  // membership). Eight shards is js-waku's autosharding default.
  wakuClusterId: 0,
  wakuShardCount: 8,
  logLevel: "info" as LogLevel,
  streamKeepAliveMs: 30_000,
  maxStreamBufferBytes: 4 * 1024 * 1024,
  maxBodyBytes: 8 * 1024 * 1024,
  shutdownGraceMs: 10_000,
  drainDelayMs: 0,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  idleConnectionTimeoutMs: 10_000,
  maxConnectionsPerIp: 500,
  maxBodyBufferBytesPerIp: 32 * 1024 * 1024,
  maxBodyBufferBytes: 128 * 1024 * 1024,
  maxPageBytes: 4 * 1024 * 1024,
  maxBatchBytes: 16 * 1024 * 1024,
  dbConnectTimeoutMs: 5_000,
  dbQueryTimeoutMs: 10_000,
  dbPoolSize: 10,
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const USAGE = `Usage: xmtp-node [options]

Runs an XMTP (v2-era) network node: the message API over HTTP/JSON with durable envelope storage.

Options (each also settable by the environment variable shown; flags win):
  --port PORT            HTTP port, 0 = any free port            (XMTP_PORT, default ${DEFAULTS.port})
  --host HOST            HTTP bind address                       (XMTP_HOST, default ${DEFAULTS.host})
  --data-dir DIR         directory for node data                 (XMTP_DATA_DIR, default ${DEFAULTS.dataDir})
  --db LOCATION          storage: a SQLite file path, or a postgres://… URL
                                                                 (XMTP_DB, default DATA_DIR/${DEFAULTS.sqliteFile})
  --sqlite-sync MODE     SQLite synchronous mode: full | normal  (XMTP_SQLITE_SYNC, default full)
  --p2p-port PORT        libp2p relay port; relay off unless set (XMTP_P2P_PORT)
  --p2p-host HOST        libp2p bind address                     (XMTP_P2P_HOST, default ${DEFAULTS.p2pHost})
  --peer MULTIADDR       static relay peer, repeatable           (XMTP_PEERS, comma-separated)
  --sync-interval-ms N   anti-entropy catch-up period, 0 = off   (XMTP_SYNC_INTERVAL_MS, default ${DEFAULTS.syncIntervalMs})
  --p2p-ws-port PORT     libp2p WebSocket port for Waku light nodes; none unless set
                                                                 (XMTP_P2P_WS_PORT)
  --waku-cluster-id N    Waku cluster served                     (XMTP_WAKU_CLUSTER_ID, default ${DEFAULTS.wakuClusterId})
  --waku-shard-count N   shards in the cluster (autosharding)    (XMTP_WAKU_SHARD_COUNT, default ${DEFAULTS.wakuShardCount})
  --log-level LEVEL      debug | info | warn | error             (XMTP_LOG_LEVEL, default ${DEFAULTS.logLevel})
  --stream-keepalive-ms N  keep-alive interval on streams        (XMTP_STREAM_KEEPALIVE_MS, default ${DEFAULTS.streamKeepAliveMs})
  --drain-delay-ms N     on SIGTERM, answer /readyz 503 but keep serving this long before stopping, so a load
                         balancer routes elsewhere first (XMTP_DRAIN_DELAY_MS, default ${DEFAULTS.drainDelayMs})
  --max-stream-buffer-bytes N  unsent bytes before a slow stream is cut
                                                                 (XMTP_MAX_STREAM_BUFFER_BYTES, default ${DEFAULTS.maxStreamBufferBytes})
  --max-body-bytes N     largest accepted request body           (XMTP_MAX_BODY_BYTES, default ${DEFAULTS.maxBodyBytes})
  --header-timeout-ms N  time to send a request's headers, else 408
                                                                 (XMTP_HEADER_TIMEOUT_MS, default ${DEFAULTS.headerTimeoutMs})
  --body-timeout-ms N    time to send a request's body, else 408 (XMTP_BODY_TIMEOUT_MS, default ${DEFAULTS.bodyTimeoutMs})
  --idle-connection-timeout-ms N  a new connection that sends nothing is closed after this
                                                                 (XMTP_IDLE_CONNECTION_TIMEOUT_MS, default ${DEFAULTS.idleConnectionTimeoutMs})
  --max-connections-per-ip N  open connections per client address, 0 = no cap
                                                                 (XMTP_MAX_CONNECTIONS_PER_IP, default ${DEFAULTS.maxConnectionsPerIp})
  --max-body-buffer-bytes-per-ip N  request-body bytes held for one client address
                                                                 (XMTP_MAX_BODY_BUFFER_BYTES_PER_IP, default ${DEFAULTS.maxBodyBufferBytesPerIp})
  --max-body-buffer-bytes N  request-body bytes held for all clients
                                                                 (XMTP_MAX_BODY_BUFFER_BYTES, default ${DEFAULTS.maxBodyBufferBytes})
  --max-page-bytes N     message bytes in one query page         (XMTP_MAX_PAGE_BYTES, default ${DEFAULTS.maxPageBytes})
  --max-batch-bytes N    message bytes in one batch-query answer (XMTP_MAX_BATCH_BYTES, default ${DEFAULTS.maxBatchBytes})
  --db-connect-timeout-ms N  PostgreSQL connect timeout          (XMTP_DB_CONNECT_TIMEOUT_MS, default ${DEFAULTS.dbConnectTimeoutMs})
  --db-query-timeout-ms N  PostgreSQL statement timeout          (XMTP_DB_QUERY_TIMEOUT_MS, default ${DEFAULTS.dbQueryTimeoutMs})
  --db-pool-size N       PostgreSQL connections for envelopes; the process
                         holds N + 3 in all (XMTP_DB_POOL_SIZE, default ${DEFAULTS.dbPoolSize})
  -h, --help             print this help and exit
${SECURITY_USAGE}${POSTAGE_USAGE}${RETENTION_USAGE}
Subcommands:
  xmtp-node authz allow|deny|remove|list [ADDRESS] [--priority] [--data-dir DIR | --db URL] [--create]
                         edit the wallet allow/deny lists of an existing database (--create: make
                         it first); run "xmtp-node authz --help"
  xmtp-node postage deploy --rpc URL
                         deploy a PostageVault (key in XMTP_POSTAGE_DEPLOYER_KEY); prints its address last
  xmtp-node postage redeem [the node's postage flags]
                         redeem every voucher accepted and not yet redeemed, now
  xmtp-node retention report [--json] [--retention SPEC] [--data-dir DIR | --db URL]
                         what the retention policy would delete now, per topic class; deletes nothing
  xmtp-node snapshot create --out FILE [--quiet] [--data-dir DIR | --db URL]
                         a checksummed snapshot of the store, while the node runs (run "xmtp-node snapshot --help")
  xmtp-node snapshot restore FILE [--quiet] [--data-dir DIR | --db URL]
                         fill an empty store from a snapshot, after checking the whole file
`;

type FlagName =
  | "port"
  | "host"
  | "data-dir"
  | "db"
  | "sqlite-sync"
  | "p2p-port"
  | "p2p-ws-port"
  | "waku-cluster-id"
  | "waku-shard-count"
  | "p2p-host"
  | "peer"
  | "sync-interval-ms"
  | "log-level"
  | "stream-keepalive-ms"
  | "drain-delay-ms"
  | "max-stream-buffer-bytes"
  | "max-body-bytes"
  | "header-timeout-ms"
  | "body-timeout-ms"
  | "idle-connection-timeout-ms"
  | "max-connections-per-ip"
  | "max-body-buffer-bytes-per-ip"
  | "max-body-buffer-bytes"
  | "max-page-bytes"
  | "max-batch-bytes"
  | "db-connect-timeout-ms"
  | "db-query-timeout-ms"
  | "db-pool-size"
  | SecurityFlagName
  | PostageFlagName
  | RetentionFlagName;

const FLAG_ENV: Record<FlagName, string> = {
  ...SECURITY_FLAG_ENV,
  ...POSTAGE_FLAG_ENV,
  ...RETENTION_FLAG_ENV,
  port: "XMTP_PORT",
  host: "XMTP_HOST",
  "data-dir": "XMTP_DATA_DIR",
  db: "XMTP_DB",
  "sqlite-sync": "XMTP_SQLITE_SYNC",
  "p2p-port": "XMTP_P2P_PORT",
  "p2p-ws-port": "XMTP_P2P_WS_PORT",
  "waku-cluster-id": "XMTP_WAKU_CLUSTER_ID",
  "waku-shard-count": "XMTP_WAKU_SHARD_COUNT",
  "p2p-host": "XMTP_P2P_HOST",
  peer: "XMTP_PEERS",
  "sync-interval-ms": "XMTP_SYNC_INTERVAL_MS",
  "log-level": "XMTP_LOG_LEVEL",
  "stream-keepalive-ms": "XMTP_STREAM_KEEPALIVE_MS",
  "drain-delay-ms": "XMTP_DRAIN_DELAY_MS",
  "max-stream-buffer-bytes": "XMTP_MAX_STREAM_BUFFER_BYTES",
  "max-body-bytes": "XMTP_MAX_BODY_BYTES",
  "header-timeout-ms": "XMTP_HEADER_TIMEOUT_MS",
  "body-timeout-ms": "XMTP_BODY_TIMEOUT_MS",
  "idle-connection-timeout-ms": "XMTP_IDLE_CONNECTION_TIMEOUT_MS",
  "max-connections-per-ip": "XMTP_MAX_CONNECTIONS_PER_IP",
  "max-body-buffer-bytes-per-ip": "XMTP_MAX_BODY_BUFFER_BYTES_PER_IP",
  "max-body-buffer-bytes": "XMTP_MAX_BODY_BUFFER_BYTES",
  "max-page-bytes": "XMTP_MAX_PAGE_BYTES",
  "max-batch-bytes": "XMTP_MAX_BATCH_BYTES",
  "db-connect-timeout-ms": "XMTP_DB_CONNECT_TIMEOUT_MS",
  "db-query-timeout-ms": "XMTP_DB_QUERY_TIMEOUT_MS",
  "db-pool-size": "XMTP_DB_POOL_SIZE",
};

const REPEATABLE: ReadonlySet<FlagName> = new Set(["peer"]);

export type ParsedCommandLine = { help: true } | { help: false; config: NodeConfig };

/**
 * Builds the configuration from argv (without the node binary and script) and an environment.
 * Throws ConfigError naming the offending flag or variable.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): ParsedCommandLine {
  const flags = new Map<FlagName, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return { help: true };
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)) as FlagName;
    if (!(name in FLAG_ENV)) throw new ConfigError(`unknown option --${name}`);
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new ConfigError(`option --${name} needs a value`);
      value = argv[++i];
    }
    const values = flags.get(name) ?? [];
    if (values.length > 0 && !REPEATABLE.has(name)) throw new ConfigError(`option --${name} given more than once`);
    values.push(value);
    flags.set(name, values);
  }

  /** The flag's value, else the environment's (empty variables count as unset), with where it came from. */
  const lookup = (name: FlagName): { value: string; source: string } | undefined => {
    const fromFlag = flags.get(name);
    if (fromFlag) return { value: fromFlag[0], source: `--${name}` };
    const fromEnv = env[FLAG_ENV[name]];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: FLAG_ENV[name] };
    return undefined;
  };
  const stringOf = (name: FlagName, fallback: string): string => {
    const found = lookup(name);
    if (found && found.value.trim() === "") throw new ConfigError(`${found.source} must not be empty`);
    return found ? found.value : fallback;
  };
  const integerOf = (name: FlagName, min: number, max: number): number | undefined => {
    const found = lookup(name);
    if (!found) return undefined;
    if (!/^\d+$/.test(found.value) || Number(found.value) < min || Number(found.value) > max) {
      throw new ConfigError(
        `${found.source} must be an integer from ${min} to ${max}, got ${JSON.stringify(found.value)}`,
      );
    }
    return Number(found.value);
  };

  const dataDir = resolve(cwd, stringOf("data-dir", DEFAULTS.dataDir));
  const synchronous = stringOf("sqlite-sync", "full").toLowerCase();
  if (synchronous !== "full" && synchronous !== "normal") {
    throw new ConfigError(`${lookup("sqlite-sync")!.source} must be "full" or "normal", got ${JSON.stringify(synchronous)}`);
  }
  const storage = parseStorage(lookup("db"), dataDir, synchronous, cwd);

  const logLevel = stringOf("log-level", DEFAULTS.logLevel) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`${lookup("log-level")!.source} must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(logLevel)}`);
  }

  const peers = flags.get("peer") ?? (env.XMTP_PEERS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  for (const peer of peers) {
    if (!peer.startsWith("/")) throw new ConfigError(`--peer must be a multiaddr starting with "/", got ${JSON.stringify(peer)}`);
  }

  const config: NodeConfig = {
    host: stringOf("host", DEFAULTS.host),
    port: integerOf("port", 0, 65535) ?? DEFAULTS.port,
    dataDir,
    storage,
    p2p: {
      port: integerOf("p2p-port", 0, 65535),
      host: stringOf("p2p-host", DEFAULTS.p2pHost),
      peers,
      syncIntervalMs: integerOf("sync-interval-ms", 0, 86_400_000) ?? DEFAULTS.syncIntervalMs,
      wsPort: integerOf("p2p-ws-port", 0, 65535),
      wakuClusterId: integerOf("waku-cluster-id", 0, 65535) ?? DEFAULTS.wakuClusterId,
      wakuShardCount: integerOf("waku-shard-count", 1, 1024) ?? DEFAULTS.wakuShardCount,
    },
    logLevel,
    http: {
      streamKeepAliveMs: integerOf("stream-keepalive-ms", 1, 3_600_000) ?? DEFAULTS.streamKeepAliveMs,
      maxStreamBufferBytes: integerOf("max-stream-buffer-bytes", 1024, 2 ** 31) ?? DEFAULTS.maxStreamBufferBytes,
      maxBodyBytes: integerOf("max-body-bytes", 1024, 2 ** 31) ?? DEFAULTS.maxBodyBytes,
      shutdownGraceMs: DEFAULTS.shutdownGraceMs,
      drainDelayMs: integerOf("drain-delay-ms", 0, 600_000) ?? DEFAULTS.drainDelayMs,
      headerTimeoutMs: integerOf("header-timeout-ms", 100, 3_600_000) ?? DEFAULTS.headerTimeoutMs,
      bodyTimeoutMs: integerOf("body-timeout-ms", 100, 3_600_000) ?? DEFAULTS.bodyTimeoutMs,
      idleConnectionTimeoutMs: integerOf("idle-connection-timeout-ms", 100, 3_600_000) ?? DEFAULTS.idleConnectionTimeoutMs,
      maxConnectionsPerIp: integerOf("max-connections-per-ip", 0, 1_000_000) ?? DEFAULTS.maxConnectionsPerIp,
      maxBodyBufferBytesPerIp: integerOf("max-body-buffer-bytes-per-ip", 1024, 2 ** 40) ?? DEFAULTS.maxBodyBufferBytesPerIp,
      maxBodyBufferBytes: integerOf("max-body-buffer-bytes", 1024, 2 ** 40) ?? DEFAULTS.maxBodyBufferBytes,
      maxPageBytes: integerOf("max-page-bytes", 1024, 2 ** 31) ?? DEFAULTS.maxPageBytes,
      maxBatchBytes: integerOf("max-batch-bytes", 1024, 2 ** 31) ?? DEFAULTS.maxBatchBytes,
    },
    database: {
      connectTimeoutMs: integerOf("db-connect-timeout-ms", 100, 3_600_000) ?? DEFAULTS.dbConnectTimeoutMs,
      queryTimeoutMs: integerOf("db-query-timeout-ms", 100, 3_600_000) ?? DEFAULTS.dbQueryTimeoutMs,
      poolSize: integerOf("db-pool-size", 1, 1_000) ?? DEFAULTS.dbPoolSize,
    },
    security: parseSecurityFlags(lookup, (message) => new ConfigError(message)),
    postage: parsePostageFlags(lookup, env, (message) => new ConfigError(message)),
    retention: parseRetentionFlags(lookup, (message) => new ConfigError(message)),
  };
  return { help: false, config };
}

function parseStorage(
  found: { value: string; source: string } | undefined,
  dataDir: string,
  synchronous: "full" | "normal",
  cwd: string,
): StorageConfig {
  if (!found) return { kind: "sqlite", path: join(dataDir, DEFAULTS.sqliteFile), synchronous };
  const value = found.value.trim();
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError(`${found.source} is not a valid PostgreSQL URL`);
    }
    return { kind: "postgres", url: value };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConfigError(`${found.source} must be a SQLite file path or a postgres:// URL, got another URL scheme`);
  }
  const path = value.startsWith("sqlite:") ? value.slice("sqlite:".length) : value;
  if (path === "") throw new ConfigError(`${found.source} names no SQLite file`);
  return { kind: "sqlite", path: isAbsolute(path) ? path : resolve(cwd, path), synchronous };
}

/** Where the node stores, for logs: the SQLite path, or the PostgreSQL URL without its password. */
export function describeStorage(storage: StorageConfig): string {
  if (storage.kind === "sqlite") return `sqlite:${storage.path}`;
  const url = new URL(storage.url);
  if (url.password) url.password = "***";
  return url.toString();
}

/** What a test or an embedder may override in defaultConfig(): any part, and any single field of `http` or `database`. */
export type NodeConfigOverrides = Partial<Omit<NodeConfig, "dataDir" | "http" | "database" | "p2p">> & {
  p2p?: Partial<NodeConfig["p2p"]>;
  http?: Partial<NodeConfig["http"]>;
  database?: Partial<NodeConfig["database"]>;
};

/** A configuration for tests and embedding: loopback, any free port, the given data dir. */
export function defaultConfig(overrides: { dataDir: string } & NodeConfigOverrides): NodeConfig {
  const { config } = parseCommandLine([], {}) as { help: false; config: NodeConfig };
  const dataDir = resolve(overrides.dataDir);
  return {
    ...config,
    host: "127.0.0.1",
    port: 0,
    storage: { kind: "sqlite", path: join(dataDir, DEFAULTS.sqliteFile), synchronous: "full" },
    ...overrides,
    dataDir,
    http: { ...config.http, ...overrides.http },
    database: { ...config.database, ...overrides.database },
    p2p: { ...config.p2p, ...overrides.p2p },
  };
}
