// The logging surface the network modules need; the node's JSON-lines logger satisfies it.
export interface NetworkLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** The node's no-op logger (log.ts): one silent logger for the whole node, the network modules included. */
export { silentLogger } from "../log.js";

/**
 * Logs at most `limit` lines per window for a noisy condition (e.g. a hostile peer flooding bad messages) and
 * reports how many were suppressed when the next window opens.
 */
export class ThrottledWarning {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: NetworkLogger,
    private readonly msg: string,
    private readonly limit = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) this.logger.warn(this.msg, { suppressed: this.suppressed });
      this.windowStart = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged < this.limit) {
      this.logged++;
      this.logger.warn(this.msg, fields);
    } else {
      this.suppressed++;
    }
  }
}
