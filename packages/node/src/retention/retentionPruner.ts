// Applies a retention policy in the background (docs/storage.md): every interval, each class that is not kept
// forever is pruned in batches of a bounded size, each its own short transaction. Between batches the pruner pauses
// in proportion to how long the batch took, so it holds the store's writer at most a fixed share of the time: a
// batch blocks the publishes queued behind it (measured on a million-envelope SQLite store, back-to-back batches cut
// a publisher's rate a hundredfold; a duty cycle of 0.1 kept 0.77x of it, 0.05 kept 0.94x), while a pause lets them
// all through.
import type { Clock } from "../auth.js";
import { silentLogger, type Logger } from "../log.js";
import type { EnvelopeStore, PruneResult } from "../store/EnvelopeStore.js";
import { retentionRuleOf, TOPIC_CLASS_NAMES, type RetentionPolicy, type TopicClass } from "./retentionPolicy.js";

export const DEFAULT_PRUNE_INTERVAL_MS = 60_000;
export const DEFAULT_PRUNE_BATCH = 250;
/** The share of the time the pruner may spend deleting; publishes keep the rest. */
export const DEFAULT_PRUNE_DUTY_CYCLE = 0.05;

export interface RetentionPrunerOptions {
  store: Pick<EnvelopeStore, "prune">;
  policy: RetentionPolicy;
  clock: Clock;
  /** Between the end of one pass and the start of the next. */
  intervalMs?: number;
  /** Envelopes deleted per transaction. */
  batchSize?: number;
  /** The share of the time spent deleting, in (0, 1]: after a batch of t ms the pruner pauses t × (1/share − 1). */
  dutyCycle?: number;
  logger?: Logger;
  /** Called after every batch that deleted something. */
  onPruned?: (topicClass: TopicClass, result: PruneResult) => void;
}

export type PassSummary = Partial<Record<TopicClass, PruneResult>>;

export class RetentionPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassSummary> | undefined;
  private closed = false;
  private wakePause: (() => void) | undefined;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly pauseFactor: number;
  private readonly logger: Logger;

  constructor(private readonly options: RetentionPrunerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
    this.batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    const dutyCycle = options.dutyCycle ?? DEFAULT_PRUNE_DUTY_CYCLE;
    if (!(dutyCycle > 0 && dutyCycle <= 1)) throw new RangeError(`dutyCycle must be in (0, 1], got ${dutyCycle}`);
    this.pauseFactor = 1 / dutyCycle - 1;
    this.logger = options.logger ?? silentLogger;
  }

  /** Runs a pass now, then one every interval after the previous ended. */
  start(): void {
    if (this.closed || this.timer) return;
    const next = () => {
      this.timer = setTimeout(() => void this.runPass().finally(() => !this.closed && next()), this.intervalMs);
      this.timer.unref();
    };
    void this.runPass().finally(() => !this.closed && next());
  }

  /**
   * One pass over every class, each until a batch deletes less than a full batch; what expires during the pass is
   * left for the next one. Concurrent calls share the pass in progress. A failing store ends the pass (logged): the
   * next pass retries, and nothing is half-deleted (each batch is one transaction).
   */
  runPass(): Promise<PassSummary> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.wakePause?.();
    await this.running?.catch(() => undefined);
  }

  /** Ends at once when the pruner is closed, so close() never waits for a pause (nor on a timer nothing else holds). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms < 1 || this.closed) {
        setImmediate(resolve);
        return;
      }
      const timer = setTimeout(() => {
        this.wakePause = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.wakePause = () => {
        clearTimeout(timer);
        this.wakePause = undefined;
        resolve();
      };
    });
  }

  private async pass(): Promise<PassSummary> {
    const summary: PassSummary = {};
    const nowNs = this.options.clock.nowNs();
    try {
      for (const name of TOPIC_CLASS_NAMES) {
        const rule = retentionRuleOf(this.options.policy, name, nowNs);
        if (!rule) continue;
        const total: PruneResult = { envelopes: 0, messageBytes: 0 };
        for (;;) {
          if (this.closed) return summary;
          const batchStarted = performance.now();
          const result = await this.options.store.prune(rule, this.batchSize);
          const batchMs = performance.now() - batchStarted;
          if (result.envelopes > 0) {
            total.envelopes += result.envelopes;
            total.messageBytes += result.messageBytes;
            this.options.onPruned?.(name, result);
          }
          if (result.envelopes < this.batchSize) break;
          // Publishes and queries queued behind the batch go first; the pause keeps the writer mostly theirs.
          await this.pause(batchMs * this.pauseFactor);
        }
        if (total.envelopes > 0) summary[name] = total;
      }
      if (Object.keys(summary).length > 0) this.logger.info("retention pass pruned envelopes", { pruned: summary });
    } catch (error) {
      this.logger.warn("retention pass failed; the next pass retries", { error });
    }
    return summary;
  }
}
