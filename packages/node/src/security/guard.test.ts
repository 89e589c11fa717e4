import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { ApiError, GrpcCode } from "../errors.js";
import { NodeMetrics } from "../metrics/nodeMetrics.js";
import { AccessControl } from "./accessControl.js";
import { SecurityGuard } from "./guard.js";
import { DEFAULT_SECURITY_CONFIG, RateLimitedError, type SecurityConfig } from "./limits.js";
import { openSqliteAuthzStore } from "./sqliteAuthzStore.js";

function config(overrides: Partial<SecurityConfig> = {}): SecurityConfig {
  return structuredClone({ ...DEFAULT_SECURITY_CONFIG, ...overrides });
}

function caught(run: () => void): ApiError {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("SecurityGuard abuse limits", () => {
  const guard = new SecurityGuard({
    config: config({ limits: { maxEnvelopesPerPublish: 3, maxTopicsPerQuery: 2, maxTopicsPerSubscription: 4, maxStreamsPerClient: 2 } }),
  });

  it("refuses publishes with too many envelopes, naming the limit and its flag", () => {
    guard.checkPublishSize(3);
    const err = caught(() => guard.checkPublishSize(4));
    expect(err.code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(err.message).toBe(
      "too many envelopes in one publish: 4 given, this node accepts at most 3 (--max-envelopes-per-publish)",
    );
  });

  it("refuses queries and subscriptions with too many topics", () => {
    guard.checkQueryTopics(2);
    guard.checkSubscriptionTopics(4);
    expect(caught(() => guard.checkQueryTopics(3)).message).toMatch(/too many topics in one query: 3 given.*at most 2/);
    expect(caught(() => guard.checkSubscriptionTopics(5)).message).toMatch(/topics in one subscription: 5 given.*at most 4/);
  });

  it("counts open streams per client address and frees a slot when a stream ends", () => {
    const release1 = guard.openStream("10.0.0.1");
    const release2 = guard.openStream("::ffff:10.0.0.1");
    const err = caught(() => guard.openStream("10.0.0.1"));
    expect(err.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(/too many open streams: address 10.0.0.1 already has 2/);
    // Another client is not affected.
    const other = guard.openStream("10.0.0.2");
    release1();
    release1(); // releasing twice must not free a second slot
    const release3 = guard.openStream("10.0.0.1");
    expect(() => guard.openStream("10.0.0.1")).toThrow(/too many open streams/);
    release2();
    release3();
    other();
    expect(guard.openStreamCount()).toBe(0);
  });

  it("counts IPv6 clients per /64", () => {
    const r1 = guard.openStream("2001:db8:1:2::1");
    const r2 = guard.openStream("2001:db8:1:2:ffff::9");
    expect(() => guard.openStream("2001:db8:1:2::abcd")).toThrow(/too many open streams/);
    const r3 = guard.openStream("2001:db8:1:3::1");
    [r1, r2, r3].forEach((release) => release());
  });
});

describe("SecurityGuard rate limits", () => {
  function guardWithClock(overrides: Partial<SecurityConfig["rateLimits"]> = {}, accessControl?: AccessControl) {
    let now = 0;
    const metrics = new NodeMetrics();
    const guard = new SecurityGuard({
      config: config({
        rateLimits: {
          ...DEFAULT_SECURITY_CONFIG.rateLimits,
          publish: { capacity: 3, refillPerSecond: 1 },
          publishPriority: { capacity: 30, refillPerSecond: 10 },
          read: { capacity: 5, refillPerSecond: 5 },
          readBytes: { capacity: 1000, refillPerSecond: 100 },
          subscribe: { capacity: 2, refillPerSecond: 0.5 },
          ...overrides,
        },
      }),
      accessControl,
      metrics,
      now: () => now,
    });
    return { guard, metrics, advance: (ms: number) => (now += ms) };
  }

  const wallet = Wallet.createRandom().address;

  it("limits publishes per wallet, one token per envelope, with a 429 retry hint", () => {
    const { guard, metrics, advance } = guardWithClock();
    guard.limitPublish(wallet, 2);
    guard.limitPublish(wallet, 1);
    const err = caught(() => guard.limitPublish(wallet, 2));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(err.httpStatus).toBe(429);
    expect((err as RateLimitedError).retryAfterSeconds).toBe(2);
    expect(err.message).toMatch(new RegExp(`wallet ${wallet} may publish 1 envelopes per second .*retry in 2 s`));
    expect(metrics.rateLimited.get({ limit: "publish" })).toBe(1);
    // Another wallet has its own bucket; the same wallet passes after the hinted wait.
    guard.limitPublish(Wallet.createRandom().address, 3);
    advance(2000);
    guard.limitPublish(wallet, 2);
  });

  it("gives priority wallets the priority limits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmtp-guard-"));
    const store = openSqliteAuthzStore(join(dir, "node.db"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const accessControl = new AccessControl(store, { mode: "open", refreshIntervalMs: 0 });
    await accessControl.start();
    const vip = Wallet.createRandom().address;
    await accessControl.put({ address: vip, permission: "allow", priority: true });
    const { guard } = guardWithClock({}, accessControl);
    for (let i = 0; i < 30; i++) guard.limitPublish(vip, 1);
    expect(() => guard.limitPublish(vip, 1)).toThrow(/may publish 10 envelopes per second \(bursts of 30\)/);
    for (let i = 0; i < 3; i++) guard.limitPublish(wallet, 1);
    expect(() => guard.limitPublish(wallet, 1)).toThrow(/may publish 1 envelopes per second/);
  });

  it("limits reads per client address, charging one token per topic", () => {
    const { guard, metrics } = guardWithClock();
    guard.limitRead("192.0.2.7", 4);
    expect(() => guard.limitRead("192.0.2.7", 2)).toThrow(RateLimitedError);
    guard.limitRead("192.0.2.8", 5);
    expect(metrics.rateLimited.get({ limit: "read" })).toBe(1);
  });

  it("limits read bytes per client address: a read passes unless the address is in debt, then pays in full", () => {
    const { guard, metrics, advance } = guardWithClock();
    const client = "192.0.2.7";
    // Within the burst of 1000: 600 + 300 leave 100.
    guard.checkReadBytes(client);
    guard.chargeReadBytes(client, 600);
    guard.checkReadBytes(client);
    guard.chargeReadBytes(client, 300);
    // Not in debt yet, so the next read passes, and its 450 bytes are charged in full: 350 bytes of debt.
    guard.checkReadBytes(client);
    guard.chargeReadBytes(client, 450);
    const err = caught(() => guard.checkReadBytes(client));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect([err.code, err.httpStatus]).toEqual([GrpcCode.RESOURCE_EXHAUSTED, 429]);
    // 350 bytes at 100 per second: 4 s (rounded up).
    expect((err as RateLimitedError).retryAfterSeconds).toBe(4);
    expect(err.message).toBe(
      "rate limit exceeded: address 192.0.2.7 may read 100 message bytes per second (bursts of 1000) and has read more; retry in 4 s",
    );
    expect(metrics.rateLimited.get({ limit: "read_bytes" })).toBe(1);
    // Checking takes nothing, another address has its own bucket, IPv4-mapped IPv6 is the same address.
    expect(() => guard.checkReadBytes("::ffff:192.0.2.7")).toThrow(RateLimitedError);
    guard.checkReadBytes("192.0.2.8");
    // The debt is paid back at the refill rate: still refused after 3 s, let in after 3.5 s.
    advance(3000);
    expect(() => guard.checkReadBytes(client)).toThrow(/retry in 1 s/);
    advance(500);
    guard.checkReadBytes(client);
  });

  it("charges one read of more than the whole burst in full, so the address waits for all of it", () => {
    const { guard, advance } = guardWithClock();
    guard.chargeReadBytes("192.0.2.9", 5000); // 4000 bytes of debt at 100/s
    expect((caught(() => guard.checkReadBytes("192.0.2.9")) as RateLimitedError).retryAfterSeconds).toBe(40);
    advance(39_000);
    expect(() => guard.checkReadBytes("192.0.2.9")).toThrow(RateLimitedError);
    advance(1000);
    guard.checkReadBytes("192.0.2.9");
  });

  it("limits subscribe requests per client address", () => {
    const { guard, advance } = guardWithClock();
    guard.limitSubscribe("192.0.2.7");
    guard.limitSubscribe("192.0.2.7");
    const err = caught(() => guard.limitSubscribe("192.0.2.7"));
    expect((err as RateLimitedError).retryAfterSeconds).toBe(2);
    advance(2000);
    guard.limitSubscribe("192.0.2.7");
  });

  it("refuses an address with too many failed authentications before any token is checked", () => {
    const { guard, metrics, advance } = guardWithClock({ authFailures: { capacity: 2, refillPerSecond: 0.5 } });
    guard.checkAuthFailures("192.0.2.7");
    guard.recordAuthFailure("192.0.2.7");
    guard.checkAuthFailures("192.0.2.7");
    guard.recordAuthFailure("192.0.2.7");
    const err = caught(() => guard.checkAuthFailures("192.0.2.7"));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.message).toMatch(/address 192.0.2.7 sent too many invalid publish tokens .*retry in 2 s/);
    expect(metrics.rateLimited.get({ limit: "auth_failures" })).toBe(1);
    // Checking does not consume: the same refusal again, and other addresses pass.
    expect(() => guard.checkAuthFailures("192.0.2.7")).toThrow(RateLimitedError);
    guard.checkAuthFailures("192.0.2.8");
    advance(2000);
    guard.checkAuthFailures("192.0.2.7");
  });

  it("does nothing when rate limits are disabled", () => {
    const { guard } = guardWithClock({ enabled: false });
    for (let i = 0; i < 100; i++) {
      guard.limitPublish(wallet, 10);
      guard.limitRead("192.0.2.7", 10);
      guard.chargeReadBytes("192.0.2.7", 1_000_000);
      guard.checkReadBytes("192.0.2.7");
      guard.limitSubscribe("192.0.2.7");
      guard.recordAuthFailure("192.0.2.7");
      guard.checkAuthFailures("192.0.2.7");
    }
    expect(guard.bucketCounts()).toEqual({ publish: 0, read: 0, readBytes: 0, subscribe: 0, authFailures: 0 });
  });

  it("forgets the buckets of idle callers", () => {
    const { guard, advance } = guardWithClock();
    for (let i = 0; i < 500; i++) {
      guard.limitRead(`198.51.100.${i % 250}`, 1);
      guard.chargeReadBytes(`198.51.100.${i % 100}`, 2000);
      guard.limitPublish(`0x${i.toString(16).padStart(40, "0")}`, 1);
    }
    expect(guard.bucketCounts()).toEqual({ publish: 500, read: 250, readBytes: 100, subscribe: 0, authFailures: 0 });
    advance(60_000);
    guard.sweepIdleBuckets();
    // A bucket in debt is kept until it has refilled: 100 addresses owe 9000 bytes each, 90 s at 100 bytes/s.
    expect(guard.bucketCounts()).toEqual({ publish: 0, read: 0, readBytes: 100, subscribe: 0, authFailures: 0 });
    advance(40_000);
    guard.sweepIdleBuckets();
    expect(guard.bucketCounts()).toEqual({ publish: 0, read: 0, readBytes: 0, subscribe: 0, authFailures: 0 });
  });
});

describe("SecurityGuard access control", () => {
  it("refuses denied wallets with 403 and counts the refusal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xmtp-guard-"));
    const store = openSqliteAuthzStore(join(dir, "node.db"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const accessControl = new AccessControl(store, { mode: "allowlist", refreshIntervalMs: 0 });
    const metrics = new NodeMetrics();
    const guard = new SecurityGuard({ config: config({ accessMode: "allowlist" }), accessControl, metrics });
    await guard.start();
    cleanups.push(() => guard.stop());
    const denied = Wallet.createRandom().address;
    const unknown = Wallet.createRandom().address;
    const allowed = Wallet.createRandom().address;
    await accessControl.put({ address: denied, permission: "deny" });
    await accessControl.put({ address: allowed, permission: "allow" });
    guard.authorizePublish(allowed, [`/xmtp/0/contact-${allowed}/proto`]);
    const deniedErr = caught(() => guard.authorizePublish(denied, ["/xmtp/0/m-1/proto"]));
    expect(deniedErr.httpStatus).toBe(403);
    expect(deniedErr.message).toMatch(/publishing denied: wallet .* denylist/);
    const unknownErr = caught(() => guard.authorizePublish(unknown, [`/xmtp/0/contact-${unknown}/proto`]));
    expect(unknownErr.message).toMatch(/registering an identity denied: .* not on its allowlist/);
    expect(metrics.accessDenied.get({ reason: "denylisted" })).toBe(1);
    expect(metrics.accessDenied.get({ reason: "not_allowlisted" })).toBe(1);
  });

  it("refuses to run allowlist mode without lists", () => {
    expect(() => new SecurityGuard({ config: config({ accessMode: "allowlist" }) })).toThrow(/allowlist mode needs/);
  });

  it("refuses a short admin token", () => {
    expect(() => new SecurityGuard({ config: config({ adminToken: "short" }) })).toThrow(/at least 16 characters/);
  });
});
