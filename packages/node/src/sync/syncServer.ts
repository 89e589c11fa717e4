// Serving side of /xmtp-ts/sync/1.0.0. For each request: read a page of the store in arrival order after the
// requested sequence, offer it by digest, then send the envelopes the client wants and a page end.
import type { Stream } from "@libp2p/interface";
import type { EnvelopeStore, StoredEnvelope } from "../store/EnvelopeStore.js";
import { ThrottledWarning, type NetworkLogger } from "../relay/logger.js";
import { FramedStream } from "./framedStream.js";
import { decodeClientFrame, encodeServerFrame, isWanted, type ClientFrame } from "./syncMessages.js";

/** The most envelopes one page may hold, whatever the client asks for. */
export const MAX_SYNC_PAGE_SIZE = 1000;
export const DEFAULT_SYNC_PAGE_SIZE = 1000;
/**
 * A page is read from the store in chunks of this many envelopes and ends early once its messages reach
 * PAGE_BYTE_BUDGET, so serving a page of large envelopes holds at most one chunk in memory beyond the budget.
 */
const STORE_READ_CHUNK = 100;
/** Store reads are synchronous (SQLite): between chunks the server lets the relay and the API run. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const PAGE_BYTE_BUDGET = 4 * 1024 * 1024;
/** A request is tiny; a want bitmap has one bit per envelope of a page. */
const MAX_CLIENT_FRAME_BYTES = 64 + MAX_SYNC_PAGE_SIZE / 8;
/** A client that sends nothing for this long has its stream closed. */
const CLIENT_IDLE_TIMEOUT_MS = 30_000;

export class SyncServer {
  private readonly failureWarning: ThrottledWarning;
  private readonly active = new Set<Stream>();

  constructor(
    private readonly store: Pick<EnvelopeStore, "readSince">,
    logger: NetworkLogger,
  ) {
    this.failureWarning = new ThrottledWarning(logger, "sync request failed");
  }

  /** A libp2p stream handler for SYNC_PROTOCOL. */
  readonly handle = async (stream: Stream): Promise<void> => {
    this.active.add(stream);
    const framed = new FramedStream(stream, MAX_CLIENT_FRAME_BYTES);
    try {
      for (;;) {
        const request = await this.readClientFrame(framed);
        if (!request) break;
        if (request.kind !== "request") throw new SyncRequestError("expected a request, got a want");
        const limit = request.limit === 0 ? DEFAULT_SYNC_PAGE_SIZE : Math.min(request.limit, MAX_SYNC_PAGE_SIZE);
        await this.servePage(framed, request.afterSequence, limit);
      }
      await stream.close();
    } catch (error) {
      this.failureWarning.warn({ error: String(error) });
      if (error instanceof SyncRequestError) {
        // Tell the client why before giving up on the stream; it may be a newer or buggy implementation.
        await framed.write(encodeServerFrame({ kind: "error", message: error.message })).catch(() => {});
        await stream.close().catch(() => {});
      } else {
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      this.active.delete(stream);
    }
  };

  /** Ends every stream still being served (used at shutdown, before the store closes). */
  abortAll(): void {
    for (const stream of this.active) stream.abort(new Error("node is shutting down"));
    this.active.clear();
  }

  private async readClientFrame(framed: FramedStream): Promise<ClientFrame | undefined> {
    const bytes = await framed.read(CLIENT_IDLE_TIMEOUT_MS);
    if (!bytes) return undefined;
    try {
      return decodeClientFrame(bytes);
    } catch (error) {
      throw new SyncRequestError(`malformed sync request: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async servePage(framed: FramedStream, afterSequence: bigint, limit: number): Promise<void> {
    const page = await this.readPage(afterSequence, limit);
    await framed.write(
      encodeServerFrame({
        kind: "offer",
        digests: page.envelopes.map((envelope) => envelope.digest),
        nextSequence: page.nextSequence,
        caughtUp: page.caughtUp,
      }),
    );
    if (page.envelopes.length > 0) {
      const want = await this.readClientFrame(framed);
      if (!want) throw new SyncRequestError("stream ended before the want for an offered page");
      if (want.kind !== "want") throw new SyncRequestError("expected a want for the offered page, got a request");
      const expectedBytes = Math.ceil(page.envelopes.length / 8);
      if (want.bitmap.length !== expectedBytes) {
        throw new SyncRequestError(`want bitmap has ${want.bitmap.length} bytes; the offer of ${page.envelopes.length} needs ${expectedBytes}`);
      }
      for (let i = 0; i < page.envelopes.length; i++) {
        if (isWanted(want.bitmap, i)) await framed.queue(encodeServerFrame({ kind: "envelope", envelope: page.envelopes[i] }));
      }
    }
    await framed.queue(encodeServerFrame({ kind: "pageEnd" }));
    await framed.flush();
  }

  private async readPage(
    afterSequence: bigint,
    limit: number,
  ): Promise<{ envelopes: StoredEnvelope[]; nextSequence: bigint; caughtUp: boolean }> {
    const envelopes: StoredEnvelope[] = [];
    let position = afterSequence;
    let bytes = 0;
    let caughtUp = false;
    while (envelopes.length < limit && bytes < PAGE_BYTE_BUDGET) {
      // A periodic pass after a burst reads thousands of envelopes; read in one go, they held up relaying and
      // streaming on this node for as long (visible in the benchmark's propagation p99 right after its burst).
      if (envelopes.length > 0) await yieldToEventLoop();
      const chunkSize = Math.min(STORE_READ_CHUNK, limit - envelopes.length);
      const chunk = await this.store.readSince(position, chunkSize);
      for (const envelope of chunk.envelopes) {
        envelopes.push(envelope);
        bytes += envelope.message.length;
      }
      position = chunk.nextSequence;
      if (chunk.envelopes.length < chunkSize) {
        caughtUp = true;
        break;
      }
    }
    return { envelopes, nextSequence: position, caughtUp };
  }
}

/** The client broke the protocol; answered with an error frame. */
class SyncRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncRequestError";
  }
}
