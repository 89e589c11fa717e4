// Waku Filter v2 (RFC 12): light nodes subscribe to content topics and we push each matching envelope to them, from
// the same live fan-out (SubscriptionHub) that feeds HTTP /subscribe streams. Subscriptions belong to a peer id: they
// end when the peer unsubscribes or disconnects, or when it falls too far behind (pushes queue per peer, bounded like
// an HTTP stream's buffer). Reads need no token on the HTTP API, so none is needed here either; the subscribe rate
// limit and per-peer topic caps apply.
import type { Connection, PeerId, Stream } from "@libp2p/interface";
import { create, fromBinary, toBinary, wakuFilterV2 } from "@xmtp-ts/proto";
import type { EnvelopeListener, Unsubscribe } from "../hub.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import { isEphemeralTopic } from "../ingest.js";
import { relayTopicProblem } from "../p2p/validation.js";
import { RateLimiter, type BucketPolicy } from "../security/rateLimiter.js";
import { encodeLengthPrefix } from "../p2p/protobufWire.js";
import { serveOneRequest, type RequestResponseLogger } from "./requestResponse.js";
import type { RemoteEnd } from "./remoteEnd.js";

export const FILTER_SUBSCRIBE_PROTOCOL = "/vac/waku/filter-subscribe/2.0.0-beta1";
export const FILTER_PUSH_PROTOCOL = "/vac/waku/filter-push/2.0.0-beta1";

const SubscribeType = wakuFilterV2.FilterSubscribeRequest_FilterSubscribeType;
/** RFC 12 allows at most 100 content topics in one request. */
export const MAX_TOPICS_PER_REQUEST = 100;
export const MAX_TOPICS_PER_PEER = 1_000;
export const MAX_SUBSCRIBED_PEERS = 10_000;
/** Pushes waiting for one peer; past this the peer is too slow and its subscription ends. */
export const MAX_PENDING_PUSH_BYTES = 4 * 1024 * 1024;
const MAX_REQUEST_BYTES = 64 * 1024;

export interface FilterHub {
  subscribe(topics: Iterable<string>, listener: EnvelopeListener): Unsubscribe;
}

export interface FilterOptions {
  hub: FilterHub;
  /** The pubsub topics a request may name (our shard's, and the legacy named topic). */
  acceptedPubsubTopics: ReadonlySet<string>;
  /** The pubsub topic pushes carry. */
  pushPubsubTopic: string;
  /** Opens a push stream to a subscriber over its existing connection. */
  openPushStream: (peer: PeerId) => Promise<Stream>;
  rateLimits: { enabled: boolean; subscribe: BucketPolicy };
  logger: RequestResponseLogger;
}

interface Subscription {
  peer: PeerId;
  topics: Set<string>;
  unsubscribe: Unsubscribe;
  queue: Envelope[];
  queuedBytes: number;
  pushing: boolean;
}

export class FilterService {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly limiter = new RateLimiter();

  constructor(private readonly options: FilterOptions) {}

  get subscribedPeers(): number {
    return this.subscriptions.size;
  }

  topicsOf(peer: string): string[] {
    return [...(this.subscriptions.get(peer)?.topics ?? [])];
  }

  readonly handleSubscribe = (stream: Stream, connection: Connection): Promise<void> =>
    serveOneRequest(stream, MAX_REQUEST_BYTES, (bytes) => this.answer(bytes, connection), this.options.logger, FILTER_SUBSCRIBE_PROTOCOL);

  /** The peer is gone: its subscription ends. */
  peerGone(peer: string): void {
    this.end(peer);
  }

  stop(): void {
    for (const peer of [...this.subscriptions.keys()]) this.end(peer);
  }

  /** The encoded response to an encoded FilterSubscribeRequest; never throws. */
  async answer(bytes: Uint8Array, connection: RemoteEnd): Promise<Uint8Array> {
    let requestId = "";
    let outcome: { status: number; description?: string };
    try {
      const request = fromBinary(wakuFilterV2.FilterSubscribeRequestSchema, bytes);
      requestId = request.requestId;
      outcome = this.apply(request, connection);
    } catch (error) {
      outcome = { status: 400, description: `malformed filter request: ${error instanceof Error ? error.message : String(error)}` };
    }
    return toBinary(
      wakuFilterV2.FilterSubscribeResponseSchema,
      create(wakuFilterV2.FilterSubscribeResponseSchema, { requestId, statusCode: outcome.status, statusDesc: outcome.description }),
    );
  }

