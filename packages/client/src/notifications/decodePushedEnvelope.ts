// A delivered webhook body or Web Push payload (packages/notify/README.md "Webhooks"; both have the same shape)
// turned into what it means for this inbox: a message in a conversation, or a new conversation (an invitation or a
// v1 intro). The envelope is opened with the client's keys exactly as a stream would open it. A push message holds
// about 4 KB, so the service may leave a big envelope's message out (`messageOmitted`); it is then read back from
// the node by its topic, timestamp and digest.
import { decryptMessageV1, introTopic, inviteTopic, openSealedInvitation } from "@xmtp-ts/crypto";
import { envelopeDigestHex } from "../api/digests.js";
import { envelopeFromJson } from "../api/json.js";
import { queryPages } from "../api/paging.js";
import type { Envelope, MessageApi } from "../api/types.js";
import type { Client } from "../Client.js";
import type { Conversation } from "../conversations/Conversation.js";
import type { DecodedMessage } from "../conversations/DecodedMessage.js";
import { InvalidPushError, PushedEnvelopeUnavailableError } from "./errors.js";

/** The parts of a delivery body a receiver uses. */
export interface PushDelivery {
  installationId?: string;
  /** `<installationId>:<digest>`, the same on every attempt: dedupe on it. */
  deliveryId?: string;
  attempt?: number;
  sentAt?: string;
  /** The envelope's identity: sha256(contentTopic ‖ message), lowercase hex. */
  digest?: string;
  /**
   * The service left the message out (too big for a push message): `envelope.message` is empty in what
   * parsePushBody returns; decodePushedEnvelope reads the envelope from the node and returns it in full.
   */
  messageOmitted?: boolean;
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

/**
 * Reads a webhook body or push payload: its raw text or bytes (as received, before any parsing), or the parsed
 * JSON. With `messageOmitted` the envelope has no message (an empty one here) and the digest is required.
 */
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
  const messageOmitted = value.messageOmitted === true;
  const digest = text("digest")?.toLowerCase();
  if (messageOmitted) {
    // Without the digest there is nothing to tell the envelope from others sent at the same time on the topic.
    if (!digest || !/^[0-9a-f]{64}$/.test(digest)) throw new InvalidPushError("the pushed body omits the message but has no digest (64 hex digits)");
    if (envelope.message.length > 0) throw new InvalidPushError("the pushed body says the message is omitted but carries one");
  }
  return {
    installationId: text("installationId"),
    deliveryId: text("deliveryId"),
    attempt: typeof value.attempt === "number" ? value.attempt : undefined,
    sentAt: text("sentAt"),
    digest,
    ...(messageOmitted ? { messageOmitted } : {}),
    envelope,
  };
}

/**
 * The envelope a delivery left the message out of, read from the node: the envelopes on its topic at exactly its
 * timestamp (the node filters with inclusive bounds and keeps timestamps as sent, and the service took the envelope
 * from a node, so the time matches), the one whose digest is the delivery's. Several envelopes can share a
 * timestamp, hence the digest; paging goes on until it is found or the node has no more.
 */
export async function fetchOmittedEnvelope(api: Pick<MessageApi, "query">, delivery: PushDelivery): Promise<Envelope> {
  const { contentTopic, timestampNs } = delivery.envelope;
  const digest = delivery.digest;
  if (!digest) throw new InvalidPushError("the pushed body omits the message but has no digest");
  // A zero bound means "no bound" to the node: the whole topic would be scanned. The service never sends one.
  if (timestampNs === 0n) throw new InvalidPushError("the pushed body omits the message and has no timestamp to find it by");
  for await (const page of queryPages(api, { contentTopic, startTimeNs: timestampNs, endTimeNs: timestampNs, direction: "ascending" })) {
    const found = page.find((candidate) => envelopeDigestHex(candidate) === digest);
    if (found) return { contentTopic, timestampNs: found.timestampNs, message: found.message };
  }
  throw new PushedEnvelopeUnavailableError(
    `the node has no envelope on ${contentTopic} at ${timestampNs} with digest ${digest} (pruned, or another network)`,
    digest,
  );
}

/** The conversation on `topic`: from those found so far, else after listing again (it may be new to this process). */
async function conversationOn(client: Client, matches: (c: Conversation) => boolean): Promise<Conversation | undefined> {
  return client.conversations.listFromCache().find(matches) ?? (await client.conversations.list()).find(matches);
}

/**
 * Decodes a delivered webhook body for `client`: a message (`kind: "message"`, with its conversation), a new
 * conversation (`kind: "conversation"`), or `kind: "unknown"`. A message that does not open or verify comes back
 * with `message.error` set, as in a listing. Throws InvalidPushError for a body that is not a delivery. Verify a
 * webhook's signature first (verifyPushSignature; a Web Push payload is authenticated by the browser instead). A
 * body with `messageOmitted` costs a query to the node (`delivery.envelope` is then the envelope read);
 * PushedEnvelopeUnavailableError when the node no longer has it.
 */
export async function decodePushedEnvelope(client: Client, body: string | Uint8Array | object): Promise<PushedEnvelope> {
  let delivery = parsePushBody(body);
  if (delivery.messageOmitted) delivery = { ...delivery, envelope: await fetchOmittedEnvelope(client.api, delivery) };
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
