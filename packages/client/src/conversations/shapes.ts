// The structural shapes of what the client hands an app: the fields and methods of DecodedMessage, Conversation,
// MessageStream and client.conversations that apps read. The client's own classes satisfy them (shapes.test.ts);
// apps type against them so that tests can stand in plain objects for a client.
import type { ContentTypeIdShape } from "../content/types.js";

/** A DecodedMessage as an app reads it. */
export interface DecodedMessageShape {
  readonly id: string;
  readonly senderAddress: string;
  readonly sent: Date;
  readonly content: unknown;
  readonly contentType?: ContentTypeIdShape;
  readonly contentFallback?: string;
  /** Set when the message could not be opened or decoded. */
  readonly error?: unknown;
  readonly conversation?: ConversationShape;
  readonly contentTopic?: string;
}

/** A Conversation (v1 or v2) as an app uses it. */
export interface ConversationShape {
  readonly peerAddress: string;
  readonly topic: string;
  readonly createdAt: Date;
  readonly conversationVersion?: string;
  readonly context?: { readonly conversationId: string } | null;
  /** Text by default; other content with its content type. */
  send(content: unknown, options?: { contentType?: ContentTypeIdShape }): Promise<DecodedMessageShape>;
  messages(options?: { limit?: number; direction?: "ascending" | "descending" }): Promise<DecodedMessageShape[]>;
}

/** A MessageStream: iterate it; `return()` ends it and closes the node subscription. */
export interface MessageStreamShape<T> extends AsyncIterable<T> {
  return(value?: unknown): Promise<unknown>;
}

/** `client.conversations`: the calls every app makes. */
export interface ConversationsShape {
  /** Syncs with the node: what the inbox database holds plus what is newer. */
  list(): Promise<ConversationShape[]>;
  newConversation(peerAddress: string): Promise<ConversationShape>;
  /** Resolves once the node has the subscription; the client reconnects by itself after a dropped connection. */
  streamAllMessages(onConnectionLost?: (error: unknown) => void): Promise<MessageStreamShape<DecodedMessageShape>>;
}