  private apply(request: wakuFilterV2.FilterSubscribeRequest, connection: RemoteEnd): { status: number; description?: string } {
    const peer = connection.remotePeer.toString();
    const type = request.filterSubscribeType;
    if (type === SubscribeType.SUBSCRIBER_PING) {
      return this.subscriptions.has(peer) ? { status: 200 } : { status: 404, description: "no subscription for this peer" };
    }
    if (type === SubscribeType.UNSUBSCRIBE_ALL) {
      this.end(peer);
      return { status: 200 };
    }
    if (type !== SubscribeType.SUBSCRIBE && type !== SubscribeType.UNSUBSCRIBE) {
      return { status: 400, description: `unknown filter request type ${type}` };
    }
    const pubsubTopic = request.pubsubTopic;
    if (pubsubTopic !== undefined && pubsubTopic !== "" && !this.options.acceptedPubsubTopics.has(pubsubTopic)) {
      return { status: 400, description: `pubsub topic ${pubsubTopic} is not served here; use one of ${[...this.options.acceptedPubsubTopics].join(", ")}` };
    }
    const topics = request.contentTopics;
    if (topics.length === 0) return { status: 400, description: "the request names no content topic" };
    if (topics.length > MAX_TOPICS_PER_REQUEST) {
      return { status: 400, description: `${topics.length} content topics in one request, at most ${MAX_TOPICS_PER_REQUEST}` };
    }
    for (const topic of topics) {
      const problem = relayTopicProblem(topic);
      if (problem) return { status: 400, description: `content topic ${JSON.stringify(topic)}: ${problem}` };
    }
    if (type === SubscribeType.UNSUBSCRIBE) {
      const subscription = this.subscriptions.get(peer);
      if (!subscription) return { status: 404, description: "no subscription for this peer" };
      for (const topic of topics) subscription.topics.delete(topic);
      if (subscription.topics.size === 0) this.end(peer);
      else this.resubscribe(subscription);
      return { status: 200 };
    }
    const { enabled, subscribe } = this.options.rateLimits;
    if (enabled) {
      const decision = this.limiter.take(peer, subscribe);
      if (!decision.allowed) {
        return { status: 429, description: `rate limit exceeded: too many subscribe requests from peer ${peer}; retry in ${decision.retryAfterSeconds} s` };
      }
    }
    let subscription = this.subscriptions.get(peer);
    if (!subscription && this.subscriptions.size >= MAX_SUBSCRIBED_PEERS) {
      return { status: 503, description: `this node serves filter subscriptions for at most ${MAX_SUBSCRIBED_PEERS} peers` };
    }
    const merged = new Set([...(subscription?.topics ?? []), ...topics]);
    if (merged.size > MAX_TOPICS_PER_PEER) {
      return { status: 400, description: `${merged.size} content topics for one peer, at most ${MAX_TOPICS_PER_PEER}` };
    }
    if (!subscription) {
      subscription = { peer: connection.remotePeer, topics: merged, unsubscribe: () => {}, queue: [], queuedBytes: 0, pushing: false };
      this.subscriptions.set(peer, subscription);
    } else {
      subscription.topics = merged;
    }
    this.resubscribe(subscription);
    return { status: 200 };
  }

  private resubscribe(subscription: Subscription): void {
    subscription.unsubscribe();
    subscription.unsubscribe = this.options.hub.subscribe(subscription.topics, (envelope) => this.enqueue(subscription, envelope));
  }

  private end(peer: string): void {
    const subscription = this.subscriptions.get(peer);
    if (!subscription) return;
    subscription.unsubscribe();
    subscription.queue = [];
    subscription.queuedBytes = 0;
    this.subscriptions.delete(peer);
  }

  private enqueue(subscription: Subscription, envelope: Envelope): void {
    subscription.queuedBytes += envelope.message.length;
    if (subscription.queuedBytes > MAX_PENDING_PUSH_BYTES) {
      this.options.logger.warn({ protocol: FILTER_PUSH_PROTOCOL, error: "subscriber too slow; its subscription ended" });
      this.end(subscription.peer.toString());
      return;
    }
    subscription.queue.push(envelope);
    if (!subscription.pushing) void this.drain(subscription);
  }

  /** Sends queued envelopes one push stream each, in order; a peer that cannot be reached loses its subscription. */
  private async drain(subscription: Subscription): Promise<void> {
    subscription.pushing = true;
    try {
      while (subscription.queue.length > 0 && this.subscriptions.get(subscription.peer.toString()) === subscription) {
        const envelope = subscription.queue.shift()!;
        subscription.queuedBytes -= envelope.message.length;
        const push = create(wakuFilterV2.MessagePushSchema, {
          pubsubTopic: this.options.pushPubsubTopic,
          wakuMessage: {
            payload: envelope.message,
            contentTopic: envelope.contentTopic,
            timestamp: envelope.timestampNs,
            ephemeral: isEphemeralTopic(envelope.contentTopic) || undefined,
          },
        });
        const bytes = toBinary(wakuFilterV2.MessagePushSchema, push);
        const prefix = encodeLengthPrefix(bytes.length);
        const frame = new Uint8Array(prefix.length + bytes.length);
        frame.set(prefix);
        frame.set(bytes, prefix.length);
        const stream = await this.options.openPushStream(subscription.peer);
        if (!stream.send(frame)) await stream.onDrain();
        await stream.close();
      }
    } catch (error) {
      this.options.logger.warn({ protocol: FILTER_PUSH_PROTOCOL, error: String(error) });
      this.end(subscription.peer.toString());
    } finally {
      subscription.pushing = false;
    }
  }
}
