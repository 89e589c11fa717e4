// Applies a retention policy in the background (docs/storage.md): every interval, each class that is not kept
// forever is pruned in batches of a bounded size, each its own short transaction, with the event loop given back
// between batches so publishes and queries go on while a large backlog is cleared.
import type { Clock } from "../auth.js";
import { silentLogger, type Logger } from "../log.js";
import type { EnvelopeStore, PruneResult } from "../store/EnvelopeStore.js";
import { retentionRuleOf, TOPIC_CLASS_NAMES, type RetentionPolicy, type TopicClass } from "./retentionPolicy.js";

export const DEFAULT_PRUNE_INTERVAL_MS = 60_000;
export const DEFAULT_PRUNE_BATCH = 1_000;

export interface RetentionPrunerOptions {
  store: Pick<EnvelopeStore, "prune">;
  policy: RetentionPolicy;
  clock: Clock;
  /** Between the end of one pass and the start of the next. */
  intervalMs?: number;
  /** Envelopes deleted per transaction. */
  batchSize?: number;
  logger?: Logger;
  /** Called after every batch that deleted something. */
  onPruned?: (topicClass: TopicClass, result: PruneResult) => void;
}

export type PassSummary = Partial<Record<TopicClass, PruneResult>>;

export class RetentionPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassSummary> | undefined;
  private closed = false;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly logger: Logger;

  constructor(private readonly options: RetentionPrunerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
    this.batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
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
    await this.running?.catch(() => undefined);
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
          const result = await this.options.store.prune(rule, this.batchSize);
          if (result.envelopes > 0) {
            total.envelopes += result.envelopes;
            total.messageBytes += result.messageBytes;
            this.options.onPruned?.(name, result);
          }
          if (result.envelopes < this.batchSize) break;
          // Let publishes and queries waiting on the event loop run before the next batch.
          await new Promise((resolve) => setImmediate(resolve));
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
