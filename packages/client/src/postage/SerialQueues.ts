// One-at-a-time execution per key. A payer's stamps to one operator must be made one after another (docs/postage.md
// §3.6): each stamp's `cumulative` is the node's last accepted voucher plus the price, so two stamps made from the
// same quote would carry the same total, and the node would take only one of them as payment.

export class SerialQueues {
  /** The tail of each key's chain of tasks; removed when the key falls idle, so idle keys cost nothing. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` once every task queued before it under `key` has settled; resolves or rejects as `task` does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    // Tails never reject, so a failed task does not stop the ones behind it: they wait for it to settle, no more.
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(() => task());
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** How many keys have tasks queued or running (for tests). */
  get activeKeys(): number {
    return this.tails.size;
  }
}

/**
 * The queues every client in this process shares: two clients of one app paying with the same wallet at the same
 * node must not race each other either.
 */
export const stampQueues = new SerialQueues();
