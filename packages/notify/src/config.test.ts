import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, USAGE, parseNotifyCommandLine, storageLocation } from "./config.js";
import { notifyBinary } from "./test-support/network.js";

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseNotifyCommandLine(argv, env);
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.config;
};

describe("command line", () => {
  it("takes repeated --node flags, the README's command line, and defaults", () => {
    const config = parse(["--node", "http://localhost:5555", "--data-dir", "./notify-data", "--port", "8080"]);
    expect(config).toMatchObject({ nodes: ["http://localhost:5555"], dataDir: "./notify-data", port: 8080, host: "0.0.0.0" });
    expect(config.retry).toEqual({ maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 600_000 });
    expect(storageLocation(config)).toEqual({ kind: "sqlite", path: "notify-data/notify.sqlite3" });
    expect(parse(["--node", "http://a:1/", "--node=http://b:2", "--node", "http://a:1"]).nodes).toEqual(["http://a:1", "http://b:2"]);
  });

  it("reads the environment, flags winning", () => {
    const env = { XMTP_NOTIFY_NODES: "http://a:1,http://b:2", XMTP_NOTIFY_PORT: "9000", XMTP_NOTIFY_MAX_ATTEMPTS: "3", XMTP_NOTIFY_DB: "postgres://u:p@h/d" };
    const fromEnv = parse([], env);
    expect(fromEnv).toMatchObject({ nodes: ["http://a:1", "http://b:2"], port: 9000, retry: { maxAttempts: 3 } });
    expect(storageLocation(fromEnv)).toEqual({ kind: "postgres", url: "postgres://u:p@h/d" });
    expect(parse(["--node", "http://c:3", "--port", "1"], env)).toMatchObject({ nodes: ["http://c:3"], port: 1 });
  });

  it("refuses what is wrong, naming the flag", () => {
    const refused = (argv: string[], message: RegExp) => {
      expect(() => parse(argv)).toThrow(ConfigError);
      expect(() => parse(argv)).toThrow(message);
    };
    refused([], /--node: at least one node/);
    refused(["--node", "ftp://x"], /--node: must be http: or https:/);
    refused(["--node", "nope"], /--node: not a URL/);
    refused(["--node", "http://a", "--port", "70000"], /--port: must be between 0 and 65535/);
    refused(["--node", "http://a", "--max-attempts", "x"], /--max-attempts: expected a whole number/);
    refused(["--node", "http://a", "--retry-base-ms", "100", "--retry-max-ms", "10"], /--retry-max-ms/);
    refused(["--node", "http://a", "--frobnicate"], /unknown option --frobnicate/);
    refused(["--node"], /--node: missing value/);
    expect(parseNotifyCommandLine(["--help"], {})).toEqual({ help: true });
  });

  it("the binary prints usage and exits 2 on a bad flag", () => {
    if (!existsSync(notifyBinary)) throw new Error(`${notifyBinary} is missing: build with "npx tsc -b packages/notify" first`);
    const help = spawnSync(process.execPath, [notifyBinary, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(USAGE);
    const bad = spawnSync(process.execPath, [notifyBinary, "--node", "http://a", "--port", "x"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--port: expected a whole number");
  });

  it("the binary exits 1 when its database cannot be reached, without printing the password", () => {
    const run = spawnSync(
      process.execPath,
      [notifyBinary, "--node", "http://127.0.0.1:9", "--port", "0", "--db", "postgres://someone:hunter2-password@127.0.0.1:9/nothing"],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('"msg":"failed to start"');
    expect(run.stdout + run.stderr).not.toContain("hunter2-password");
  });
});
