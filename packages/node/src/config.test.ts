import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULTS, describeStorage, parseCommandLine, type NodeConfig } from "./config.js";

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseCommandLine(argv, env, "/srv");
  if (parsed.help) throw new Error("unexpected help");
  return parsed.config as NodeConfig;
};

describe("parseCommandLine", () => {
  it("has the documented defaults", () => {
    const config = parse([]);
    expect(config.port).toBe(5555);
    expect(config.host).toBe("0.0.0.0");
    expect(config.dataDir).toBe("/srv/data");
    expect(config.storage).toEqual({ kind: "sqlite", path: "/srv/data/xmtp.sqlite3", synchronous: "full" });
    expect(config.p2p).toEqual({
      port: undefined,
      host: DEFAULTS.p2pHost,
      peers: [],
      syncIntervalMs: DEFAULTS.syncIntervalMs,
      wsPort: undefined,
      wakuClusterId: 0,
      wakuShardCount: 8,
    });
    expect(config.http).toMatchObject({
      streamKeepAliveMs: 30_000,
      headerTimeoutMs: 10_000,
      bodyTimeoutMs: 30_000,
      idleConnectionTimeoutMs: 10_000,
      maxConnectionsPerIp: 500,
      maxBodyBufferBytesPerIp: 32 * 1024 * 1024,
      maxBodyBufferBytes: 128 * 1024 * 1024,
      maxPageBytes: 4 * 1024 * 1024,
      maxBatchBytes: 16 * 1024 * 1024,
    });
    expect(config.database).toEqual({ connectTimeoutMs: 5_000, queryTimeoutMs: 10_000, poolSize: 10 });
  });

  it("reads the Waku and limit flags, and refuses values out of range", () => {
    const config = parse(["--p2p-ws-port", "0", "--waku-cluster-id", "7", "--waku-shard-count", "16", "--max-page-bytes", "2048"]);
    expect(config.p2p).toMatchObject({ wsPort: 0, wakuClusterId: 7, wakuShardCount: 16 });
    expect(config.http.maxPageBytes).toBe(2048);
    expect(parse([], { XMTP_DB_QUERY_TIMEOUT_MS: "2000" }).database.queryTimeoutMs).toBe(2000);
    expect(parse(["--db-pool-size", "4"]).database.poolSize).toBe(4);
    expect(() => parse(["--db-pool-size", "0"])).toThrow(/--db-pool-size must be an integer from 1 to 1000/);
    expect(() => parse(["--waku-shard-count", "0"])).toThrow(/--waku-shard-count must be an integer from 1 to 1024/);
    expect(() => parse(["--header-timeout-ms", "5"])).toThrow(/--header-timeout-ms must be an integer from 100/);
  });

  it("reads flags in both --flag value and --flag=value forms", () => {
    const config = parse(["--port", "6000", "--host=127.0.0.1", "--data-dir", "x/y", "--p2p-port=0", "--peer", "/ip4/127.0.0.1/tcp/1", "--peer=/ip4/127.0.0.1/tcp/2"]);
    expect(config.port).toBe(6000);
    expect(config.host).toBe("127.0.0.1");
    expect(config.dataDir).toBe("/srv/x/y");
    expect(config.p2p.port).toBe(0);
    expect(config.p2p.peers).toEqual(["/ip4/127.0.0.1/tcp/1", "/ip4/127.0.0.1/tcp/2"]);
  });

  it("reads the environment, and flags win over it", () => {
    const env = { XMTP_PORT: "7000", XMTP_HOST: "127.0.0.2", XMTP_DATA_DIR: "/var/xmtp", XMTP_PEERS: "/a, /b", XMTP_LOG_LEVEL: "warn" };
    const fromEnv = parse([], env);
    expect([fromEnv.port, fromEnv.host, fromEnv.dataDir, fromEnv.logLevel]).toEqual([7000, "127.0.0.2", "/var/xmtp", "warn"]);
    expect(fromEnv.p2p.peers).toEqual(["/a", "/b"]);
    expect(fromEnv.storage).toMatchObject({ kind: "sqlite", path: "/var/xmtp/xmtp.sqlite3" });
    expect(parse(["--port", "0"], env).port).toBe(0);
    expect(parse(["--peer", "/c"], env).p2p.peers).toEqual(["/c"]);
  });

  it("selects PostgreSQL for a postgres:// URL and hides its password in logs", () => {
    const config = parse(["--db", "postgres://xmtp:secret@127.0.0.1:5432/xmtp"]);
    expect(config.storage).toEqual({ kind: "postgres", url: "postgres://xmtp:secret@127.0.0.1:5432/xmtp" });
    expect(describeStorage(config.storage)).not.toContain("secret");
    expect(parse([], { XMTP_DB: "postgresql://h/db" }).storage.kind).toBe("postgres");
    expect(parse(["--db", "other.db"]).storage).toMatchObject({ kind: "sqlite", path: "/srv/other.db" });
    expect(parse(["--db", "sqlite:/abs/file.db", "--sqlite-sync", "normal"]).storage).toEqual({ kind: "sqlite", path: "/abs/file.db", synchronous: "normal" });
  });

  it("answers --help and -h", () => {
    expect(parseCommandLine(["--help"], {})).toEqual({ help: true });
    expect(parseCommandLine(["--port", "1", "-h"], {})).toEqual({ help: true });
  });

  it.each([
    [["--bogus"], /unknown option --bogus/],
    [["--port"], /--port needs a value/],
    [["--port", "abc"], /--port must be an integer from 0 to 65535, got "abc"/],
    [["--port", "70000"], /--port must be an integer/],
    [["--port", "-1"], /--port must be an integer/],
    [["--port", "1", "--port", "2"], /--port given more than once/],
    [["stray"], /unexpected argument "stray"/],
    [["--log-level", "loud"], /--log-level must be one of/],
    [["--db", "mysql://x"], /--db must be a SQLite file path or a postgres:\/\/ URL/],
    [["--peer", "127.0.0.1:4001"], /--peer must be a multiaddr/],
    [["--host", " "], /--host must not be empty/],
    [["--sqlite-sync", "off"], /--sqlite-sync must be "full" or "normal"/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseCommandLine(argv, {})).toThrow(ConfigError);
    expect(() => parseCommandLine(argv, {})).toThrow(message);
  });

  it("names the environment variable when it is the bad one", () => {
    expect(() => parseCommandLine([], { XMTP_PORT: "x" })).toThrow(/XMTP_PORT must be an integer/);
  });
});
