// Request bodies are read whole before they are parsed, authenticated and rate-limited, so what a client can make
// the node hold while it sends slowly must be bounded before any of that: per client address and in total. A body
// reserves its declared length when it starts (or its chunks as they come, when no length is declared) and frees it
// when it is read, refused or abandoned.
import { ApiError, GrpcCode } from "../errors.js";

export interface BodyBudgetLimits {
  /** Bytes held for one client address key. */
  perClientBytes: number;
  /** Bytes held for all clients together. */
  totalBytes: number;
}

/** Refusal when the budget is spent: 429 with Retry-After, and the connection is closed so the rest is not sent. */
export class BodyBudgetExceededError extends ApiError {
  readonly retryAfterSeconds = 1;
  constructor(message: string) {
    super(GrpcCode.RESOURCE_EXHAUSTED, message, 429);
    this.name = "BodyBudgetExceededError";
  }
}

export class BodyBudget {
  private readonly heldByClient = new Map<string, number>();
  private heldTotal = 0;

  constructor(
    readonly limits: BodyBudgetLimits,
    /** A refusal, for metrics. */
    private readonly onRefused?: (limit: "body_buffer_per_ip" | "body_buffer_total") => void,
  ) {}

  /** Bytes held now, for one client key or in total. */
  held(clientKey?: string): number {
    return clientKey === undefined ? this.heldTotal : (this.heldByClient.get(clientKey) ?? 0);
  }

  /** Takes `bytes` for a client, or throws BodyBudgetExceededError naming the limit and holds nothing. */
  reserve(clientKey: string, bytes: number): void {
    const client = this.heldByClient.get(clientKey) ?? 0;
    if (client + bytes > this.limits.perClientBytes) {
      this.onRefused?.("body_buffer_per_ip");
      throw new BodyBudgetExceededError(
        `too much request data in flight from ${clientKey}: ${client} bytes held, ${bytes} more asked, at most ` +
          `${this.limits.perClientBytes} (--max-body-buffer-bytes-per-ip); retry when earlier requests are done`,
      );
    }
    if (this.heldTotal + bytes > this.limits.totalBytes) {
      this.onRefused?.("body_buffer_total");
      throw new BodyBudgetExceededError(
        `the node holds too much request data in flight (${this.heldTotal} bytes, at most ${this.limits.totalBytes}, ` +
          `--max-body-buffer-bytes); retry shortly`,
      );
    }
    this.heldByClient.set(clientKey, client + bytes);
    this.heldTotal += bytes;
  }

  release(clientKey: string, bytes: number): void {
    if (bytes <= 0) return;
    const left = (this.heldByClient.get(clientKey) ?? 0) - bytes;
    if (left > 0) this.heldByClient.set(clientKey, left);
    else this.heldByClient.delete(clientKey);
    this.heldTotal = Math.max(0, this.heldTotal - bytes);
  }
}
