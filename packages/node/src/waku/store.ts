// Waku Store v3 (RFC 13): light nodes read stored envelopes by content topics and a time range, or by message
// hashes, a page at a time. The cursor is the RFC 14 hash of the last message of a page, which the stores index
// (see waku/messageHash.ts). Reads are open on the HTTP API, so they are here too, under the same read rate limit
// (per peer and per address, one token per content topic) and the node's page byte budget.
import type { Stream, Connection } from "@libp2p/interface";
import { create, fromBinary, toBinary, wakuStoreV3 } from "@xmtp-ts/proto";
import { WakuCursorNotFoundError, type WakuEnvelopeStore, type WakuStoredEnvelope } from "../store/EnvelopeStore.js";
import { isStoreUnavailable } from "../store/storeErrors.js";
import { isEphemeralTopic } from "../ingest.js";
import { relayTopicProblem } from "../p2p/validation.js";
import type { BucketPolicy } from "../security/rateLimiter.js";
import { serveOneRequest, type RequestResponseLogger } from "./requestResponse.js";
import { RemoteRateLimits, type RemoteEnd } from "./remoteEnd.js";

export const STORE_PROTOCOL = "/vac/waku/store-query/3.0.0";
/** js-waku's default page size; a request without a limit gets it. */
export const DEFAULT_STORE_PAGE_SIZE = 20;
export const MAX_STORE_PAGE_SIZE = 100;
export const MAX_STORE_CONTENT_TOPICS = 50;
export const MAX_STORE_HASHES = 100;
const MAX_REQUEST_BYTES = 64 * 1024;
const SINT64_MAX = (1n << 63n) - 1n;

export interface StoreServiceOptions {
  store: Pick<WakuEnvelopeStore, "queryWaku" | "readByWakuHashes">;
  /** The pubsub topics a request may name (our shard's, and the legacy named topic). */
  acceptedPubsubTopics: ReadonlySet<string>;
  /** The pubsub topic answers carry for each message. */
  pubsubTopic: string;
  /** Message bytes in one page (the node's --max-page-bytes). */
  maxPageBytes: number;
  rateLimits: { enabled: boolean; read: BucketPolicy };
  logger: RequestResponseLogger;
}

interface Outcome {
  status: number;
  description?: string;
  envelopes?: WakuStoredEnvelope[];
  cursor?: Uint8Array;
}

export class StoreService {
  private readonly limits = new RemoteRateLimits();

  constructor(private readonly options: StoreServiceOptions) {}

  readonly handle = (stream: Stream, connection: Connection): Promise<void> =>
    serveOneRequest(stream, MAX_REQUEST_BYTES, (bytes) => this.answer(bytes, connection), this.options.logger, STORE_PROTOCOL);

  /** The encoded response to an encoded StoreQueryRequest; never throws. */
  async answer(bytes: Uint8Array, remote: RemoteEnd): Promise<Uint8Array> {
    let requestId = "";
    let includeData = false;
    let outcome: Outcome;
    try {
      const request = fromBinary(wakuStoreV3.StoreQueryRequestSchema, bytes);
      requestId = request.requestId;
      includeData = request.includeData;
      outcome = await this.query(request, remote);
    } catch (error) {
      outcome = { status: 400, description: `malformed store request: ${error instanceof Error ? error.message : String(error)}` };
    }
    return toBinary(
      wakuStoreV3.StoreQueryResponseSchema,
      create(wakuStoreV3.StoreQueryResponseSchema, {
        requestId,
        statusCode: outcome.status,
        statusDesc: outcome.description,
        messages: (outcome.envelopes ?? []).map((envelope) => ({
          messageHash: envelope.wakuHash,
          pubsubTopic: this.options.pubsubTopic,
          message: includeData
            ? {
                payload: envelope.message,
                contentTopic: envelope.contentTopic,
                timestamp: envelope.timestampNs,
                ephemeral: isEphemeralTopic(envelope.contentTopic) || undefined,
              }
            : undefined,
        })),
        paginationCursor: outcome.cursor,
      }),
    );
  }

