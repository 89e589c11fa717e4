// Pulling side of /xmtp-ts/sync/1.0.0: pages through a peer's store from a remembered sequence until a short page
// says there is nothing more, handing each page to the caller before asking for the next one.
import type { Stream } from "@libp2p/interface";
import type { Envelope } from "../store/EnvelopeStore.js";
import { MAX_RELAYED_MESSAGE_BYTES, relayEnvelopeProblem } from "../relay/validation.js";
import { FramedStream } from "./framedStream.js";
import { decodeSyncFrame, encodeSyncRequest } from "./syncMessages.js";

/** An envelope frame holds at most a 1 MiB message plus its topic and framing. */
const MAX_RESPONSE_FRAME_BYTES = MAX_RELAYED_MESSAGE_BYTES + 4096;

export class SyncProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncProtocolError";
  }
}

export interface SyncPage {
  /** Envelopes that passed validation, in the peer's arrival order. */
  envelopes: Envelope[];
  /** How many envelopes the peer sent that failed validation and were dropped. */
  rejected: number;
  nextSequence: bigint;
  /** The peer had nothing after nextSequence when it answered. */
  caughtUp: boolean;
}

export interface PullOptions {
  afterSequence: bigint;
  pageSize: number;
  /** Per-page time limit; a peer that stalls longer is given up on for this round. */
  pageTimeoutMs: number;
  /** Called for each page, in order; the next page is requested only after it resolves. */
  onPage(page: SyncPage): Promise<void>;
}

/**
 * Returns the sequence reached. The request for the next page goes out as soon as a page has arrived, so the peer
 * reads and sends page n+1 while this node is still committing page n. The stream is closed (or aborted on error)
 * before this settles.
 */
export async function pullFromPeer(stream: Stream, options: PullOptions): Promise<bigint> {
  const framed = new FramedStream(stream, MAX_RESPONSE_FRAME_BYTES);
  let after = options.afterSequence;
  try {
    await framed.write(encodeSyncRequest({ afterSequence: after, limit: options.pageSize }));
    for (;;) {
      const page = await readPage(framed, options.pageTimeoutMs);
      if (page.nextSequence < after) {
        throw new SyncProtocolError(`peer went back from sequence ${after} to ${page.nextSequence}`);
      }
      const more = !page.caughtUp && page.nextSequence > after;
      after = page.nextSequence;
      if (more) await framed.write(encodeSyncRequest({ afterSequence: after, limit: options.pageSize }));
      await options.onPage(page);
      if (!more) break;
    }
    await stream.close();
    return after;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

async function readPage(framed: FramedStream, timeoutMs: number): Promise<SyncPage> {
  const envelopes: Envelope[] = [];
  let rejected = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bytes = await framed.read(Math.max(1, deadline - Date.now()));
    if (!bytes) throw new SyncProtocolError("peer closed the sync stream in the middle of a page");
    const frame = decodeSyncFrame(bytes);
    if (frame.kind === "error") throw new SyncProtocolError(`peer reported: ${frame.message}`);
    if (frame.kind === "pageEnd") {
      return { envelopes, rejected, nextSequence: frame.nextSequence, caughtUp: frame.caughtUp };
    }
    if (relayEnvelopeProblem(frame.envelope)) rejected++;
    else envelopes.push(frame.envelope);
  }
}
