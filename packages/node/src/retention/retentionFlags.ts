// The retention flags and environment variables. config.ts owns parsing in general; this module describes these
// flags and turns their raw values into a RetentionConfig.
import { DEFAULT_PRUNE_BATCH, DEFAULT_PRUNE_INTERVAL_MS } from "./retentionPruner.js";
import { KEEP_FOREVER, parseRetentionPolicy, RetentionPolicyError, TOPIC_CLASS_NAMES, type RetentionPolicy } from "./retentionPolicy.js";

export const RETENTION_FLAG_ENV = {
  retention: "XMTP_RETENTION",
  "prune-interval-ms": "XMTP_PRUNE_INTERVAL_MS",
  "prune-batch": "XMTP_PRUNE_BATCH",
} as const;

export type RetentionFlagName = keyof typeof RETENTION_FLAG_ENV;

export interface RetentionConfig {
  policy: RetentionPolicy;
  pruneIntervalMs: number;
  pruneBatch: number;
}

export const DEFAULT_RETENTION_CONFIG: RetentionConfig = {
  policy: KEEP_FOREVER,
  pruneIntervalMs: DEFAULT_PRUNE_INTERVAL_MS,
  pruneBatch: DEFAULT_PRUNE_BATCH,
};

export const RETENTION_USAGE = `
Retention (docs/storage.md; default: everything is kept forever):
  --retention SPEC       class=value,… with value forever, an age (365d, 12h, 30m, 45s) or newest:N; classes:
                         ${TOPIC_CLASS_NAMES.join(", ")}
                         e.g. v1-messages=365d,v2-messages=365d,contact=newest:5  (XMTP_RETENTION)
  --prune-interval-ms N  pause between pruning passes            (XMTP_PRUNE_INTERVAL_MS, default ${DEFAULT_PRUNE_INTERVAL_MS})
  --prune-batch N        envelopes deleted per transaction       (XMTP_PRUNE_BATCH, default ${DEFAULT_PRUNE_BATCH})
`;

type RawFlag = { value: string; source: string };

export function parseRetentionFlags(
  lookup: (name: RetentionFlagName) => RawFlag | undefined,
  makeError: (message: string) => Error,
): RetentionConfig {
  const integer = (name: RetentionFlagName, fallback: number, min: number, max: number): number => {
    const found = lookup(name);
    if (!found) return fallback;
    if (!/^\d+$/.test(found.value.trim()) || Number(found.value) < min || Number(found.value) > max) {
      throw makeError(`${found.source} must be an integer from ${min} to ${max}, got ${JSON.stringify(found.value)}`);
    }
    return Number(found.value);
  };
  let policy = KEEP_FOREVER;
  const spec = lookup("retention");
  if (spec) {
    try {
      policy = parseRetentionPolicy(spec.value);
    } catch (error) {
      if (error instanceof RetentionPolicyError) throw makeError(`${spec.source}: ${error.message}`);
      throw error;
    }
  }
  return {
    policy,
    pruneIntervalMs: integer("prune-interval-ms", DEFAULT_PRUNE_INTERVAL_MS, 100, 86_400_000),
    pruneBatch: integer("prune-batch", DEFAULT_PRUNE_BATCH, 1, 100_000),
  };
}
