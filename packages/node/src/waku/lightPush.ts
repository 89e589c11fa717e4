// Waku LightPush (v3, and 2.0.0-beta1 which js-waku falls back to): a light node hands us one message to publish.
// It enters through the same ingest as an HTTP publish (stored, streamed, relayed), after the same checks the relay
// applies to envelopes from peers, plus the publish rules that the missing auth token makes necessary:
//   - owner-only topics (contact-, privatestore-) are refused: without a token nothing proves the owner sent it;
//   - in allowlist mode every LightPush is refused: only allowlisted wallets publish, and LightPush names none;
//   - rate limits (the publish policy) per remote peer and per remote address.
// Refusals are answered with a status code and a reason, never by dropping the stream.
import type { Connection, Stream } from "@libp2p/interface";
import { create, fromBinary, toBinary, wakuLightPushV2, wakuLightPushV3, type wakuMessage } from "@xmtp-ts/proto";
import { topicOwner } from "../auth.js";
import { isStoreUnavailable } from "../store/storeErrors.js";
import { PostageRefusedError } from "../postage/postageRefusedError.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import { relayEnvelopeProblem, MAX_RELAYED_MESSAGE_BYTES } from "../p2p/validation.js";
import type { BucketPolicy } from "../security/rateLimiter.js";
import { RemoteRateLimits, type RemoteEnd } from "./remoteEnd.js";
import { serveOneRequest, type RequestResponseLogger } from "./requestResponse.js";

export const LIGHTPUSH_V3_PROTOCOL = "/vac/waku/lightpush/3.0.0";
export const LIGHTPUSH_V2_PROTOCOL = "/vac/waku/lightpush/2.0.0-beta1";

