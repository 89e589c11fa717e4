// Broadcast: one message to many wallets with progress, rate-limit backoff and exactly-once resume. Importing this
// module also gives every Client its `broadcast` method.
import { Client } from "../Client.js";
import { broadcast } from "./broadcast.js";
import type { BroadcastOptions, BroadcastReport } from "./types.js";

declare module "../Client.js" {
  interface Client {
    /**
     * Sends `content` to each of `addresses` once: checks in batches who can be messaged, reuses existing
     * conversations, sends with bounded concurrency, waits out rate limits, and with `resumeFile` (or `stateStore`)
     * continues an interrupted run without sending anyone a second copy. See README "Broadcast".
     */
    broadcast(addresses: readonly string[], content: unknown, options?: BroadcastOptions): Promise<BroadcastReport>;
  }
}

Client.prototype.broadcast = function (this: Client, addresses: readonly string[], content: unknown, options?: BroadcastOptions) {
  return broadcast(this, addresses, content, options);
};

export { broadcast };
export { BroadcastInterruptedError, BroadcastResumeMismatchError, BroadcastStateError } from "./errors.js";
export { FileStateStore, MemoryStateStore, type BroadcastStateStore } from "./stateStore.js";
export { BROADCAST_STATE_FORMAT, BROADCAST_STATE_VERSION, type BroadcastState, type RecipientRecord } from "./state.js";
export type { BroadcastFailure, BroadcastOptions, BroadcastPhase, BroadcastProgress, BroadcastReport } from "./types.js";
