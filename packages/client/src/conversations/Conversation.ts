// A conversation with one peer, v1 (dm- topic, X3DH per message) or v2 (m- topic, shared key material from an
// invitation). Both list, stream and send messages; every received message is checked before it is believed.
import {
  decryptMessageV1,
  decryptMessageV2,
  directMessageTopic,
  encryptMessageV1,
  encryptMessageV2,
  ephemeralTopicOf,
  introTopic,
  InvalidMessageError,
  messageId,
} from "@xmtp-ts/crypto";
import { MAX_PAGE_SIZE, type Envelope, type QueryParams, type SubscribeOptions } from "../api/index.js";
import { ContentTypePostageGrant, decodeContent, encodeContentPayload, type ContentTypeIdShape, type DecodedContent } from "../content/index.js";
import type { PostageGrant } from "../postage/PostageGrant.js";
import { legacyBundleOf } from "../contacts/ContactBook.js";
import type { ConsentState } from "../contacts/Consent.js";
import type { ClientContext } from "../context.js";
import { ConversationError } from "./ConversationError.js";
import { DecodedMessage } from "./DecodedMessage.js";
import type { InboxStore, StoredMessage } from "../storage/InboxStore.js";
import { CLOCK_SKEW_NS } from "./syncClock.js";
import { iteratePages, mapPages } from "./pages.js";
import { DecodedStream, type MessageStream } from "./streams.js";

/** `SortDirection` of the public SDK (numeric enum), accepted alongside "ascending" / "descending". */
export const SortDirection = {
  SORT_DIRECTION_UNSPECIFIED: 0,
  SORT_DIRECTION_ASCENDING: 1,
  SORT_DIRECTION_DESCENDING: 2,
} as const;

export interface ListMessagesOptions {
  /** Stop after this many messages. */
  limit?: number;
  /** Inclusive bounds on the sent time. */
  startTime?: Date;
  endTime?: Date;
  direction?: "ascending" | "descending" | (typeof SortDirection)[keyof typeof SortDirection];
}

export interface ListMessagesPaginatedOptions {
  /** Inclusive bounds on the sent time. */
  startTime?: Date;
  endTime?: Date;
  /** Messages per page, 1 to 100; default 100 (as in the public SDK). */
  pageSize?: number;
  /** Absent (or `SORT_DIRECTION_UNSPECIFIED`): the node's default order, newest first on ours and the reference node. */
  direction?: ListMessagesOptions["direction"];
}

export interface SendOptions {
  contentType?: ContentTypeIdShape;
  /** `Compression.DEFLATE` (0) or `Compression.GZIP` (1). */
  compression?: number;
  /** Overrides the codec's fallback text. */
  contentFallback?: string;
  /** Publish on the conversation's ephemeral topic (not stored by the node). */
  ephemeral?: boolean;
  /** Sent time; defaults to now. */
  timestamp?: Date;
}

export interface ConversationContext {
  conversationId: string;
  metadata: Record<string, string>;
}

interface Sealed {
  envelopes: Envelope[];
  /** Called once the envelopes are published. */
  published?: () => void;
  /** Some envelopes go to the peer's reach topic (a v1 intro): published with postage proofs. */
  reachesPeer?: boolean;
}

interface OpenedMessage {
  senderAddress: string;
  recipientAddress?: string;
  sentNs: bigint;
  contentBytes: Uint8Array;
}

function toNs(date: Date): bigint {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new TypeError("invalid Date");
  return BigInt(ms) * 1_000_000n;
}

function directionOf(direction: ListMessagesOptions["direction"]): "ascending" | "descending" {
  if (direction === undefined || direction === "ascending" || direction === SortDirection.SORT_DIRECTION_ASCENDING) return "ascending";
  if (direction === "descending" || direction === SortDirection.SORT_DIRECTION_DESCENDING) return "descending";
  throw new TypeError(`unknown direction ${JSON.stringify(direction)}`);
}

