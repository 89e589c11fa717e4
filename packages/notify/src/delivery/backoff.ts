// Retry delays: exponential with "equal jitter". After the n-th failed attempt (n ≥ 1) the next attempt waits
// d = min(maxDelayMs, baseDelayMs · 2^(n−1)), then a uniformly random point in [d/2, d].
import type { RetryPolicy } from "../config.js";

export function retryDelayMs(failedAttempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) throw new RangeError(`failedAttempts must be ≥ 1, got ${failedAttempts}`);
  // 2^(n-1) overflows nothing before the cap applies: the exponent is clamped first.
  const exponential = policy.baseDelayMs * 2 ** Math.min(failedAttempts - 1, 52);
  const ceiling = Math.min(policy.maxDelayMs, exponential);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
