import type { Envelope, Subscription } from "../api/index.js";

/** A stream of decoded items: an async iterator that `return()` ends (closing the node subscription). */
export interface MessageStream<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
}

/**
 * Decodes a subscription's envelopes into zero or more items each. `return()` closes the subscription first, so a
 * consumer waiting in `next()` is released (an async generator would wait for that `next()` to settle).
 */
export class DecodedStream<T> implements MessageStream<T> {
  private readonly pending: T[] = [];
  private ended = false;

  constructor(
    readonly subscription: Subscription,
    private readonly decode: (envelope: Envelope) => Promise<T[]>,
  ) {}

  /** Resolves once the node has registered the subscription. */
  get ready(): Promise<void> {
    return this.subscription.ready;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.pending.length > 0) return { value: this.pending.shift()!, done: false };
      if (this.ended) return { value: undefined, done: true };
      const result = await this.subscription.next();
      if (result.done) {
        this.ended = true;
        continue;
      }
      const items = await this.decode(result.value);
      if (this.ended) return { value: undefined, done: true };
      this.pending.push(...items);
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.ended = true;
    this.pending.length = 0;
    await this.subscription.close();
    return { value: undefined, done: true };
  }
}
