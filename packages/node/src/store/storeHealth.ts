// Whether the store can write, as learned from real appends: after a write fault (a full disk, a lost database) the
// node reports itself not ready, so load balancers and operators see it, and probes the store until it writes again.
// Reads are not affected: a node that cannot write may still serve queries.
import type { Logger } from "../log.js";
import type { EnvelopeStore } from "./EnvelopeStore.js";
import { isStoreUnavailable } from "./storeErrors.js";

/** A store that can prove it writes without storing an envelope (SQLite and PostgreSQL stores both can). */
interface WriteProbing {
  probeWrite?: () => Promise<void>;
}

export interface StoreHealthOptions {
  logger: Logger;
  /** How often a store in fault is probed (default 2000 ms). */
  probeIntervalMs?: number;
}

export class StoreHealth {
  private fault: { reason: string; sinceMs: number } | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;

  constructor(
    private readonly store: EnvelopeStore & WriteProbing,
    private readonly options: StoreHealthOptions,
  ) {}

  /** Why the store cannot write now, or undefined when it can (as far as the last write or probe showed). */
  get writeFault(): string | undefined {
    return this.fault?.reason;
  }

  /**
   * The store with its appends observed: a write fault marks the store unhealthy, any successful append clears it.
   * Everything else passes through untouched.
   */
  observe<S extends EnvelopeStore>(store: S): S {
    const append: EnvelopeStore["append"] = (envelopes, onCommitted, options) =>
      store.append(envelopes, onCommitted, options).then(
        (added) => {
          if (this.fault) this.recovered("an append succeeded");
          return added;
        },
        (error: unknown) => {
          if (isStoreUnavailable(error) && error.operation === "write") this.failed(error.message);
          throw error;
        },
      );
    return new Proxy(store, {
      get: (target, property, receiver) => (property === "append" ? append : Reflect.get(target, property, receiver)),
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private failed(reason: string): void {
    if (this.stopped) return;
    if (!this.fault) {
      this.options.logger.error("store cannot write; not ready until it does", { reason });
      this.fault = { reason, sinceMs: Date.now() };
    } else {
      this.fault.reason = reason;
    }
    if (!this.probeTimer && this.store.probeWrite) {
      this.probeTimer = setInterval(() => void this.probe(), this.options.probeIntervalMs ?? 2_000);
      this.probeTimer.unref();
    }
  }

  private recovered(how: string): void {
    const fault = this.fault;
    if (!fault) return;
    this.fault = undefined;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.options.logger.info("store writes again; ready", { how, faultMs: Date.now() - fault.sinceMs });
  }

  private async probe(): Promise<void> {
    if (this.probing || !this.fault || this.stopped) return;
    this.probing = true;
    try {
      await this.store.probeWrite!();
      this.recovered("a write probe succeeded");
    } catch (error) {
      if (this.fault && error instanceof Error) this.fault.reason = error.message;
    } finally {
      this.probing = false;
    }
  }
}