  private async query(request: wakuStoreV3.StoreQueryRequest, remote: RemoteEnd): Promise<Outcome> {
    const pubsubTopic = request.pubsubTopic;
    if (pubsubTopic !== undefined && pubsubTopic !== "" && !this.options.acceptedPubsubTopics.has(pubsubTopic)) {
      return { status: 400, description: `pubsub topic ${pubsubTopic} is not served here; use one of ${[...this.options.acceptedPubsubTopics].join(", ")}` };
    }
    const byHash = request.messageHashes.length > 0;
    const cost = byHash ? 1 : request.contentTopics.length;
    if (byHash) {
      if (request.messageHashes.length > MAX_STORE_HASHES) {
        return { status: 400, description: `${request.messageHashes.length} message hashes in one request, at most ${MAX_STORE_HASHES}` };
      }
      if (request.messageHashes.some((hash) => hash.length !== 32)) return { status: 400, description: "a message hash is not 32 bytes" };
    } else {
      const topics = request.contentTopics;
      if (topics.length === 0) return { status: 400, description: "the request names no content topic (queries of a whole shard are not served)" };
      if (topics.length > MAX_STORE_CONTENT_TOPICS) {
        return { status: 400, description: `${topics.length} content topics in one request, at most ${MAX_STORE_CONTENT_TOPICS}` };
      }
      for (const topic of topics) {
        const problem = relayTopicProblem(topic);
        if (problem) return { status: 400, description: `content topic ${JSON.stringify(topic)}: ${problem}` };
      }
      if (request.paginationCursor !== undefined && request.paginationCursor.length !== 32) {
        return { status: 400, description: "the pagination cursor is not a 32-byte message hash" };
      }
    }
    const limited = this.rateLimited(remote, cost);
    if (limited) return limited;
    try {
      if (byHash) return { status: 200, envelopes: await this.options.store.readByWakuHashes(request.messageHashes) };
      const requested = request.paginationLimit === undefined || request.paginationLimit === 0n ? DEFAULT_STORE_PAGE_SIZE : request.paginationLimit;
      const page = await this.options.store.queryWaku({
        contentTopics: request.contentTopics,
        startTimeNs: clampTime(request.timeStart),
        endTimeNs: clampTime(request.timeEnd),
        direction: request.paginationForward ? "ascending" : "descending",
        limit: Number(requested > BigInt(MAX_STORE_PAGE_SIZE) ? BigInt(MAX_STORE_PAGE_SIZE) : requested),
        cursor: request.paginationCursor,
        maxBytes: this.options.maxPageBytes,
      });
      // A backward page is answered oldest first, as Waku store nodes do: js-waku takes the first message's hash as
      // the cursor of the next (older) page. The pagination cursor, the page's oldest, is the same hash.
      const envelopes = request.paginationForward ? page.envelopes : [...page.envelopes].reverse();
      return { status: 200, envelopes, cursor: page.cursor };
    } catch (error) {
      if (error instanceof WakuCursorNotFoundError) return { status: 400, description: error.message };
      if (isStoreUnavailable(error)) return { status: 503, description: `storage unavailable, retry later: ${error.message}` };
      this.options.logger.warn({ protocol: STORE_PROTOCOL, error: String(error) });
      return { status: 500, description: "internal error" };
    }
  }

  private rateLimited(remote: RemoteEnd, cost: number): Outcome | undefined {
    const { enabled, read } = this.options.rateLimits;
    const refused = enabled ? this.limits.take(remote, read, cost) : undefined;
    if (!refused) return undefined;
    return { status: 429, description: `rate limit exceeded: too many store queries from ${refused.who}; retry in ${refused.retryAfterSeconds} s` };
  }

}

/** Store timestamps are sint64 on the wire; stored ones are uint64. A negative bound means "from the start". */
function clampTime(value: bigint | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (value < 0n) return 0n;
  return value > SINT64_MAX ? SINT64_MAX : value;
}
