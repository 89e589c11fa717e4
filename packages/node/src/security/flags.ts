// The security layer's command-line flags and environment variables. config.ts owns parsing in general; this
// module only describes these flags and turns their raw values into a SecurityConfig.
import { ACCESS_MODES, type AccessMode } from "./accessControl.js";
import { DEFAULT_SECURITY_CONFIG, MIN_ADMIN_TOKEN_LENGTH, type SecurityConfig } from "./limits.js";

export const SECURITY_FLAG_ENV = {
  "access-mode": "XMTP_ACCESS_MODE",
  "admin-token": "XMTP_ADMIN_TOKEN",
  "trust-proxy": "XMTP_TRUST_PROXY",
  "authz-refresh-ms": "XMTP_AUTHZ_REFRESH_MS",
  "rate-limits": "XMTP_RATE_LIMITS",
  "publish-rate": "XMTP_PUBLISH_RATE",
  "publish-burst": "XMTP_PUBLISH_BURST",
  "priority-publish-rate": "XMTP_PRIORITY_PUBLISH_RATE",
  "priority-publish-burst": "XMTP_PRIORITY_PUBLISH_BURST",
  "read-rate": "XMTP_READ_RATE",
  "read-burst": "XMTP_READ_BURST",
  "read-bytes-rate": "XMTP_READ_BYTES_RATE",
  "read-bytes-burst": "XMTP_READ_BYTES_BURST",
  "subscribe-rate": "XMTP_SUBSCRIBE_RATE",
  "subscribe-burst": "XMTP_SUBSCRIBE_BURST",
  "auth-failure-rate": "XMTP_AUTH_FAILURE_RATE",
  "auth-failure-burst": "XMTP_AUTH_FAILURE_BURST",
  "max-envelopes-per-publish": "XMTP_MAX_ENVELOPES_PER_PUBLISH",
  "max-topics-per-query": "XMTP_MAX_TOPICS_PER_QUERY",
  "max-topics-per-subscription": "XMTP_MAX_TOPICS_PER_SUBSCRIPTION",
  "max-streams-per-ip": "XMTP_MAX_STREAMS_PER_IP",
} as const;

export type SecurityFlagName = keyof typeof SECURITY_FLAG_ENV;

/** The largest value of a byte-count flag (1 PiB). */
const MAX_BYTE_FLAG = 2 ** 50;

/** The batch-query cap of the message API (docs/protocol/api.md §2.4); --max-topics-per-query may only lower it. */
export const MAX_TOPICS_PER_QUERY_CEILING = 50;

const d = DEFAULT_SECURITY_CONFIG;
export const SECURITY_USAGE = `
Security (access control, rate limits, abuse limits):
  --access-mode MODE     open | allowlist: who may publish         (XMTP_ACCESS_MODE, default ${d.accessMode})
                         the denylist applies in both modes; manage both lists with "xmtp-node authz"
  --admin-token TOKEN    enables /admin/v1/authz with this bearer token, ≥ ${MIN_ADMIN_TOKEN_LENGTH} chars
                         (XMTP_ADMIN_TOKEN; prefer the variable, flags show in ps)
  --authz-refresh-ms N   how often lists changed elsewhere are re-read (XMTP_AUTHZ_REFRESH_MS, default ${d.authzRefreshMs})
  --trust-proxy BOOL     client address from the last X-Forwarded-For entry (XMTP_TRUST_PROXY, default false)
  --rate-limits on|off   all rate limits                         (XMTP_RATE_LIMITS, default on)
  --publish-rate N       envelopes/s per wallet                  (XMTP_PUBLISH_RATE, default ${d.rateLimits.publish.refillPerSecond})
  --publish-burst N      envelopes in a burst per wallet         (XMTP_PUBLISH_BURST, default ${d.rateLimits.publish.capacity})
  --priority-publish-rate N / --priority-publish-burst N
                         the same for priority wallets           (XMTP_PRIORITY_PUBLISH_RATE / XMTP_PRIORITY_PUBLISH_BURST,
                                                                 default ${d.rateLimits.publishPriority.refillPerSecond} / ${d.rateLimits.publishPriority.capacity})
  --read-rate N          topics read/s per client address        (XMTP_READ_RATE, default ${d.rateLimits.read.refillPerSecond})
  --read-burst N         topics read in a burst                  (XMTP_READ_BURST, default ${d.rateLimits.read.capacity})
  --read-bytes-rate N    message bytes read/s per client address (XMTP_READ_BYTES_RATE, default ${d.rateLimits.readBytes.refillPerSecond} = 32 MiB)
  --read-bytes-burst N   message bytes read in a burst; an address that has read past it is refused until the
                         rate has paid it back                   (XMTP_READ_BYTES_BURST, default ${d.rateLimits.readBytes.capacity} = 512 MiB)
  --subscribe-rate N     subscribe requests/s per client address (XMTP_SUBSCRIBE_RATE, default ${d.rateLimits.subscribe.refillPerSecond})
  --subscribe-burst N    subscribe requests in a burst           (XMTP_SUBSCRIBE_BURST, default ${d.rateLimits.subscribe.capacity})
  --auth-failure-rate N  publishes refused for a bad token, per second per client address, once the burst
  --auth-failure-burst N is spent; further publishes from it get 429 before any signature is checked
                         (XMTP_AUTH_FAILURE_RATE / XMTP_AUTH_FAILURE_BURST, default ${d.rateLimits.authFailures.refillPerSecond} / ${d.rateLimits.authFailures.capacity})
  --max-envelopes-per-publish N                                  (XMTP_MAX_ENVELOPES_PER_PUBLISH, default ${d.limits.maxEnvelopesPerPublish})
  --max-topics-per-query N      queries in one batch-query, ≤ ${MAX_TOPICS_PER_QUERY_CEILING}   (XMTP_MAX_TOPICS_PER_QUERY, default ${d.limits.maxTopicsPerQuery})
  --max-topics-per-subscription N                                (XMTP_MAX_TOPICS_PER_SUBSCRIPTION, default ${d.limits.maxTopicsPerSubscription})
  --max-streams-per-ip N  open streams per client address        (XMTP_MAX_STREAMS_PER_IP, default ${d.limits.maxStreamsPerClient})
`;