function pageDirectionOf(direction: ListMessagesPaginatedOptions["direction"]): QueryParams["direction"] {
  if (direction === undefined || direction === SortDirection.SORT_DIRECTION_UNSPECIFIED) return "unspecified";
  return directionOf(direction);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

abstract class BaseConversation {
  abstract readonly conversationVersion: "v1" | "v2";
  abstract readonly topic: string;
  /** This conversation as the public union type, for the messages it hands out. */
  protected abstract get self(): Conversation;
  readonly peerAddress: string;
  readonly createdAt: Date;

  constructor(
    protected readonly client: ClientContext,
    peerAddress: string,
    createdAt: Date,
  ) {
    this.peerAddress = peerAddress;
    this.createdAt = createdAt;
  }

  get clientAddress(): string {
    return this.client.address;
  }

  get ephemeralTopic(): string {
    return ephemeralTopicOf(this.topic);
  }

  get consentState(): ConsentState {
    return this.client.consent.state(this.peerAddress);
  }

  get isAllowed(): boolean {
    return this.consentState === "allowed";
  }

  get isDenied(): boolean {
    return this.consentState === "denied";
  }

  async allow(): Promise<void> {
    await this.client.consent.publish([this.peerAddress], "allowed");
  }

  async deny(): Promise<void> {
    await this.client.consent.publish([this.peerAddress], "denied");
  }

  protected abstract open(envelope: Envelope): Promise<OpenedMessage>;
  protected abstract seal(payload: Uint8Array, shouldPush: boolean, sentNs: bigint, ephemeral: boolean): Promise<Sealed>;

  /** Turns an envelope of this conversation into a message; failures give a message with `error`, never a throw. */
  async decodeMessage(envelope: Envelope): Promise<DecodedMessage<unknown, Conversation>> {
    const id = messageId(envelope.message);
    let opened: OpenedMessage;
    try {
      opened = await this.open(envelope);
    } catch (err) {
      return this.unreadable(id, envelope.timestampNs, asError(err));
    }
    return this.decodeOpened(id, opened);
  }

  private unreadable(id: string, sentNs: bigint, error: Error): DecodedMessage<unknown, Conversation> {
    return new DecodedMessage({
      id,
      messageVersion: this.conversationVersion,
      senderAddress: "",
      sentNs,
      content: undefined,
      contentType: undefined,
      error,
      conversation: this.self,
    });
  }

  /** The message an opened envelope holds: its content decoded by the codecs (a failure gives `error`). */
  private async decodeOpened(id: string, opened: OpenedMessage): Promise<DecodedMessage<unknown, Conversation>> {
    const base = {
      id,
      messageVersion: this.conversationVersion,
      senderAddress: opened.senderAddress,
      recipientAddress: opened.recipientAddress,
      sentNs: opened.sentNs,
      conversation: this.self,
      contentBytes: opened.contentBytes,
    };
    try {
      const decoded = await decodeContent(opened.contentBytes, this.client.codecs);
      this.keepPostageGrant(decoded);
      return new DecodedMessage({ ...base, ...decoded });
    } catch (err) {
      return new DecodedMessage({ ...base, content: undefined, contentType: undefined, error: asError(err) });
    }
  }

  /**
   * A relationship grant received as content is kept for writing to its grantor later (when it names us and is
   * genuine; the grant store checks). Only this content type costs anything here: one string comparison otherwise.
   */
  private keepPostageGrant(decoded: DecodedContent): void {
    if (decoded.content === undefined || decoded.contentType.authorityId !== ContentTypePostageGrant.authorityId) return;
    if (decoded.contentType.typeId !== ContentTypePostageGrant.typeId) return;
    try {
      this.client.postageGrants.receive(decoded.content as PostageGrant);
    } catch {
      // Keeping a grant is a side effect of reading the message: it must never make the message unreadable.
    }
  }

  /** Messages in the conversation, oldest first unless `direction` says otherwise. */
  async messages(options: ListMessagesOptions = {}): Promise<DecodedMessage<unknown, Conversation>[]> {
    const range = {
      startTimeNs: options.startTime ? toNs(options.startTime) : undefined,
      endTimeNs: options.endTime ? toNs(options.endTime) : undefined,
    };
    const direction = directionOf(options.direction);
    if (this.client.store) return this.storedMessages(this.client.store, { ...range, direction, limit: options.limit });
    const params: QueryParams & { limit?: number } = { contentTopic: this.topic, direction, ...range, limit: options.limit };
    return mapPages(this.client.api, params, (envelopes) => Promise.all(envelopes.map((envelope) => this.decodeMessage(envelope))));
  }

  private syncing: Promise<void> | undefined;

  /** Stores what the node has on the topic since the stored cursor; one sync at a time, callers meanwhile share it. */
  private syncStore(store: InboxStore): Promise<void> {
    this.syncing ??= (async () => {
      const cursorNs = await store.messageCursor(this.topic);
      const startedNs = BigInt(Date.now()) * 1_000_000n;
      const params: QueryParams = {
        contentTopic: this.topic,
        direction: "ascending",
        startTimeNs: cursorNs === undefined ? undefined : cursorNs - CLOCK_SKEW_NS,
      };
      const fetched = await mapPages(this.client.api, params, (envelopes) =>
        Promise.all(envelopes.map(async (envelope) => ({ id: messageId(envelope.message), message: await this.storable(envelope) }))),
      );
      await store.appendMessages(this.topic, fetched, startedNs);
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** An envelope as stored: with what opening it gave, so reading it again needs no crypto. */
  private async storable(envelope: Envelope): Promise<StoredMessage> {
    const stored: StoredMessage = { envelopeTimestampNs: envelope.timestampNs, message: envelope.message };
    try {
      stored.opened = await this.open(envelope);
    } catch {
      // Kept without `opened`: reading it opens it again and reports why it fails.
    }
    return stored;
  }

  private async storedMessages(
    store: InboxStore,
    query: { startTimeNs?: bigint; endTimeNs?: bigint; direction: "ascending" | "descending"; limit?: number },
  ): Promise<DecodedMessage<unknown, Conversation>[]> {
    await this.syncStore(store);
    const stored = await store.listMessages(this.topic, {
      fromNs: query.startTimeNs,
      toNs: query.endTimeNs,
      limit: query.limit,
      descending: query.direction === "descending",
    });
    return Promise.all(
      stored.map(({ id, message }) =>
        message.opened
          ? this.decodeOpened(id, message.opened)
          : this.decodeMessage({ contentTopic: this.topic, timestampNs: message.envelopeTimestampNs, message: message.message }),
      ),
    );
  }

  /**
   * The messages a page at a time, as the public SDK's `messagesPaginated`: each page is one query, the next one
   * asked for (with the node's cursor) while this one is decoded. Stop early with `break` or `return()`.
   */
  messagesPaginated(options: ListMessagesPaginatedOptions = {}): AsyncGenerator<DecodedMessage<unknown, Conversation>[], void, undefined> {
    const pageSize = options.pageSize ?? MAX_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${String(options.pageSize)}`);
    }
    const params: QueryParams = {
      contentTopic: this.topic,
      pageSize,
      direction: pageDirectionOf(options.direction),
      startTimeNs: options.startTime ? toNs(options.startTime) : undefined,
      endTimeNs: options.endTime ? toNs(options.endTime) : undefined,
    };
    return iteratePages(this.client.api, params, (envelopes) => Promise.all(envelopes.map((envelope) => this.decodeMessage(envelope))));
  }

  /** New messages as they arrive; resolves once the node has the subscription. End it with `return()`. */
  async streamMessages(onConnectionLost?: (error: unknown) => void): Promise<MessageStream<DecodedMessage<unknown, Conversation>>> {
    return this.streamTopic(this.topic, onConnectionLost);
  }

  /** Messages sent with `{ ephemeral: true }`. */
  async streamEphemeral(onConnectionLost?: (error: unknown) => void): Promise<MessageStream<DecodedMessage<unknown, Conversation>>> {
    return this.streamTopic(this.ephemeralTopic, onConnectionLost);
  }

  private async streamTopic(topic: string, onConnectionLost?: (error: unknown) => void): Promise<MessageStream<DecodedMessage<unknown, Conversation>>> {
    const options: SubscribeOptions = { ...this.client.subscribeOptions, onConnectionLost };
    const stream = new DecodedStream(this.client.api.subscribe([topic], options), async (envelope) => [await this.decodeMessage(envelope)]);
    await stream.ready;
    return stream;
  }

  /** Encodes, encrypts and publishes; allows the peer if its consent state is still unknown (as the SDK does). */
  async send(content: unknown, options: SendOptions = {}): Promise<DecodedMessage<unknown, Conversation>> {
    const { payload, shouldPush } = await encodeContentPayload(
      content,
      { contentType: options.contentType, compression: options.compression, fallback: options.contentFallback },
      this.client.codecs,
    );
    const sentNs = toNs(options.timestamp ?? new Date());
    const { envelopes, published, reachesPeer } = await this.seal(payload, shouldPush, sentNs, options.ephemeral === true);
    // Only a first v1 send writes to the peer's reach topic; every other message goes straight out, untouched.
    await (reachesPeer ? this.client.reachPublisher.publish(envelopes) : this.client.api.publish(envelopes));
    published?.();
    await this.client.consent.ensureLoaded();
    if (this.consentState === "unknown") await this.allow();
    const decoded = await decodeContent(payload, this.client.codecs);
    return new DecodedMessage({
      id: messageId(envelopes[0].message),
      messageVersion: this.conversationVersion,
      senderAddress: this.client.address,
      recipientAddress: this.conversationVersion === "v1" ? this.peerAddress : undefined,
      sentNs,
      ...decoded,
      conversation: this.self,
      contentBytes: payload,
    });
  }
}

export class ConversationV2 extends BaseConversation {
  readonly conversationVersion = "v2" as const;
  protected get self(): Conversation {
    return this;
  }
  readonly topic: string;
  /** The invitation's context: conversationId and metadata. */
  readonly context?: ConversationContext;

  constructor(
    client: ClientContext,
    init: { topic: string; keyMaterial: Uint8Array; peerAddress: string; createdAt: Date; context?: ConversationContext },
  ) {
    super(client, init.peerAddress, init.createdAt);
    this.topic = init.topic;
    this.keyMaterial = init.keyMaterial;
    this.context = init.context ? { conversationId: init.context.conversationId, metadata: { ...init.context.metadata } } : undefined;
  }

  private readonly keyMaterial: Uint8Array;

  protected async open(envelope: Envelope): Promise<OpenedMessage> {
    const opened = await decryptMessageV2(envelope.message, this.keyMaterial, this.topic, this.client.caches);
    return { senderAddress: opened.senderAddress, sentNs: opened.header.createdNs, contentBytes: opened.content };
  }

  protected async seal(payload: Uint8Array, shouldPush: boolean, sentNs: bigint, ephemeral: boolean): Promise<Sealed> {
    const { bytes } = await encryptMessageV2({
      sender: this.client.keys,
      keyMaterial: this.keyMaterial,
      topic: this.topic,
      content: payload,
      createdNs: sentNs,
      shouldPush,
    });
    return { envelopes: [{ contentTopic: ephemeral ? this.ephemeralTopic : this.topic, timestampNs: sentNs, message: bytes }] };
  }
}

export class ConversationV1 extends BaseConversation {
  readonly conversationVersion = "v1" as const;
  protected get self(): Conversation {
    return this;
  }
  readonly context = undefined;
  readonly topic: string;

  constructor(client: ClientContext, peerAddress: string, createdAt: Date) {
    super(client, peerAddress, createdAt);
    this.topic = directMessageTopic(peerAddress, client.address);
  }

  protected async open(envelope: Envelope): Promise<OpenedMessage> {
    const opened = await decryptMessageV1(envelope.message, this.client.keys, this.client.caches);
    if (directMessageTopic(opened.senderAddress, opened.recipientAddress) !== this.topic) {
      throw new InvalidMessageError("message is not between this conversation's two parties");
    }
    return {
      senderAddress: opened.senderAddress,
      recipientAddress: opened.recipientAddress,
      sentNs: opened.sentMs * 1_000_000n,
      contentBytes: opened.content,
    };
  }

  protected async seal(payload: Uint8Array, _shouldPush: boolean, sentNs: bigint, ephemeral: boolean): Promise<Sealed> {
    const contact = await this.client.contactBook.get(this.peerAddress);
    if (!contact) throw new ConversationError(`${this.peerAddress} is not on the XMTP network`);
    const sentMs = sentNs / 1_000_000n;
    const { bytes } = await encryptMessageV1(
      { sender: this.client.keys, recipient: legacyBundleOf(contact), content: payload, timestampMs: sentMs },
      this.client.caches,
    );
    const timestampNs = sentMs * 1_000_000n;
    const topic = ephemeral ? this.ephemeralTopic : this.topic;
    // The first send to a peer by this client instance also goes to both intro topics, so both sides list it.
    const introduce = !this.client.introducedPeers.has(this.peerAddress);
    const topics = introduce ? [introTopic(this.peerAddress), introTopic(this.client.address), topic] : [topic];
    return {
      envelopes: topics.map((contentTopic) => ({ contentTopic, timestampNs, message: bytes })),
      published: () => this.client.introducedPeers.add(this.peerAddress),
      reachesPeer: introduce,
    };
  }
}

export type Conversation = ConversationV1 | ConversationV2;