/** LightPush v3 status codes (HTTP-like; js-waku counts only 200 as success). */
export const LightPushStatus = {
  OK: 200,
  BAD_REQUEST: 400,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_MESSAGE: 415,
  UNSUPPORTED_PUBSUB_TOPIC: 421,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

// One WakuMessage of the largest size plus its framing.
const MAX_REQUEST_BYTES = MAX_RELAYED_MESSAGE_BYTES + 64 * 1024;

export interface LightPushOptions {
  /** Takes envelopes as a local publish: stored, streamed to subscribers, relayed to peers. */
  ingest: { ingest(envelopes: readonly Envelope[], origin: "local"): Promise<unknown> };
  /** The pubsub topics a request may name (our shard's, and the legacy named topic); absent means "derive it". */
  acceptedPubsubTopics: ReadonlySet<string>;
  /** Whether publishes are open to anyone (open) or to allowlisted wallets only; read on every request. */
  accessMode: () => "open" | "allowlist";
  rateLimits: { enabled: boolean; publish: BucketPolicy };
  /** How many relay peers will hear the message, for the v3 response. */
  relayPeerCount: () => number;
  /** Failed requests and failed publishes (throttled). */
  logger: RequestResponseLogger;
  /**
   * Postage (docs/postage.md): a push to a reach topic passes this as at any accepting door, its proof in the
   * WakuMessage's `meta`. LightPush names no wallet: the writer is the seal's, or the header's claim.
   */
  admit?: (envelope: Envelope) => Promise<Envelope>;
}

export interface PushOutcome {
  status: number;
  description?: string;
}

export class LightPushService {
  private readonly limits = new RemoteRateLimits();

  constructor(private readonly options: LightPushOptions) {}

  readonly handleV3 = (stream: Stream, connection: Connection): Promise<void> =>
    serveOneRequest(stream, MAX_REQUEST_BYTES, (bytes) => this.answerV3(bytes, connection), this.options.logger, LIGHTPUSH_V3_PROTOCOL);

  readonly handleV2 = (stream: Stream, connection: Connection): Promise<void> =>
    serveOneRequest(stream, MAX_REQUEST_BYTES, (bytes) => this.answerV2(bytes, connection), this.options.logger, LIGHTPUSH_V2_PROTOCOL);

  /** The encoded v3 response to an encoded v3 request; never throws (a malformed request is answered 400). */
  async answerV3(bytes: Uint8Array, connection: RemoteEnd): Promise<Uint8Array> {
    let requestId = "";
    let outcome: PushOutcome;
    try {
      const request = fromBinary(wakuLightPushV3.LightPushRequestSchema, bytes);
      requestId = request.requestId;
      outcome = await this.push(request.message, request.pubsubTopic, connection);
    } catch (error) {
      outcome = { status: LightPushStatus.BAD_REQUEST, description: `malformed LightPush request: ${messageOf(error)}` };
    }
    return toBinary(
      wakuLightPushV3.LightPushResponseSchema,
      create(wakuLightPushV3.LightPushResponseSchema, {
        requestId,
        statusCode: outcome.status,
        statusDesc: outcome.description,
        relayPeerCount: outcome.status === LightPushStatus.OK ? this.options.relayPeerCount() : undefined,
      }),
    );
  }

  /** The encoded 2.0.0-beta1 PushRpc response to an encoded PushRpc request; never throws. */
  async answerV2(bytes: Uint8Array, connection: RemoteEnd): Promise<Uint8Array> {
    let requestId = "";
    let outcome: PushOutcome;
    try {
      const rpc = fromBinary(wakuLightPushV2.PushRpcSchema, bytes);
      requestId = rpc.requestId;
      outcome = rpc.request
        ? await this.push(rpc.request.message, rpc.request.pubsubTopic || undefined, connection)
        : { status: LightPushStatus.BAD_REQUEST, description: "PushRpc carries no request" };
    } catch (error) {
      outcome = { status: LightPushStatus.BAD_REQUEST, description: `malformed LightPush request: ${messageOf(error)}` };
    }
    const ok = outcome.status === LightPushStatus.OK;
    return toBinary(
      wakuLightPushV2.PushRpcSchema,
      create(wakuLightPushV2.PushRpcSchema, {
        requestId,
        response: { isSuccess: ok, info: ok ? undefined : `${outcome.status} ${outcome.description ?? ""}`.trim() },
      }),
    );
  }

  /** Checks one pushed message and, when it passes, publishes it. */
  async push(
    message: wakuMessage.WakuMessage | undefined,
    pubsubTopic: string | undefined,
    connection: RemoteEnd,
  ): Promise<PushOutcome> {
    if (!message) return { status: LightPushStatus.BAD_REQUEST, description: "the request carries no message" };
    if (pubsubTopic !== undefined && pubsubTopic !== "" && !this.options.acceptedPubsubTopics.has(pubsubTopic)) {
      return {
        status: LightPushStatus.UNSUPPORTED_PUBSUB_TOPIC,
        description: `pubsub topic ${pubsubTopic} is not served here; use one of ${[...this.options.acceptedPubsubTopics].join(", ")}`,
      };
    }
    if (message.payload.length > MAX_RELAYED_MESSAGE_BYTES) {
      return {
        status: LightPushStatus.PAYLOAD_TOO_LARGE,
        description: `payload of ${message.payload.length} bytes exceeds ${MAX_RELAYED_MESSAGE_BYTES}`,
      };
    }
    const timestampNs = message.timestamp ?? 0n;
    if (timestampNs <= 0n) return { status: LightPushStatus.INVALID_MESSAGE, description: "the message has no timestamp" };
    let envelope: Envelope = { contentTopic: message.contentTopic, timestampNs, message: message.payload };
    if (message.meta !== undefined && message.meta.length > 0) envelope.postage = message.meta;
    const problem = relayEnvelopeProblem(envelope);
    if (problem) return { status: LightPushStatus.INVALID_MESSAGE, description: problem };
    const owner = topicOwner(envelope.contentTopic);
    if (owner !== undefined) {
      return {
        status: LightPushStatus.FORBIDDEN,
        description: `topic ${envelope.contentTopic} is writable only by ${owner}, and LightPush carries no proof of the sender; publish it over the HTTP API with an auth token`,
      };
    }
    if (this.options.accessMode() === "allowlist") {
      return {
        status: LightPushStatus.FORBIDDEN,
        description: "this node accepts publishes only from allowlisted wallets, and LightPush names no wallet; publish over the HTTP API",
      };
    }
    const limited = this.rateLimited(connection);
    if (limited) return limited;
    try {
      if (this.options.admit) envelope = await this.options.admit(envelope);
      await this.options.ingest.ingest([envelope], "local");
    } catch (error) {
      if (error instanceof PostageRefusedError) return { status: LightPushStatus.PAYMENT_REQUIRED, description: error.message };
      if (isStoreUnavailable(error)) {
        return { status: LightPushStatus.SERVICE_UNAVAILABLE, description: `storage unavailable, retry later: ${error.message}` };
      }
      this.options.logger.warn({ protocol: "lightpush", error: messageOf(error) });
      return { status: LightPushStatus.INTERNAL_ERROR, description: "internal error" };
    }
    return { status: LightPushStatus.OK };
  }

  private rateLimited(connection: RemoteEnd): PushOutcome | undefined {
    const { enabled, publish } = this.options.rateLimits;
    const refused = enabled ? this.limits.take(connection, publish) : undefined;
    if (!refused) return undefined;
    return {
      status: LightPushStatus.TOO_MANY_REQUESTS,
      description:
        `rate limit exceeded: ${refused.who} may push ${publish.refillPerSecond} messages per second ` +
        `(bursts of ${publish.capacity}); retry in ${refused.retryAfterSeconds} s`,
    };
  }

}


function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
