// Live fan-out of envelopes to subscribers, by topic. Knows nothing of HTTP: the stream route adapts a listener to
// newline-delimited JSON and owns the per-stream buffer bound.
import type { Envelope } from "./store/EnvelopeStore.js";
import { silentLogger, type Logger } from "./log.js";

export type EnvelopeListener = (envelope: Envelope) => void;
export type Unsubscribe = () => void;

/** subscribe-all delivers what is under this prefix (docs/protocol/api.md §2.6). */
export const SUBSCRIBE_ALL_PREFIX = "/xmtp/0/";

export class SubscriptionHub {
  private readonly byTopic = new Map<string, Set<EnvelopeListener>>();
  private readonly everything = new Set<EnvelopeListener>();
  private subscriptions = 0;

  constructor(private readonly logger: Logger = silentLogger) {}

  /** Registers at once; the listener sees every envelope published after this call returns. */
  subscribe(topics: Iterable<string>, listener: EnvelopeListener): Unsubscribe {
    const registered: string[] = [];
    for (const topic of new Set(topics)) {
      let listeners = this.byTopic.get(topic);
      if (!listeners) this.byTopic.set(topic, (listeners = new Set()));
      listeners.add(listener);
      registered.push(topic);
    }
    this.subscriptions++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions--;
      for (const topic of registered) {
        const listeners = this.byTopic.get(topic);
        if (!listeners) continue;
        listeners.delete(listener);
        if (listeners.size === 0) this.byTopic.delete(topic);
      }
    };
  }

  /** Every envelope whose topic starts with /xmtp/0/. */
  subscribeAll(listener: EnvelopeListener): Unsubscribe {
    this.everything.add(listener);
    this.subscriptions++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions--;
      this.everything.delete(listener);
    };
  }

  publish(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      const listeners = this.byTopic.get(envelope.contentTopic);
      if (listeners) for (const listener of listeners) this.deliver(listener, envelope);
      if (this.everything.size > 0 && envelope.contentTopic.startsWith(SUBSCRIBE_ALL_PREFIX)) {
        for (const listener of this.everything) this.deliver(listener, envelope);
      }
    }
  }

  /** Active subscriptions (topic-based and subscribe-all). */
  get size(): number {
    return this.subscriptions;
  }

  /** Topics with at least one listener. */
  get topicCount(): number {
    return this.byTopic.size;
  }

  private deliver(listener: EnvelopeListener, envelope: Envelope): void {
    // One faulty subscriber must not starve the others or fail the publish that triggered it.
    try {
      listener(envelope);
    } catch (error) {
      this.logger.error("subscriber failed", { error });
    }
  }
}
