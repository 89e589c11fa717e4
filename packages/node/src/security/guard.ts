// The one object the HTTP layer asks before doing work: abuse limits (validate), access control (after
// authentication) and rate limits (before storage), plus the per-client stream count. Each check throws the
// ApiError to answer with, so route code stays a straight line.
import { ApiError, GrpcCode } from "../errors.js";
import type { NodeMetrics } from "../metrics/nodeMetrics.js";
import { AccessControl, accessActionOfTopics } from "./accessControl.js";
import { limitKeyOfAddress } from "./clientAddress.js";
import { RateLimitedError, tooMany, validateSecurityConfig, type SecurityConfig } from "./limits.js";
import { RateLimiter } from "./rateLimiter.js";

export interface SecurityGuardOptions {
  config: SecurityConfig;
  /** Absent: no lists at all, i.e. open mode without a denylist. */
  accessControl?: AccessControl;
  metrics?: NodeMetrics;
  /** Milliseconds, for the rate limiters; injectable for tests. */
  now?: () => number;
}

export class SecurityGuard {
  readonly config: SecurityConfig;
  readonly accessControl: AccessControl | undefined;
  private readonly metrics: NodeMetrics | undefined;
  private readonly publishLimiter: RateLimiter;
  private readonly readLimiter: RateLimiter;
  private readonly subscribeLimiter: RateLimiter;
  private readonly authFailureLimiter: RateLimiter;
  private readonly readBytesLimiter: RateLimiter;
  private readonly streamsByClient = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** The last address's limit key: a read asks for it three times (bytes check, topic limit, bytes charge). */
  private lastAddress: string | undefined;
  private lastKey = "";

  constructor(options: SecurityGuardOptions) {
    validateSecurityConfig(options.config);
    this.config = options.config;
    this.accessControl = options.accessControl;
    if (!this.accessControl && options.config.accessMode === "allowlist") {
      throw new TypeError("allowlist mode needs an AccessControl backed by an authz store");
    }
    this.metrics = options.metrics;
    const limiterOptions = { maxKeys: options.config.rateLimits.maxKeys, now: options.now };
    this.publishLimiter = new RateLimiter(limiterOptions);
    this.readLimiter = new RateLimiter(limiterOptions);
    this.subscribeLimiter = new RateLimiter(limiterOptions);
    this.authFailureLimiter = new RateLimiter(limiterOptions);
    this.readBytesLimiter = new RateLimiter(limiterOptions);
  }

