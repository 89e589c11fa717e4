// Serving side of /xmtp-ts/sync/1.0.0. For each request: read a page of the store in arrival order after the
// requested sequence, offer it by digest, then send the envelopes the client wants and a page end. The frames and
// the exchange are specified in proto/xmtp-ts/sync/v1/sync.proto.
import type { Stream } from "@libp2p/interface";
import { reachTopicKind } from "@xmtp-ts/postage";
import type { DigestPage, EnvelopeStore, StoredEnvelope } from "../store/EnvelopeStore.js";
import type { PostageLedger } from "../store/postageLedger.js";
import { ThrottledWarning, type NetworkLogger } from "../p2p/logger.js";
import { FramedStream } from "../p2p/framedStream.js";
import { decodeClientFrame, encodeServerFrame, isWanted, type ClientFrame } from "./syncMessages.js";

/** The most envelopes one page may hold, whatever the client asks for. */
export const MAX_SYNC_PAGE_SIZE = 1000;
export const DEFAULT_SYNC_PAGE_SIZE = 1000;
/**
 * Wanted envelopes are read from the store in chunks of at most this many envelopes and, past the first envelope,
 * this many message bytes: small envelopes go in large reads, and a page of large ones (up to 1 MiB each) holds
 * about one chunk in memory while it is sent.
 */
const ENVELOPE_READ_CHUNK = 200;
const ENVELOPE_READ_CHUNK_BYTES = 1024 * 1024;
/**
 * A page ends early, with the envelope whose message reaches this many bytes, so that a page of large envelopes
 * stays small for the client too, which holds a page's envelopes until its end before storing them.
 */
export const PAGE_BYTE_BUDGET = 4 * 1024 * 1024;
/** Store reads are synchronous (SQLite): between chunks the server lets the relay and the API run. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
/** A request is tiny; a want bitmap has one bit per envelope of a page. */
const MAX_CLIENT_FRAME_BYTES = 64 + MAX_SYNC_PAGE_SIZE / 8;
/** A client that sends nothing for this long has its stream closed. */
const CLIENT_IDLE_TIMEOUT_MS = 30_000;
/**
 * Sync streams one connection may have open with us at once (libp2p's default is 32 per protocol). A client pulls
 * over one stream at a time; the slack covers a stream still closing when the next pull starts. Each stream holds at
 * most one read chunk and one send batch (about 1.3 MiB), so a peer can make us buffer about 5 MiB per connection.
 */
export const MAX_INBOUND_SYNC_STREAMS = 4;

export class SyncServer {
  private readonly failureWarning: ThrottledWarning;
  private readonly active = new Set<Stream>();

  constructor(
    private readonly store: Pick<EnvelopeStore, "readDigestsSince" | "readBySequence">,
    logger: NetworkLogger,
    /** Where the postage proofs of reach-topic envelopes are kept; without it envelopes are sent without proofs. */
    private readonly proofs?: Pick<PostageLedger, "readProofs">,
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
    // Digests only: the client usually has every envelope already (gossip delivered it), so the offer is all that
    // most pages cost, and reading just (seq, digest) rows makes the periodic pass cheap for the serving node.
    const page = withinByteBudget(await this.store.readDigestsSince(afterSequence, limit));
    const caughtUp = !page.cut && page.digests.length < limit;
    await framed.write(encodeServerFrame({ kind: "offer", digests: page.digests, nextSequence: page.nextSequence, caughtUp }));
    if (page.digests.length > 0) {
      const want = await this.readClientFrame(framed);
      if (!want) throw new SyncRequestError("stream ended before the want for an offered page");
      if (want.kind !== "want") throw new SyncRequestError("expected a want for the offered page, got a request");
      const expectedBytes = Math.ceil(page.digests.length / 8);
      if (want.bitmap.length !== expectedBytes) {
        throw new SyncRequestError(`want bitmap has ${want.bitmap.length} bytes; the offer of ${page.digests.length} needs ${expectedBytes}`);
      }
      let chunk: bigint[] = [];
      let chunkBytes = 0;
      const sendChunk = async () => {
        // Envelopes are never deleted, so every offered one is still there; the client checks each against its digest.
        for (const envelope of await this.withProofs(await this.store.readBySequence(chunk))) {
          await framed.queue(encodeServerFrame({ kind: "envelope", envelope }));
        }
        chunk = [];
        chunkBytes = 0;
        await yieldToEventLoop();
      };
      for (let i = 0; i < page.sequences.length; i++) {
        if (!isWanted(want.bitmap, i)) continue;
        if (chunk.length >= ENVELOPE_READ_CHUNK || (chunk.length > 0 && chunkBytes + page.messageBytes[i] > ENVELOPE_READ_CHUNK_BYTES)) {
          await sendChunk();
        }
        chunk.push(page.sequences[i]);
        chunkBytes += page.messageBytes[i];
      }
      if (chunk.length > 0) await sendChunk();
    }
    await framed.queue(encodeServerFrame({ kind: "pageEnd" }));
    await framed.flush();
  }

  /** The envelopes with the postage proofs stored beside them: only reach-topic envelopes can have one. */
  private async withProofs(envelopes: StoredEnvelope[]): Promise<StoredEnvelope[]> {
    const ledger = this.proofs;
    const reach = envelopes.filter((e) => reachTopicKind(e.contentTopic) !== undefined);
    if (!ledger || reach.length === 0) return envelopes;
    const proofs = await ledger.readProofs(reach.map((e) => e.digest));
    if (proofs.size === 0) return envelopes;
    return envelopes.map((e) => {
      const postage = proofs.get(Buffer.from(e.digest.buffer, e.digest.byteOffset, e.digest.byteLength).toString("hex"));
      return postage ? { ...e, postage } : e;
    });
  }
}

/** The page up to the envelope whose message reaches PAGE_BYTE_BUDGET; `cut` when that left some out. */
function withinByteBudget(page: DigestPage): DigestPage & { cut: boolean } {
  let bytes = 0;
  for (let i = 0; i < page.messageBytes.length - 1; i++) {
    bytes += page.messageBytes[i];
    if (bytes >= PAGE_BYTE_BUDGET) {
      const end = i + 1;
      return {
        sequences: page.sequences.slice(0, end),
        digests: page.digests.slice(0, end),
        messageBytes: page.messageBytes.slice(0, end),
        nextSequence: page.sequences[i],
        cut: true,
      };
    }
  }
  return { ...page, cut: false };
}

/** The client broke the protocol; answered with an error frame. */
class SyncRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncRequestError";
  }
}