export interface RawFlag {
  value: string;
  /** Where the value came from, for messages: "--flag" or "ENV_VAR". */
  source: string;
}

/**
 * Builds the security configuration from raw flag values; `lookup` returns a flag's value (flag or environment) or
 * undefined. Throws `makeError(message)` naming the offending flag.
 */
export function parseSecurityFlags(
  lookup: (name: SecurityFlagName) => RawFlag | undefined,
  makeError: (message: string) => Error,
): SecurityConfig {
  const number = (name: SecurityFlagName, fallback: number, { min, max, integer }: { min: number; max: number; integer: boolean }) => {
    const found = lookup(name);
    if (!found) return fallback;
    const pattern = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
    const value = Number(found.value);
    if (!pattern.test(found.value.trim()) || value < min || value > max) {
      const kind = integer ? "an integer" : "a number";
      throw makeError(`${found.source} must be ${kind} from ${min} to ${max}, got ${JSON.stringify(found.value)}`);
    }
    return value;
  };
  const boolean = (name: SecurityFlagName, fallback: boolean) => {
    const found = lookup(name);
    if (!found) return fallback;
    const value = found.value.trim().toLowerCase();
    if (["true", "on", "yes", "1"].includes(value)) return true;
    if (["false", "off", "no", "0"].includes(value)) return false;
    throw makeError(`${found.source} must be on/off (or true/false), got ${JSON.stringify(found.value)}`);
  };
  const rate = (name: SecurityFlagName, fallback: number) => number(name, fallback, { min: 0.001, max: 1e9, integer: false });
  const count = (name: SecurityFlagName, fallback: number, max = 1e9) => number(name, fallback, { min: 1, max, integer: true });

  const modeFlag = lookup("access-mode");
  const accessMode = (modeFlag?.value.trim().toLowerCase() ?? d.accessMode) as AccessMode;
  if (!ACCESS_MODES.includes(accessMode)) {
    throw makeError(`${modeFlag!.source} must be one of ${ACCESS_MODES.join(", ")}, got ${JSON.stringify(modeFlag!.value)}`);
  }
  const tokenFlag = lookup("admin-token");
  if (tokenFlag && tokenFlag.value.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw makeError(`${tokenFlag.source} must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters long`);
  }

  const rl = d.rateLimits;
  return {
    accessMode,
    adminToken: tokenFlag?.value,
    trustProxy: boolean("trust-proxy", d.trustProxy),
    authzRefreshMs: number("authz-refresh-ms", d.authzRefreshMs, { min: 10, max: 3_600_000, integer: true }),
    rateLimits: {
      ...rl,
      enabled: boolean("rate-limits", rl.enabled),
      publish: { refillPerSecond: rate("publish-rate", rl.publish.refillPerSecond), capacity: count("publish-burst", rl.publish.capacity) },
      publishPriority: {
        refillPerSecond: rate("priority-publish-rate", rl.publishPriority.refillPerSecond),
        capacity: count("priority-publish-burst", rl.publishPriority.capacity),
      },
      read: { refillPerSecond: rate("read-rate", rl.read.refillPerSecond), capacity: count("read-burst", rl.read.capacity) },
      readBytes: {
        refillPerSecond: number("read-bytes-rate", rl.readBytes.refillPerSecond, { min: 1, max: MAX_BYTE_FLAG, integer: true }),
        capacity: number("read-bytes-burst", rl.readBytes.capacity, { min: 1, max: MAX_BYTE_FLAG, integer: true }),
      },
      subscribe: {
        refillPerSecond: rate("subscribe-rate", rl.subscribe.refillPerSecond),
        capacity: count("subscribe-burst", rl.subscribe.capacity),
      },
      authFailures: {
        refillPerSecond: rate("auth-failure-rate", rl.authFailures.refillPerSecond),
        capacity: count("auth-failure-burst", rl.authFailures.capacity),
      },
    },
    limits: {
      maxEnvelopesPerPublish: count("max-envelopes-per-publish", d.limits.maxEnvelopesPerPublish),
      maxTopicsPerQuery: count("max-topics-per-query", d.limits.maxTopicsPerQuery, MAX_TOPICS_PER_QUERY_CEILING),
      maxTopicsPerSubscription: count("max-topics-per-subscription", d.limits.maxTopicsPerSubscription),
      maxStreamsPerClient: count("max-streams-per-ip", d.limits.maxStreamsPerClient),
    },
  };
}
