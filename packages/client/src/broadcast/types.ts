// The shapes of a broadcast: what the caller passes, what it is told along the way, and what it gets at the end.
import type { ContentTypeIdShape } from "../content/index.js";
import type { BroadcastStateStore } from "./stateStore.js";

export interface BroadcastOptions {
  /** Told of every change in the counts (often: throttle drawing yourself). */
  onProgress?: (progress: BroadcastProgress) => void;
  /**
   * A JSON file recording each recipient's outcome (written atomically: a temporary file, fsync, rename). Given the
   * same file again, a broadcast continues where the earlier run stopped and sends nobody a second copy. Node.js only;
   * elsewhere pass `stateStore`. Without either, the state lives in memory for this call only.
   */
  resumeFile?: string;
  /** Where the resume state is kept, instead of `resumeFile` (e.g. IndexedDB in a browser). */
  stateStore?: BroadcastStateStore;
  /** Sends in flight at once; default 8 (1..64). */
  concurrency?: number;
  /** Stops starting new sends; the ones in flight finish and are recorded, then BroadcastInterruptedError is thrown. */
  signal?: AbortSignal;
  /** Content type, compression and fallback, as for `conversation.send`. */
  contentType?: ContentTypeIdShape;
  compression?: number;
  contentFallback?: string;
  /** Recipients checked per `canMessage` batch (each is one or more batch-queries of 50 contact topics); default 250. */
  checkBatchSize?: number;
  /** Attempts per recipient for transient failures (network errors, timeouts, 5xx), not counting rate limits; default 4. */
  maxAttempts?: number;
  /** Rate-limit refusals (429) waited out per recipient before it is reported failed; default 50. */
  maxRateLimitWaits?: number;
  /** Wait after a 429 without Retry-After, doubled per consecutive 429 up to `maxBackoffMs`; default 500 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How long after an attempt whose outcome is unknown (the process died, or the connection failed with no answer)
   * the node is given to finish it before the conversation is checked for the message; default 3,000 ms.
   */
  inFlightSettleMs?: number;
}

export type BroadcastPhase = "checking" | "sending" | "done";

export interface BroadcastProgress {
  phase: BroadcastPhase;
  /** Distinct recipients. */
  total: number;
  /** Recipients whose reachability is known (this run's checks, plus those already sent by an earlier run). */
  checked: number;
  /** Sent by this run (acknowledged by the node). */
  sent: number;
  /** Sent by an earlier run, according to the resume state. */
  alreadySent: number;
  /** In doubt after an interruption and found on the network: sent earlier, not sent again. */
  recovered: number;
  notOnNetwork: number;
  failed: number;
  /** Sends started and not yet finished. */
  inFlight: number;
  /** 429 answers waited out so far. */
  rateLimited: number;
  /** Recipients with a final outcome: alreadySent + sent + recovered + notOnNetwork + failed. */
  done: number;
}

export interface BroadcastFailure {
  address: string;
  /** What went wrong, in words. */
  reason: string;
  /** The error's code: an XmtpClientErrorCode string, or the node's gRPC status for ApiError. */
  code?: string | number;
}

export interface BroadcastReport {
  /** Stable across resumed runs: it names the broadcast in its state. */
  broadcastId: string;
  total: number;
  /** Every recipient that has the message: sent now, earlier, or recovered. */
  sent: string[];
  /** How `sent` came about. */
  sentThisRun: number;
  alreadySent: number;
  recovered: number;
  notOnNetwork: string[];
  failed: BroadcastFailure[];
  rateLimited: number;
}
