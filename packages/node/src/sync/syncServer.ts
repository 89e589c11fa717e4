// Serving side of /xmtp-ts/sync/1.0.0: answers each SyncRequest on a stream with the store's envelopes in arrival
// order after the requested sequence, one frame per envelope, then a page end carrying the sequence to continue from.
import type { Stream } from "@libp2p/interface";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import { ThrottledWarning, type NetworkLogger } from "../relay/logger.js";
import { FramedStream } from "./framedStream.js";
import { decodeSyncRequest, encodeSyncFrame } from "./syncMessages.js";

/** The most envelopes one page may hold, whatever the client asks for. */
export const MAX_SYNC_PAGE_SIZE = 1000;
export const DEFAULT_SYNC_PAGE_SIZE = 500;
/**
 * A page is read from the store in chunks of this many envelopes and ends early once its messages reach
 * PAGE_BYTE_BUDGET, so serving a page of large envelopes holds at most one chunk in memory beyond the budget.
 */
const STORE_READ_CHUNK = 100;
const PAGE_BYTE_BUDGET = 4 * 1024 * 1024;
const MAX_REQUEST_FRAME_BYTES = 64;
/** A client that sends no request for this long has its stream closed. */
const REQUEST_IDLE_TIMEOUT_MS = 30_000;

export class SyncServer {
  private readonly failureWarning: ThrottledWarning;
  private readonly active = new Set<Stream>();

  constructor(
    private readonly store: Pick<EnvelopeStore, "readSince">,
    private readonly logger: NetworkLogger,
  ) {
    this.failureWarning = new ThrottledWarning(logger, "sync request failed");
  }

  /** A libp2p stream handler for SYNC_PROTOCOL. */
  readonly handle = async (stream: Stream): Promise<void> => {
    this.active.add(stream);
    const framed = new FramedStream(stream, MAX_REQUEST_FRAME_BYTES);
    try {
      for (;;) {
        const requestBytes = await framed.read(REQUEST_IDLE_TIMEOUT_MS);
        if (!requestBytes) break;
        let request;
        try {
          request = decodeSyncRequest(requestBytes);
        } catch (error) {
          await framed.write(encodeSyncFrame({ kind: "error", message: `malformed sync request: ${String(error)}` }));
          break;
        }
        const limit = request.limit === 0 ? DEFAULT_SYNC_PAGE_SIZE : Math.min(request.limit, MAX_SYNC_PAGE_SIZE);
        await this.sendPage(framed, request.afterSequence, limit);
      }
      await stream.close();
    } catch (error) {
      this.failureWarning.warn({ error: String(error) });
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.active.delete(stream);
    }
  };

  private async sendPage(framed: FramedStream, afterSequence: bigint, limit: number): Promise<void> {
    let position = afterSequence;
    let sent = 0;
    let bytes = 0;
    let caughtUp = false;
    while (sent < limit && bytes < PAGE_BYTE_BUDGET) {
      const chunkSize = Math.min(STORE_READ_CHUNK, limit - sent);
      const chunk = await this.store.readSince(position, chunkSize);
      for (const envelope of chunk.envelopes) {
        await framed.queue(encodeSyncFrame({ kind: "envelope", envelope }));
        bytes += envelope.message.length;
      }
      sent += chunk.envelopes.length;
      position = chunk.nextSequence;
      if (chunk.envelopes.length < chunkSize) {
        caughtUp = true;
        break;
      }
    }
    await framed.queue(encodeSyncFrame({ kind: "pageEnd", nextSequence: position, caughtUp }));
    await framed.flush();
  }

  /** Ends every stream still being served (used at shutdown, before the store closes). */
  abortAll(): void {
    for (const stream of this.active) stream.abort(new Error("node is shutting down"));
    this.active.clear();
  }
}
