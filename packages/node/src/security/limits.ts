// The node's security settings with their defaults, and the abuse-limit checks that need no state.
import { ApiError, GrpcCode } from "../errors.js";
import type { AccessMode } from "./accessControl.js";
import { validateBucketPolicy, type BucketPolicy } from "./rateLimiter.js";

export interface RateLimitSettings {
  /** False turns every rate limit off (e.g. for benchmarks on a private node). */
  enabled: boolean;
  /** Per wallet; one token per envelope published. */
  publish: BucketPolicy;
  /** Per wallet, for wallets allowlisted with priority. */
  publishPriority: BucketPolicy;
  /** Per client address; one token per topic queried (a batch of 50 queries costs 50). */
  read: BucketPolicy;
  /**
   * Per client address, in message bytes returned by query and batch-query. A read is charged after it is answered
   * with what it actually returned, which may put the bucket in debt; while in debt the address's reads are refused.
   */
  readBytes: BucketPolicy;
  /** Per client address; one token per subscribe request. */
  subscribe: BucketPolicy;
  /**
   * Per client address; one token per publish refused for a bad token (401). Checked before verifying, so a
   * client sending forged tokens cannot keep the node busy with signature recoveries.
   */
  authFailures: BucketPolicy;
  /** Most buckets remembered per limit before the least recently used are forgotten. */
  maxKeys: number;
  /** How often buckets that have refilled completely are forgotten, in ms. */
  sweepIntervalMs: number;
}

export interface AbuseLimits {
  maxEnvelopesPerPublish: number;
  maxTopicsPerQuery: number;
  maxTopicsPerSubscription: number;
  maxStreamsPerClient: number;
}

export interface SecurityConfig {
  accessMode: AccessMode;
  /** Bearer token for /admin/v1/…; absent disables the admin API. */
  adminToken?: string;
  /** Take the client address from the last X-Forwarded-For entry (only behind a reverse proxy you run). */
  trustProxy: boolean;
  /** How often the allow/deny lists are checked for changes made by another process, in ms. */
  authzRefreshMs: number;
  rateLimits: RateLimitSettings;
  limits: AbuseLimits;
}

// Generous enough that no SDK workflow (Client.create, listing hundreds of conversations, a bot sending steadily)
// meets them, tight enough that one wallet or address cannot flood the node. The most envelopes per publish equals
// the publish burst, so a full-size publish always fits a full bucket.
// Read bytes: a burst of 512 MiB lets a client load about 500 messages of the largest size (1 MiB) at once, or a
// history of ~100,000 ordinary messages of a few KiB, without slowing down; afterwards 32 MiB/s (256 Mbit/s, more
// than most clients' links) is the sustained rate. Without it the topic limit alone (500 topics/s of 4 MiB pages)
// would let one address make the node read and send 2 GiB/s.
export const DEFAULT_SECURITY_CONFIG: SecurityConfig = {
  accessMode: "open",
  trustProxy: false,
  authzRefreshMs: 1000,
  rateLimits: {
    enabled: true,
    publish: { capacity: 1000, refillPerSecond: 50 },
    publishPriority: { capacity: 10_000, refillPerSecond: 500 },
    read: { capacity: 5000, refillPerSecond: 500 },
    readBytes: { capacity: 512 * 1024 * 1024, refillPerSecond: 32 * 1024 * 1024 },
    subscribe: { capacity: 200, refillPerSecond: 10 },
    authFailures: { capacity: 100, refillPerSecond: 2 },
    maxKeys: 100_000,
    sweepIntervalMs: 60_000,
  },
  limits: {
    maxEnvelopesPerPublish: 1000,
    maxTopicsPerQuery: 50,
    maxTopicsPerSubscription: 10_000,
    maxStreamsPerClient: 200,
  },
};

export const MIN_ADMIN_TOKEN_LENGTH = 16;

export function validateSecurityConfig(config: SecurityConfig): void {
  const rl = config.rateLimits;
  validateBucketPolicy(rl.publish, "publish rate limit");
  validateBucketPolicy(rl.publishPriority, "priority publish rate limit");
  validateBucketPolicy(rl.read, "read rate limit");
  validateBucketPolicy(rl.readBytes, "read bytes rate limit");
  validateBucketPolicy(rl.subscribe, "subscribe rate limit");
  validateBucketPolicy(rl.authFailures, "failed authentication limit");
  for (const [name, value] of Object.entries(config.limits)) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be an integer ≥ 1, got ${value}`);
  }
  if (!Number.isInteger(config.authzRefreshMs) || config.authzRefreshMs < 0) {
    throw new TypeError(`authzRefreshMs must be an integer ≥ 0 (0 = never poll), got ${config.authzRefreshMs}`);
  }
  if (config.adminToken !== undefined && config.adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new TypeError(`the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters long`);
  }
}

/** A 429 carrying the wait, so the HTTP layer can add a Retry-After header. */
export class RateLimitedError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(GrpcCode.RESOURCE_EXHAUSTED, message);
    this.name = "RateLimitedError";
  }
}

export function tooMany(what: string, count: number, max: number, flag: string): ApiError {
  return new ApiError(
    GrpcCode.INVALID_ARGUMENT,
    `too many ${what}: ${count} given, this node accepts at most ${max} (${flag})`,
  );
}
