// Pulling side of /xmtp-ts/sync/1.0.0: pages through a peer's store from a remembered sequence until the peer says
// it is caught up. Each page is offered by digest first, and only envelopes this node does not already have cross
// the wire, so the periodic pass costs 32 bytes per envelope that gossip already delivered. The frames and the
// exchange are specified in proto/xmtp-ts/sync/v1/sync.proto.
import type { Stream } from "@libp2p/interface";
import { equalBytes } from "@xmtp-ts/crypto";
import type { StoredEnvelope } from "../store/EnvelopeStore.js";
import { envelopeDigest } from "../store/digest.js";
import { MAX_RELAYED_MESSAGE_BYTES, relayEnvelopeProblem } from "../p2p/validation.js";
import { FramedStream } from "../p2p/framedStream.js";
import { decodeServerFrame, encodeClientFrame, encodeWantBitmap, type ServerFrame } from "./syncMessages.js";
import { MAX_SYNC_PAGE_SIZE, PAGE_BYTE_BUDGET } from "./syncServer.js";

/** An envelope frame holds at most a 1 MiB message plus its topic and framing; an offer at most 32 KiB of digests. */
const MAX_RESPONSE_FRAME_BYTES = MAX_RELAYED_MESSAGE_BYTES + 4096;
/**
 * The most message bytes a page's envelopes may carry: a server ends a page with the envelope whose message reaches
 * PAGE_BYTE_BUDGET, so an honest page holds less than that plus one message. The client keeps a page's envelopes
 * until its end, so a peer sending more (an offer it inflated, or envelopes without end) is refused rather than
 * buffered.
 */
const MAX_PAGE_MESSAGE_BYTES = PAGE_BYTE_BUDGET + MAX_RELAYED_MESSAGE_BYTES;

export class SyncProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncProtocolError";
  }
}

export interface SyncPage {
  /** Envelopes received that passed validation, in the peer's arrival order, with the digests they were checked against. */
  envelopes: StoredEnvelope[];
  /** How many the peer sent that failed validation and were dropped. */
  rejected: number;
  /** How many the peer offered that this node already had, so were not transferred. */
  skipped: number;
  nextSequence: bigint;
  /** The peer had nothing after nextSequence when it answered. */
  caughtUp: boolean;
}

export interface PullOptions {
  afterSequence: bigint;
  pageSize: number;
  /** Per-page time limit; a peer that stalls longer is given up on for this round. */
  pageTimeoutMs: number;
  /** True for a digest this node has stored; those envelopes are not requested. A fast check (recent digests). */
  isKnown(digest: Uint8Array): boolean;
  /** The store's answer for the digests `isKnown` did not know, all of one offer at once (EnvelopeStore.hasDigests). */
  lookUp?(digests: readonly Uint8Array[]): Promise<boolean[]>;
  /** Called for each page, in order; the position is the caller's to record once the page is stored. */
  onPage(page: SyncPage): Promise<void>;
}

/**
 * Returns the sequence reached. The request for the next page goes out as soon as a page's offer has arrived, so
 * the peer reads page n+1 while this node is still receiving page n; and page n is committed (onPage) while page
 * n+1 is being received, at most one page behind. The stream is closed (or aborted on error) before this settles.
 */
export async function pullFromPeer(stream: Stream, options: PullOptions): Promise<bigint> {
  const framed = new FramedStream(stream, MAX_RESPONSE_FRAME_BYTES);
  const pageSize = Math.min(Math.max(1, options.pageSize), MAX_SYNC_PAGE_SIZE);
  let after = options.afterSequence;
  let committing: Promise<void> = Promise.resolve();
  try {
    await framed.write(encodeClientFrame({ kind: "request", afterSequence: after, limit: pageSize }));
    for (;;) {
      const deadline = Date.now() + options.pageTimeoutMs;
      const offer = await readFrame(framed, deadline);
      if (offer.kind !== "offer") throw new SyncProtocolError(`expected a page offer, got ${offer.kind}`);
      if (offer.nextSequence < after) {
        throw new SyncProtocolError(`peer went back from sequence ${after} to ${offer.nextSequence}`);
      }
      if (offer.digests.length > pageSize) {
        throw new SyncProtocolError(`peer offered ${offer.digests.length} envelopes for a page of at most ${pageSize}`);
      }
      const wanted = offer.digests.map((digest) => !options.isKnown(digest));
      if (options.lookUp) {
        const unknown = wanted.flatMap((want, i) => (want ? [i] : []));
        if (unknown.length > 0) {
          const stored = await options.lookUp(unknown.map((i) => offer.digests[i]));
          unknown.forEach((i, j) => (wanted[i] = !stored[j]));
        }
      }
      if (offer.digests.length > 0) {
        await framed.queue(encodeClientFrame({ kind: "want", bitmap: encodeWantBitmap(wanted.length, (i) => wanted[i]) }));
      }
      const more = !offer.caughtUp && offer.nextSequence > after;
      if (more) await framed.queue(encodeClientFrame({ kind: "request", afterSequence: offer.nextSequence, limit: pageSize }));
      await framed.flush();

      const page: SyncPage = {
        envelopes: [],
        rejected: 0,
        skipped: wanted.filter((want) => !want).length,
        nextSequence: offer.nextSequence,
        caughtUp: offer.caughtUp,
      };
      let pageBytes = 0;
      for (let i = 0; i < offer.digests.length; i++) {
        if (!wanted[i]) continue;
        const frame = await readFrame(framed, deadline);
        if (frame.kind !== "envelope") throw new SyncProtocolError(`expected envelope ${i} of the offer, got ${frame.kind}`);
        const envelope = frame.envelope;
        pageBytes += envelope.message.length;
        if (pageBytes > MAX_PAGE_MESSAGE_BYTES) {
          throw new SyncProtocolError(`peer sent more than ${MAX_PAGE_MESSAGE_BYTES} bytes of messages in one page`);
        }
        const digest = envelopeDigest(envelope.contentTopic, envelope.message);
        if (!equalBytes(digest, offer.digests[i])) {
          throw new SyncProtocolError(`envelope ${i} does not match the digest the peer offered`);
        }
        if (relayEnvelopeProblem(envelope)) page.rejected++;
        else page.envelopes.push({ ...envelope, digest });
      }
      const end = await readFrame(framed, deadline);
      if (end.kind !== "pageEnd") throw new SyncProtocolError(`expected the page end, got ${end.kind}`);
      await committing;
      committing = options.onPage(page);
      // Marked handled here; the rejection is still thrown by the next await of `committing`.
      committing.catch(() => {});
      after = offer.nextSequence;
      if (!more) break;
    }
    await committing;
    await stream.close();
    return after;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

async function readFrame(framed: FramedStream, deadline: number): Promise<ServerFrame> {
  const bytes = await framed.read(Math.max(1, deadline - Date.now()));
  if (!bytes) throw new SyncProtocolError("peer closed the sync stream in the middle of a page");
  const frame = decodeServerFrame(bytes);
  if (frame.kind === "error") throw new SyncProtocolError(`peer reported: ${frame.message}`);
  return frame;
}
