// Telling a rate limit from other failures, and one pause shared by every sender: after a 429 nobody sends until the
// node's Retry-After (or, without it, a growing backoff) has passed.
import { delay } from "../api/delay.js";
import { ApiError, GrpcCode } from "../api/errors.js";

/** The node refused because of a rate limit (HTTP 429, gRPC RESOURCE_EXHAUSTED). */
export function isRateLimited(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.httpStatus === 429 || (error.code === GrpcCode.RESOURCE_EXHAUSTED && error.httpStatus !== 413));
}

/** Worth another try later: network failures, timeouts, 5xx (the client's own `transient` classification). */
export function isTransient(error: unknown): boolean {
  return error instanceof ApiError && error.transient;
}

/**
 * Whether the attempt's outcome at the node is settled: an answer came back (the node answers a publish only after
 * committing it), or the failure happened before any request. False for a connection that failed or timed out with
 * no answer: the node may still be committing what it received.
 */
export function isSettled(error: unknown): boolean {
  return !(error instanceof ApiError) || error.httpStatus !== undefined;
}

export class RateGate {
  private openAt = 0;
  private consecutive = 0;
  /** 429 answers seen. */
  hits = 0;

  constructor(
    private readonly initialBackoffMs: number,
    private readonly maxBackoffMs: number,
  ) {}

  /** Closes the gate for the node's Retry-After, or a backoff doubling with each 429 in a row. */
  limited(error: ApiError): void {
    this.hits++;
    this.consecutive++;
    const backoff = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (this.consecutive - 1));
    const waitMs = error.retryAfterMs ?? backoff;
    this.openAt = Math.max(this.openAt, Date.now() + waitMs);
  }

  /** A send went through: the next 429 starts the backoff afresh. */
  passed(): void {
    this.consecutive = 0;
  }

  /** Resolves when the gate is open (at once if it is); rejects if `signal` aborts meanwhile. */
  async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const ms = this.openAt - Date.now();
      if (ms <= 0) return;
      await delay(ms, signal);
    }
  }
}
