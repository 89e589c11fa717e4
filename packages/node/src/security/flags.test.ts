import { describe, expect, it } from "vitest";
import { DEFAULT_SECURITY_CONFIG } from "./limits.js";
import { SECURITY_FLAG_ENV, SECURITY_USAGE, parseSecurityFlags, type SecurityFlagName } from "./flags.js";

function parse(values: Partial<Record<SecurityFlagName, string>>) {
  return parseSecurityFlags(
    (name) => (values[name] === undefined ? undefined : { value: values[name]!, source: `--${name}` }),
    (message) => new Error(message),
  );
}

describe("security flags", () => {
  it("gives the documented defaults when nothing is set", () => {
    expect(parse({})).toEqual(DEFAULT_SECURITY_CONFIG);
    // Read bytes: 32 MiB per second after a burst of 512 MiB (see DEFAULT_SECURITY_CONFIG for why).
    expect(DEFAULT_SECURITY_CONFIG.rateLimits.readBytes).toEqual({ refillPerSecond: 32 * 1024 * 1024, capacity: 512 * 1024 * 1024 });
  });

  it("reads every flag", () => {
    const config = parse({
      "access-mode": "Allowlist",
      "admin-token": "0123456789abcdef0123",
      "trust-proxy": "true",
      "authz-refresh-ms": "250",
      "rate-limits": "off",
      "publish-rate": "0.5",
      "publish-burst": "10",
      "priority-publish-rate": "100",
      "priority-publish-burst": "1000",
      "read-rate": "20",
      "read-burst": "40",
      "read-bytes-rate": "1048576",
      "read-bytes-burst": "8589934592",
      "subscribe-rate": "1",
      "subscribe-burst": "5",
      "auth-failure-rate": "0.1",
      "auth-failure-burst": "9",
      "max-envelopes-per-publish": "3",
      "max-topics-per-query": "10",
      "max-topics-per-subscription": "500",
      "max-streams-per-ip": "7",
    });
    expect(config).toMatchObject({
      accessMode: "allowlist",
      adminToken: "0123456789abcdef0123",
      trustProxy: true,
      authzRefreshMs: 250,
      rateLimits: {
        enabled: false,
        publish: { refillPerSecond: 0.5, capacity: 10 },
        publishPriority: { refillPerSecond: 100, capacity: 1000 },
        read: { refillPerSecond: 20, capacity: 40 },
        readBytes: { refillPerSecond: 1048576, capacity: 8589934592 },
        subscribe: { refillPerSecond: 1, capacity: 5 },
        authFailures: { refillPerSecond: 0.1, capacity: 9 },
      },
      limits: { maxEnvelopesPerPublish: 3, maxTopicsPerQuery: 10, maxTopicsPerSubscription: 500, maxStreamsPerClient: 7 },
    });
  });

  it.each([
    [{ "access-mode": "closed" }, /--access-mode must be one of open, allowlist, got "closed"/],
    [{ "admin-token": "short" }, /--admin-token must be at least 16 characters/],
    [{ "trust-proxy": "maybe" }, /--trust-proxy must be on\/off/],
    [{ "publish-rate": "fast" }, /--publish-rate must be a number from 0.001/],
    [{ "publish-rate": "0" }, /--publish-rate must be a number/],
    [{ "publish-burst": "1.5" }, /--publish-burst must be an integer from 1/],
    [{ "max-topics-per-query": "51" }, /--max-topics-per-query must be an integer from 1 to 50/],
    [{ "max-streams-per-ip": "0" }, /--max-streams-per-ip must be an integer from 1/],
    [{ "authz-refresh-ms": "5" }, /--authz-refresh-ms must be an integer from 10/],
    [{ "read-bytes-rate": "0" }, /--read-bytes-rate must be an integer from 1 to 1125899906842624/],
    [{ "read-bytes-burst": "1.5" }, /--read-bytes-burst must be an integer from 1/],
  ] as [Partial<Record<SecurityFlagName, string>>, RegExp][])("refuses %j", (values, message) => {
    expect(() => parse(values)).toThrow(message);
  });

  it("documents every flag and its variable in the usage text", () => {
    for (const [flag, env] of Object.entries(SECURITY_FLAG_ENV)) {
      expect(SECURITY_USAGE).toContain(`--${flag}`);
      expect(SECURITY_USAGE).toContain(env);
    }
  });
});
