// Finding, creating and streaming conversations: v2 from invitations (InvitedConversations), v1 from intros
// (IntroducedConversations), behind the public SDK's API.
import { inviteTopic, introTopic, isLegacyCompatible } from "@xmtp-ts/crypto";
import type { SubscribeOptions } from "../api/index.js";
import { signedBundleOf } from "../contacts/ContactBook.js";
import type { ClientContext } from "../context.js";
import type { Conversation } from "./Conversation.js";
import type { DecodedMessage } from "./DecodedMessage.js";
import { ConversationError } from "./ConversationError.js";
import { IntroducedConversations } from "./IntroducedConversations.js";
import { InvitedConversations } from "./InvitedConversations.js";
import { DecodedStream, type MessageStream } from "./streams.js";
import { resolvePeer } from "../names/resolvePeer.js";

export interface InvitationContextInput {
  conversationId: string;
  metadata?: Record<string, string>;
}

export { ConversationError };

export class Conversations {
  private readonly invited: InvitedConversations;
  private readonly introduced: IntroducedConversations;

  constructor(private readonly client: ClientContext) {
    this.invited = new InvitedConversations(client);
    this.introduced = new IntroducedConversations(client);
  }

  /** Every conversation on the network, oldest first (later calls, and warm starts with a store, fetch only what is new). */
  async list(): Promise<Conversation[]> {
    await Promise.all([this.introduced.sync(), this.invited.sync()]);
    return this.listFromCache();
  }

  /** The conversations found so far (with a store: also those stored by earlier runs), without asking the network. */
  async listStored(): Promise<Conversation[]> {
    await Promise.all([this.introduced.load(), this.invited.load()]);
    return this.listFromCache();
  }

  /** The conversations found so far in this run, without asking the network. */
  listFromCache(): Conversation[] {
    const all: Conversation[] = [...this.introduced.all(), ...this.invited.all()];
    return all.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /**
   * The conversation with `peerAddress` (in the order of docs/protocol/messages.md §4.4): an existing v2 one with the
   * same conversationId; a v1 one when the peer only has a legacy contact or we already talk over v1; an existing v2
   * one from the network; else a new v2 conversation, announced with invitations to both parties, with the peer allowed
   * in our consent list. `peerAddress` may be a name (e.g. alice.eth) when the client has a `nameResolver`.
   */
  async newConversation(peerAddress: string, context?: InvitationContextInput): Promise<Conversation> {
    const peer = await resolvePeer(peerAddress, this.client.nameResolver);
    if (peer === this.client.address) throw new ConversationError("cannot start a conversation with yourself");
    const conversationId = context?.conversationId ?? "";
    await this.invited.load();
    const known = this.invited.find(peer, conversationId);
    if (known) return known;

    const contact = await this.client.contactBook.get(peer);
    if (!contact) throw new ConversationError(`${peer} is not on the XMTP network`);
    if (!conversationId) {
      if (contact.version === "v1") return this.introduced.start(peer);
      await this.introduced.sync();
      const existingV1 = this.introduced.with(peer);
      if (existingV1) {
        if (!isLegacyCompatible(signedBundleOf(contact).identityKey!) || !isLegacyCompatible(this.client.keys.signedBundle.identityKey!)) {
          throw new ConversationError(`the v1 conversation with ${peer} needs legacy keys on both sides`);
        }
        return existingV1;
      }
    }
    await this.invited.sync();
    const found = this.invited.find(peer, conversationId);
    if (found) return found;

    const conversation = await this.invited.create(
      signedBundleOf(contact),
      peer,
      context ? { conversationId: context.conversationId, metadata: context.metadata ?? {} } : undefined,
    );
    await this.client.consent.publish([peer], "allowed");
    return conversation;
  }

  private subscribeOptions(onConnectionLost?: (error: unknown) => void): SubscribeOptions {
    return { ...this.client.subscribeOptions, onConnectionLost };
  }

  /** New conversations as they are created (one per v2 topic and per v1 peer); resolves once subscribed. */
  async stream(onConnectionLost?: (error: unknown) => void): Promise<MessageStream<Conversation>> {
    const invites = inviteTopic(this.client.address);
    const intros = introTopic(this.client.address);
    const seenTopics = new Set<string>();
    const seenPeers = new Set<string>();
    const subscription = this.client.api.subscribe([intros, invites], this.subscribeOptions(onConnectionLost));
    const stream = new DecodedStream<Conversation>(subscription, async (envelope) => {
      if (envelope.contentTopic === invites) {
        const conversation = await this.invited.fromEnvelope(envelope);
        if (!conversation || seenTopics.has(conversation.topic)) return [];
        seenTopics.add(conversation.topic);
        return [conversation];
      }
      const [conversation] = await this.introduced.fromEnvelopes([envelope]);
      if (!conversation || seenPeers.has(conversation.peerAddress)) return [];
      seenPeers.add(conversation.peerAddress);
      return [conversation];
    });
    await stream.ready;
    return stream;
  }

  /**
   * Every new message of every conversation, including conversations created while streaming (their earlier
   * messages are delivered when they appear). Each message once. Resolves once subscribed.
   */
  async streamAllMessages(onConnectionLost?: (error: unknown) => void): Promise<MessageStream<DecodedMessage<unknown, Conversation>>> {
    await this.list();
    const invites = inviteTopic(this.client.address);
    const intros = introTopic(this.client.address);
    const byTopic = new Map<string, Conversation>();
    for (const conversation of this.listFromCache()) byTopic.set(conversation.topic, conversation);
    const delivered = new BoundedSet(10_000);
    const topics = () => [intros, invites, ...byTopic.keys()];
    const subscription = this.client.api.subscribe(topics(), this.subscribeOptions(onConnectionLost));

    const once = (messages: DecodedMessage<unknown, Conversation>[]) => messages.filter((m) => delivered.add(m.id));
    const adopt = async (conversation: Conversation): Promise<DecodedMessage<unknown, Conversation>[]> => {
      if (byTopic.has(conversation.topic)) return [];
      byTopic.set(conversation.topic, conversation);
      await subscription.updateTopics(topics());
      // Messages sent before the subscription covered the new topic come from a query; repeats are dropped by id.
      return once(await conversation.messages());
    };

    const stream = new DecodedStream<DecodedMessage<unknown, Conversation>>(subscription, async (envelope) => {
      if (envelope.contentTopic === invites) {
        const conversation = await this.invited.fromEnvelope(envelope);
        return conversation ? adopt(conversation) : [];
      }
      if (envelope.contentTopic === intros) {
        const [conversation] = await this.introduced.fromEnvelopes([envelope]);
        if (!conversation) return [];
        const adopted = await adopt(conversation);
        // The intro carries the same bytes as the first dm- message, so it counts as that message.
        return adopted.length > 0 ? adopted : once([await conversation.decodeMessage(envelope)]);
      }
      const conversation = byTopic.get(envelope.contentTopic);
      return conversation ? once([await conversation.decodeMessage(envelope)]) : [];
    });
    await stream.ready;
    return stream;
  }
}

/** Insertion-ordered set that forgets its oldest entries beyond `limit`. */
class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit: number) {}
  /** Adds `item`; false if it was already there. */
  add(item: string): boolean {
    if (this.items.has(item)) return false;
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value!);
    return true;
  }
}
