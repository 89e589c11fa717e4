import { describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { ApiError, GrpcCode } from "./errors.js";
import { Authenticator, authorizeTopic, topicOwner, type Clock } from "./auth.js";
import { createIdentity, nowNs } from "../test/http/helpers.js";

const HOUR_NS = 3_600_000_000_000n;

function manualClock(startNs: bigint): Clock & { advance(ns: bigint): void } {
  let now = startNs;
  return { nowNs: () => now, advance: (ns) => void (now += ns) };
}

function rejection(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error("expected a rejection");
}

describe("Authenticator", () => {
  it("verifies a token once and serves repeats from the cache", async () => {
    const alice = await createIdentity();
    const auth = new Authenticator();
    const token = alice.token();
    expect(auth.authenticate(`Bearer ${token}`).walletAddress).toBe(alice.address);
    expect(auth.authenticate(`bearer   ${token} `).walletAddress).toBe(alice.address);
    expect(auth.verifications).toBe(1);
    expect(auth.cachedTokens).toBe(1);
  });

  it("expires a cached token after one hour", async () => {
    const alice = await createIdentity();
    const clock = manualClock(nowNs());
    const auth = new Authenticator({ clock });
    const header = `Bearer ${alice.token(clock.nowNs())}`;
    auth.authenticate(header);
    clock.advance(HOUR_NS);
    expect(auth.authenticate(header).walletAddress).toBe(alice.address);
    clock.advance(1n);
    const error = rejection(() => auth.authenticate(header));
    expect(error.code).toBe(GrpcCode.UNAUTHENTICATED);
    expect(error.message).toBe("validating token: token expired");
    expect(auth.verifications).toBe(1);
  });

  it("drops the least recently used token when full", async () => {
    const alice = await createIdentity();
    const auth = new Authenticator({ cacheSize: 2 });
    const base = nowNs();
    const [t1, t2, t3] = [base, base + 1n, base + 2n].map((ns) => `Bearer ${alice.token(ns)}`);
    auth.authenticate(t1);
    auth.authenticate(t2);
    auth.authenticate(t1); // t1 is now the most recent, t2 the least
    auth.authenticate(t3);
    expect(auth.cachedTokens).toBe(2);
    expect(auth.verifications).toBe(3);
    auth.authenticate(t1);
    expect(auth.verifications).toBe(3);
    auth.authenticate(t2);
    expect(auth.verifications).toBe(4);
  });

  it("rejects missing, malformed and forged tokens with code 16 and never caches them", async () => {
    const alice = await createIdentity();
    const mallory = await createIdentity();
    const auth = new Authenticator();
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /validating token: missing Authorization header/],
      ["", /missing Authorization header/],
      ["Basic abc", /not of the form "Bearer <token>"/],
      ["Bearer a b", /not of the form/],
      ["Bearer not-base64!", /validating token: cannot decode token/],
      ["Bearer AAAA", /validating token:/],
      [`Bearer ${alice.token(nowNs() - 2n * HOUR_NS)}`, /validating token: token expired/],
    ];
    // A token whose identity key is alice's but whose auth data claims mallory's wallet.
    const { createAuthToken } = await import("@xmtp-ts/crypto");
    cases.push([
      `Bearer ${createAuthToken({ identityKey: alice.identityKey, identityPrivateKey: alice.identityPrivateKey, walletAddress: mallory.address, createdNs: nowNs() })}`,
      /validating token: wallet address mismatch/,
    ]);
    // Auth data signed by a key that is not the identity key.
    cases.push([
      `Bearer ${createAuthToken({ identityKey: alice.identityKey, identityPrivateKey: mallory.identityPrivateKey, walletAddress: alice.address, createdNs: nowNs() })}`,
      /validating token: auth data signature does not match/,
    ]);
    for (const [header, message] of cases) {
      const error = rejection(() => auth.authenticate(header));
      expect(error.code).toBe(GrpcCode.UNAUTHENTICATED);
      expect(error.httpStatus).toBe(401);
      expect(error.message).toMatch(message);
    }
    expect(auth.cachedTokens).toBe(0);
  });
});

describe("topic ownership", () => {
  const owner = new Wallet("0x" + "11".repeat(32)).address;

  it("finds the owner of contact- and privatestore- topics only", () => {
    expect(topicOwner(`/xmtp/0/contact-${owner}/proto`)).toBe(owner);
    expect(topicOwner(`/xmtp/0/privatestore-${owner}/key_bundle/proto`)).toBe(owner);
    expect(topicOwner(`/xmtp/0/invite-${owner}/proto`)).toBeUndefined();
    expect(topicOwner(`/xmtp/0/m-abc/proto`)).toBeUndefined();
    expect(topicOwner(`contact-${owner}`)).toBeUndefined();
    expect(topicOwner(`/xmtp/1/contact-${owner}/proto`)).toBeUndefined();
  });

  it("lets only the exact EIP-55 owner write them", () => {
    expect(() => authorizeTopic(`/xmtp/0/contact-${owner}/proto`, owner)).not.toThrow();
    expect(() => authorizeTopic(`/xmtp/0/invite-${owner}/proto`, "0x0000000000000000000000000000000000000001")).not.toThrow();
    for (const topic of [
      `/xmtp/0/contact-${owner.toLowerCase()}/proto`,
      `/xmtp/0/privatestore-${owner.toLowerCase()}/key_bundle/proto`,
      `/xmtp/0/contact-0x0000000000000000000000000000000000000001/proto`,
    ]) {
      const error = rejection(() => authorizeTopic(topic, owner));
      expect(error.code).toBe(GrpcCode.PERMISSION_DENIED);
      expect(error.httpStatus).toBe(403);
      expect(error.message).toContain("publishing to restricted topic");
      expect(error.message).toContain(topic);
    }
  });
});
