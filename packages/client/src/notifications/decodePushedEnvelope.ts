// A delivered webhook body (packages/notify/README.md "Webhooks") turned into what it means for this inbox: a
// message in a conversation, or a new conversation (an invitation or a v1 intro). The envelope is opened with the
// client's keys exactly as a stream would open it.
import { decryptMessageV1, introTopic, inviteTopic, openSealedInvitation } from "@xmtp-ts/crypto";
import { envelopeFromJson } from "../api/json.js";
import type { Envelope } from "../api/types.js";
import type { Client } from "../Client.js";
import type { Conversation } from "../conversations/Conversation.js";
import type { DecodedMessage } from "../conversations/DecodedMessage.js";
import { InvalidPushError } from "./errors.js";

/** The parts of a delivery body a receiver uses. */
export interface PushDelivery {
  installationId?: string;
  /** `<installationId>:<digest>`, the same on every attempt: dedupe on it. */
  deliveryId?: string;
  attempt?: number;
  sentAt?: string;
  envelope: Envelope;
}

export type PushedEnvelope =
  /** A message in a conversation the client knows (or found by listing again). */
  | { kind: "message"; delivery: PushDelivery; conversation: Conversation; message: DecodedMessage<unknown, Conversation> }
  /** A new conversation: an invitation (v2), or a v1 intro, which also is that conversation's first message. */
  | { kind: "conversation"; delivery: PushDelivery; conversation: Conversation; message?: DecodedMessage<unknown, Conversation> }
  /** Nothing this client can open: a topic of no conversation of its inbox, or an invitation not for its keys. */
  | { kind: "unknown"; delivery: PushDelivery };

const decoder = new TextDecoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a webhook body: its raw text or bytes (as received, before any parsing), or the parsed JSON. */
export function parsePushBody(body: string | Uint8Array | object): PushDelivery {
  let value: unknown = body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof body === "string" ? body : decoder.decode(body));
    } catch {
      throw new InvalidPushError("the pushed body is not JSON");
    }
  }
  if (!isObject(value) || !isObject(value.envelope)) throw new InvalidPushError("the pushed body has no envelope");
  let envelope: Envelope;
  try {
    envelope = envelopeFromJson(value.envelope, "envelope");
  } catch (error) {
    throw new InvalidPushError(`the pushed envelope is malformed: ${(error as Error).message}`);
  }
  if (!envelope.contentTopic) throw new InvalidPushError("the pushed envelope has no contentTopic");
  const text = (key: string) => (typeof value[key] === "string" ? value[key] : undefined);
  return {
    installationId: text("installationId"),
    deliveryId: text("deliveryId"),
    attempt: typeof value.attempt === "number" ? value.attempt : undefined,
    sentAt: text("sentAt"),
    envelope,
  };
}

/** The conversation on `topic`: from those found so far, else after listing again (it may be new to this process). */
async function conversationOn(client: Client, matches: (c: Conversation) => boolean): Promise<Conversation | undefined> {
  return client.conversations.listFromCache().find(matches) ?? (await client.conversations.list()).find(matches);
}

/**
 * Decodes a delivered webhook body for `client`: a message (`kind: "message"`, with its conversation), a new
 * conversation (`kind: "conversation"`), or `kind: "unknown"`. A message that does not open or verify comes back
 * with `message.error` set, as in a listing. Throws InvalidPushError for a body that is not a delivery. Verify the
 * signature first (verifyPushSignature).
 */
export async function decodePushedEnvelope(client: Client, body: string | Uint8Array | object): Promise<PushedEnvelope> {
  const delivery = parsePushBody(body);
  const { envelope } = delivery;
  if (envelope.contentTopic === inviteTopic(client.address)) {
    let topic: string;
    try {
      topic = (await openSealedInvitation(envelope.message, client.keys, envelope.timestampNs, client.caches)).topic;
    } catch {
      return { kind: "unknown", delivery };
    }
    const conversation = await conversationOn(client, (c) => c.topic === topic);
    return conversation ? { kind: "conversation", delivery, conversation } : { kind: "unknown", delivery };
  }
  if (envelope.contentTopic === introTopic(client.address)) {
    let peer: string;
    try {
      const opened = await decryptMessageV1(envelope.message, client.keys, client.caches);
      peer = opened.senderAddress === client.address ? opened.recipientAddress : opened.senderAddress;
    } catch {
      return { kind: "unknown", delivery };
    }
    const conversation = await conversationOn(client, (c) => c.conversationVersion === "v1" && c.peerAddress === peer);
    if (!conversation) return { kind: "unknown", delivery };
    // The intro carries the same bytes as the first message on the conversation's own topic.
    const message = await conversation.decodeMessage({ ...envelope, contentTopic: conversation.topic });
    return { kind: "conversation", delivery, conversation, message };
  }
  const conversation = await conversationOn(client, (c) => c.topic === envelope.contentTopic);
  if (!conversation) return { kind: "unknown", delivery };
  return { kind: "message", delivery, conversation, message: await conversation.decodeMessage(envelope) };
}