  /** Starts the access-control refresh and the periodic forgetting of idle buckets. */
  async start(): Promise<void> {
    await this.accessControl?.start();
    const interval = this.config.rateLimits.sweepIntervalMs;
    if (this.config.rateLimits.enabled && interval > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweepIdleBuckets(), interval);
      this.sweepTimer.unref();
    }
  }

  stop(): void {
    this.accessControl?.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  sweepIdleBuckets(): number {
    return (
      this.publishLimiter.sweep() +
      this.readLimiter.sweep() +
      this.readBytesLimiter.sweep() +
      this.subscribeLimiter.sweep() +
      this.authFailureLimiter.sweep()
    );
  }

  /** How many buckets each limiter remembers (for tests and diagnostics). */
  bucketCounts(): { publish: number; read: number; readBytes: number; subscribe: number; authFailures: number } {
    return {
      publish: this.publishLimiter.size,
      read: this.readLimiter.size,
      readBytes: this.readBytesLimiter.size,
      subscribe: this.subscribeLimiter.size,
      authFailures: this.authFailureLimiter.size,
    };
  }

  private keyOf(clientAddress: string): string {
    if (clientAddress !== this.lastAddress) {
      this.lastKey = limitKeyOfAddress(clientAddress);
      this.lastAddress = clientAddress;
    }
    return this.lastKey;
  }

  // --- validate ---------------------------------------------------------------------------------------------

  checkPublishSize(envelopeCount: number): void {
    const max = this.config.limits.maxEnvelopesPerPublish;
    if (envelopeCount > max) {
      this.metrics?.abuseLimitRejections.inc({ limit: "envelopes_per_publish" });
      throw tooMany("envelopes in one publish", envelopeCount, max, "--max-envelopes-per-publish");
    }
  }

  checkQueryTopics(topicCount: number): void {
    const max = this.config.limits.maxTopicsPerQuery;
    if (topicCount > max) {
      this.metrics?.abuseLimitRejections.inc({ limit: "topics_per_query" });
      throw tooMany("topics in one query", topicCount, max, "--max-topics-per-query");
    }
  }

  checkSubscriptionTopics(topicCount: number): void {
    const max = this.config.limits.maxTopicsPerSubscription;
    if (topicCount > max) {
      this.metrics?.abuseLimitRejections.inc({ limit: "topics_per_subscription" });
      throw tooMany("topics in one subscription", topicCount, max, "--max-topics-per-subscription");
    }
  }

  // --- before authentication -------------------------------------------------------------------------------

  /** Refuses a publish before its token is verified when the address has had too many tokens refused lately. */
  checkAuthFailures(clientAddress: string): void {
    const settings = this.config.rateLimits;
    if (!settings.enabled) return;
    const decision = this.authFailureLimiter.peek(this.keyOf(clientAddress), settings.authFailures);
    if (!decision.allowed) {
      this.metrics?.rateLimited.inc({ limit: "auth_failures" });
      throw new RateLimitedError(
        `rate limit exceeded: address ${clientAddress} sent too many invalid publish tokens ` +
          `(${settings.authFailures.capacity} allowed, then ${settings.authFailures.refillPerSecond} per second); ` +
          `retry in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
      );
    }
  }

  /** Counts a publish refused for its token (401) against the client address. */
  recordAuthFailure(clientAddress: string): void {
    if (!this.config.rateLimits.enabled) return;
    this.authFailureLimiter.take(this.keyOf(clientAddress), this.config.rateLimits.authFailures, 1);
  }

  // --- access control (after authentication) ----------------------------------------------------------------

  authorizePublish(wallet: string, topics: Iterable<string>): void {
    const denial = this.accessControl?.check(wallet, accessActionOfTopics(topics));
    if (denial) {
      const reason = this.accessControl!.entryOf(wallet)?.permission === "deny" ? "denylisted" : "not_allowlisted";
      this.metrics?.accessDenied.inc({ reason });
      throw denial;
    }
  }

  // --- rate limits (before storage) -------------------------------------------------------------------------

  limitPublish(wallet: string, envelopeCount: number): void {
    const settings = this.config.rateLimits;
    if (!settings.enabled) return;
    const priority = this.accessControl?.isPriority(wallet) ?? false;
    const policy = priority ? settings.publishPriority : settings.publish;
    const decision = this.publishLimiter.take(wallet.toLowerCase(), policy, envelopeCount);
    if (!decision.allowed) {
      this.metrics?.rateLimited.inc({ limit: "publish" });
      throw new RateLimitedError(
        `rate limit exceeded: wallet ${wallet} may publish ${policy.refillPerSecond} envelopes per second ` +
          `(bursts of ${policy.capacity}); retry in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
      );
    }
  }

  /** `cost` = topics read: 1 for a query of one topic, the number of queries for a batch. */
  limitRead(clientAddress: string, cost: number): void {
    const settings = this.config.rateLimits;
    if (!settings.enabled) return;
    const decision = this.readLimiter.take(this.keyOf(clientAddress), settings.read, cost);
    if (!decision.allowed) {
      this.metrics?.rateLimited.inc({ limit: "read" });
      throw new RateLimitedError(
        `rate limit exceeded: address ${clientAddress} may read ${settings.read.refillPerSecond} topics per second ` +
          `(bursts of ${settings.read.capacity}); retry in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
      );
    }
  }

  /** Refuses a read while the client address owes read bytes (its byte bucket is below zero). Takes nothing. */
  checkReadBytes(clientAddress: string): void {
    const settings = this.config.rateLimits;
    if (!settings.enabled) return;
    // A cost of 0: refused only while the address is in debt.
    const decision = this.readBytesLimiter.peek(this.keyOf(clientAddress), settings.readBytes, 0);
    if (!decision.allowed) {
      this.metrics?.rateLimited.inc({ limit: "read_bytes" });
      throw new RateLimitedError(
        `rate limit exceeded: address ${clientAddress} may read ${settings.readBytes.refillPerSecond} message bytes ` +
          `per second (bursts of ${settings.readBytes.capacity}) and has read more; retry in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
      );
    }
  }

  /** Charges the message bytes a read returned to the client address; this may put its byte bucket in debt. */
  chargeReadBytes(clientAddress: string, bytes: number): void {
    const settings = this.config.rateLimits;
    if (!settings.enabled || !(bytes > 0)) return;
    this.readBytesLimiter.charge(this.keyOf(clientAddress), settings.readBytes, bytes);
  }

  limitSubscribe(clientAddress: string): void {
    const settings = this.config.rateLimits;
    if (!settings.enabled) return;
    const decision = this.subscribeLimiter.take(this.keyOf(clientAddress), settings.subscribe, 1);
    if (!decision.allowed) {
      this.metrics?.rateLimited.inc({ limit: "subscribe" });
      throw new RateLimitedError(
        `rate limit exceeded: address ${clientAddress} may open ${settings.subscribe.refillPerSecond} ` +
          `subscriptions per second (bursts of ${settings.subscribe.capacity}); retry in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
      );
    }
  }

  // --- concurrent streams -----------------------------------------------------------------------------------

  /** Counts a new stream for the client; call the returned function exactly once when it ends. */
  openStream(clientAddress: string): () => void {
    const key = this.keyOf(clientAddress);
    const open = this.streamsByClient.get(key) ?? 0;
    const max = this.config.limits.maxStreamsPerClient;
    if (open >= max) {
      this.metrics?.abuseLimitRejections.inc({ limit: "streams_per_ip" });
      throw new ApiError(
        GrpcCode.RESOURCE_EXHAUSTED,
        `too many open streams: address ${clientAddress} already has ${open}, the most this node allows ` +
          `(--max-streams-per-ip ${max}); close one first`,
      );
    }
    this.streamsByClient.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const remaining = (this.streamsByClient.get(key) ?? 1) - 1;
      // Deleting at zero keeps the map no larger than the number of clients with open streams.
      if (remaining <= 0) this.streamsByClient.delete(key);
      else this.streamsByClient.set(key, remaining);
    };
  }

  openStreamCount(clientAddress?: string): number {
    if (clientAddress !== undefined) return this.streamsByClient.get(this.keyOf(clientAddress)) ?? 0;
    let total = 0;
    for (const count of this.streamsByClient.values()) total += count;
    return total;
  }
}
