// Publish authentication and the topic ownership rule (docs/protocol/api.md §4, §2.2, §5).
import { AUTH_TOKEN_MAX_AGE_NS, AuthTokenError, verifyAuthToken } from "@xmtp-ts/crypto";
import { ApiError, GrpcCode } from "./errors.js";

export interface Clock {
  /** Current time in nanoseconds since the epoch. */
  nowNs(): bigint;
}

export const systemClock: Clock = { nowNs: () => BigInt(Date.now()) * 1_000_000n };

export interface AuthenticatedCaller {
  walletAddress: string;
}

interface CachedToken {
  walletAddress: string;
  expiresAtNs: bigint;
}

export interface AuthenticatorOptions {
  clock?: Clock;
  /** Verified tokens remembered (least recently used are dropped first). */
  cacheSize?: number;
  maxTokenAgeNs?: bigint;
}

/**
 * Verifies bearer tokens. A verified token is remembered until it expires so a busy publisher pays the two
 * ECDSA recoveries once per token (the SDK reuses a token for ~1 hour), not once per request. Failures are
 * never cached, so a token cannot be poisoned.
 */
export class Authenticator {
  private readonly cache = new Map<string, CachedToken>();
  private readonly clock: Clock;
  private readonly cacheSize: number;
  private readonly maxTokenAgeNs: bigint;
  /** Number of full (uncached) verifications, for tests and metrics. */
  verifications = 0;

  constructor(options: AuthenticatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.maxTokenAgeNs = options.maxTokenAgeNs ?? AUTH_TOKEN_MAX_AGE_NS;
  }

  /** Checks an `Authorization` header value; throws ApiError code 16 "validating token: …". */
  authenticate(authorization: string | undefined): AuthenticatedCaller {
    const token = bearerToken(authorization);
    const nowNs = this.clock.nowNs();
    const cached = this.cache.get(token);
    if (cached) {
      this.cache.delete(token);
      if (nowNs <= cached.expiresAtNs) {
        this.cache.set(token, cached); // most recently used goes last
        return { walletAddress: cached.walletAddress };
      }
      throw unauthenticated("token expired");
    }
    let verified;
    try {
      this.verifications++;
      verified = verifyAuthToken(token, { nowNs, maxAgeNs: this.maxTokenAgeNs });
    } catch (error) {
      if (error instanceof AuthTokenError) throw new ApiError(GrpcCode.UNAUTHENTICATED, error.message);
      throw unauthenticated((error as Error).message);
    }
    this.cache.set(token, {
      walletAddress: verified.walletAddress,
      expiresAtNs: verified.createdNs + this.maxTokenAgeNs,
    });
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return { walletAddress: verified.walletAddress };
  }

  get cachedTokens(): number {
    return this.cache.size;
  }
}

function unauthenticated(reason: string): ApiError {
  return new ApiError(GrpcCode.UNAUTHENTICATED, `validating token: ${reason}`);
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === "") {
    throw unauthenticated("missing Authorization header (expected \"Bearer <token>\")");
  }
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated("Authorization header is not of the form \"Bearer <token>\"");
  return match[1];
}

const OWNED_TOPIC_KINDS = ["contact-", "privatestore-"] as const;

/**
 * The wallet that alone may write a topic, or undefined for an open topic: `/xmtp/0/contact-<addr>/…` and
 * `/xmtp/0/privatestore-<addr>/…` belong to <addr> (docs/protocol/api.md §5). Topics outside /xmtp/0/ carry no rule.
 */
export function topicOwner(topic: string): string | undefined {
  if (!topic.startsWith("/xmtp/0/")) return undefined;
  const rest = topic.slice("/xmtp/0/".length);
  const slash = rest.indexOf("/");
  const name = slash >= 0 ? rest.slice(0, slash) : rest;
  for (const kind of OWNED_TOPIC_KINDS) {
    if (name.startsWith(kind)) return name.slice(kind.length);
  }
  return undefined;
}

/** Throws ApiError code 7 if the wallet may not write this topic (owner compared as exact EIP-55 strings). */
export function authorizeTopic(topic: string, walletAddress: string): void {
  const owner = topicOwner(topic);
  if (owner !== undefined && owner !== walletAddress) {
    throw new ApiError(
      GrpcCode.PERMISSION_DENIED,
      `publishing to restricted topic: ${topic} belongs to ${JSON.stringify(owner)}, the token is for ${walletAddress}`,
    );
  }
}
