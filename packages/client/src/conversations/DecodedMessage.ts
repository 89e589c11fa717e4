import type { ContentTypeId } from "../content/index.js";

/**
 * What a message needs of its conversation. Every Conversation has it; a message the client hands out carries its
 * full conversation (`C`), so `message.conversation.send(…)` type-checks there.
 */
export interface MessageConversation {
  readonly conversationVersion: "v1" | "v2";
  readonly topic: string;
  readonly peerAddress: string;
}

/** A message as the app sees it; `error` is set (and `content` undefined) when it could not be opened or decoded. */
export class DecodedMessage<T = unknown, C extends MessageConversation = MessageConversation> {
  /** lowercase hex of sha256(envelope message): the same on both sides and in the public SDK. */
  readonly id: string;
  readonly messageVersion: "v1" | "v2";
  /** Recovered from the sender's wallet signature; empty when the message could not be opened. */
  readonly senderAddress: string;
  readonly recipientAddress?: string;
  readonly sent: Date;
  readonly sentNs: bigint;
  readonly content: T | undefined;
  readonly contentType: ContentTypeId | undefined;
  readonly contentFallback?: string;
  readonly error?: Error;
  readonly conversation: C;
  /** The conversation's topic (also for messages received on its ephemeral topic). */
  readonly contentTopic: string;
  /** The EncodedContent bytes. */
  readonly contentBytes: Uint8Array;

  constructor(init: {
    id: string;
    messageVersion: "v1" | "v2";
    senderAddress: string;
    recipientAddress?: string;
    sentNs: bigint;
    content: T | undefined;
    contentType: ContentTypeId | undefined;
    contentFallback?: string;
    error?: Error;
    conversation: C;
    contentBytes?: Uint8Array;
  }) {
    this.id = init.id;
    this.messageVersion = init.messageVersion;
    this.senderAddress = init.senderAddress;
    this.recipientAddress = init.recipientAddress;
    this.sentNs = init.sentNs;
    this.sent = new Date(Number(init.sentNs / 1_000_000n));
    this.content = init.content;
    this.contentType = init.contentType;
    this.contentFallback = init.contentFallback;
    this.error = init.error;
    this.conversation = init.conversation;
    this.contentTopic = init.conversation.topic;
    this.contentBytes = init.contentBytes ?? new Uint8Array(0);
  }
}
