// The delivery loop: at most one attempt in flight per installation (its queue goes out in order, the next only
// after the previous was delivered or dead-lettered), at most `concurrency` in all; failed attempts are retried
// after retryDelayMs (exponential backoff with jitter) until retry.maxAttempts, then dead-lettered.
import type { RetryPolicy } from "../config.js";
import type { Logger } from "../log.js";
import type { NotifyMetrics } from "../metrics.js";
import type { DueDelivery, NotifyStore } from "../store/NotifyStore.js";
import { retryDelayMs } from "./backoff.js";
import { createTargetSender, type SendResult, type Sender } from "./sender.js";

export interface DelivererOptions {
  store: NotifyStore;
  metrics: NotifyMetrics;
  logger: Logger;
  retry: RetryPolicy;
  timeoutMs: number;
  concurrency: number;
  now?: () => number;
  random?: () => number;
  sender?: Sender;
  /** The longest sleep between scans when nothing is due (a safety net; wake() is the normal trigger). */
  idleScanMs?: number;
}

export class Deliverer {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  private scanAgain = false;
  private stopped = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sender: Sender;

  constructor(private readonly options: DelivererOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sender = options.sender ?? createTargetSender();
  }

  start(): void {
    this.wake();
  }

  /** Looks for due deliveries now (after an enqueue, or when a retry falls due). */
  wake(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = true;
    this.scan()
      .catch((error: unknown) => {
        this.options.logger.error("delivery scan failed", { error });
        this.schedule(1_000);
      })
      .finally(() => {
        this.scanning = false;
        if (this.scanAgain) {
          this.scanAgain = false;
          this.wake();
        }
      });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.min(delayMs, this.options.idleScanMs ?? 60_000)));
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    const { store, concurrency } = this.options;
    const free = concurrency - this.inFlight.size;
    if (free > 0) {
      const due = await store.dueDeliveries(this.now(), free, new Set(this.inFlight.keys()));
      for (const delivery of due) {
        if (this.stopped || this.inFlight.has(delivery.installationId)) continue;
        const attempt = this.attempt(delivery)
          .catch((error: unknown) => this.options.logger.error("recording a delivery attempt failed", { error, installation: delivery.installationId }))
          .finally(() => {
            this.inFlight.delete(delivery.installationId);
            this.wake();
          });
        this.inFlight.set(delivery.installationId, attempt);
      }
    }
    if (this.inFlight.size >= concurrency) return; // a finishing attempt wakes the loop
    const next = await store.nextDueAtMs(new Set(this.inFlight.keys()));
    this.schedule(next === undefined ? (this.options.idleScanMs ?? 60_000) : next - this.now());
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    const { store, metrics, logger, retry } = this.options;
    const attempt = delivery.attempts + 1;
    let result: SendResult;
    try {
      result = await this.sender(delivery, attempt, { timeoutMs: this.options.timeoutMs, now: this.now, signal: this.abort.signal });
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const now = this.now();
    // Cut off by shutdown: not the target's fault; the delivery stays pending with its attempts as they were.
    if (!result.ok && this.abort.signal.aborted) return;
    if (result.ok) {
      await store.markDelivered(delivery.seq, now);
      metrics.deliveries.delivered++;
      logger.debug("delivered", { installation: delivery.installationId, digest: delivery.envelope.digest, attempt });
      return;
    }
    if (result.targetGone) {
      // RFC 8030 section 7.3: a push service answers 404/410 for a subscription that expired or was unsubscribed; it will
      // not come back. Keeping the installation would send every later envelope to it only to be refused.
      await store.deleteInstallation(delivery.installationId);
      metrics.deliveries.dead++;
      metrics.installationsRemoved++;
      logger.warn("installation removed: its target is gone", { installation: delivery.installationId, error: result.error });
      return;
    }
    const dead = attempt >= retry.maxAttempts || result.permanent === true;
    // A receiver's Retry-After is honoured up to the longest delay of the policy.
    const delayMs = Math.max(retryDelayMs(attempt, retry, this.random), Math.min(result.retryAfterMs ?? 0, retry.maxDelayMs));
    const nextAttemptAtMs = dead ? now : now + delayMs;
    await store.markFailed(delivery.seq, { attempts: attempt, nextAttemptAtMs, error: result.error, dead }, now);
    metrics.deliveries[dead ? "dead" : "retry"]++;
    const fields = { installation: delivery.installationId, digest: delivery.envelope.digest, attempt, error: result.error };
    if (dead) logger.warn("delivery dead-lettered", fields);
    else logger.info("delivery failed; will retry", { ...fields, retryInMs: nextAttemptAtMs - now });
  }

  /** Stops scanning; waits up to graceMs for attempts in flight, then aborts the rest (they stay pending). */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const all = Promise.allSettled([...this.inFlight.values()]);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([all, expired]);
    clearTimeout(timer);
    this.abort.abort();
    await all;
    while (this.scanning) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
