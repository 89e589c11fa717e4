// Finding, creating and streaming conversations: v2 from invitations on invite-<me>, v1 from intros on intro-<me>.
import {
  createInvitation,
  decryptMessageV1,
  inviteTopic,
  introTopic,
  isLegacyCompatible,
  isValidTopic,
  openSealedInvitation,
  sha256,
  toHex,
} from "@xmtp-ts/crypto";
import type { Envelope, SubscribeOptions } from "../api/index.js";
import { normalizeAddress, signedBundleOf } from "../contacts/ContactBook.js";
import type { ClientContext } from "../context.js";
import { openInvitations } from "../workers/openInvitations.js";
import type { InvitationJobResult } from "../workers/protocol.js";
import { ConversationV1, ConversationV2, type Conversation } from "./Conversation.js";
import type { DecodedMessage } from "./DecodedMessage.js";
import { mapPages } from "./pages.js";
import { EnvelopeStream, type MessageStream } from "./streams.js";

/** Refreshes look back this far before the previous run, for senders whose clocks lag (§16). */
const CLOCK_SKEW_NS = 10_000_000_000n;
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

type OpenedEnvelopes = InvitationJobResult[];

export interface InvitationContextInput {
  conversationId: string;
  metadata?: Record<string, string>;
}

export class ConversationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConversationError";
  }
}

function digestOf(envelope: Envelope): string {
  return toHex(sha256(envelope.message));
}

export class Conversations {
  private readonly v2ByTopic = new Map<string, ConversationV2>();
  private readonly v1ByPeer = new Map<string, ConversationV1>();
  /** Invitation envelopes already processed (by digest), valid or not, so refreshes never redo their crypto. */
  private readonly seenInvites = new Set<string>();
  private readonly seenIntros = new Set<string>();
  private lastV2RunNs: bigint | undefined;
  private lastV1RunNs: bigint | undefined;

  constructor(private readonly client: ClientContext) {}

  /** Every conversation on the network, oldest first (later calls only fetch what is new). */
  async list(): Promise<Conversation[]> {
    await Promise.all([this.refreshV1(), this.refreshV2()]);
    return this.listFromCache();
  }

  /** The conversations found so far, without asking the network. */
  listFromCache(): Conversation[] {
    const all: Conversation[] = [...this.v1ByPeer.values(), ...this.v2ByTopic.values()];
    return all.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** One refresh at a time per kind: a caller arriving meanwhile waits for the running one and sees its results. */
  private readonly inFlight: { v1?: Promise<void>; v2?: Promise<void> } = {};

  private refreshV2(): Promise<void> {
    this.inFlight.v2 ??= this.refreshV2Now().finally(() => (this.inFlight.v2 = undefined));
    return this.inFlight.v2;
  }

  private refreshV1(): Promise<void> {
    this.inFlight.v1 ??= this.refreshV1Now().finally(() => (this.inFlight.v1 = undefined));
    return this.inFlight.v1;
  }

  private async refreshV2Now(): Promise<void> {
    const startedNs = nowNs();
    // Each page starts opening as soon as it arrives, without waiting for the previous page's invitations: the
    // threads stay busy across pages. Conversations are added afterwards, in envelope order.
    const pages: Promise<OpenedEnvelopes>[] = [];
    try {
      await mapPages(
        this.client.api,
        {
          contentTopic: inviteTopic(this.client.address),
          direction: "ascending",
          startTimeNs: this.lastV2RunNs === undefined ? undefined : this.lastV2RunNs - CLOCK_SKEW_NS,
        },
        async (envelopes) => {
          pages.push(this.openInvitationEnvelopes(envelopes));
          return [];
        },
      );
    } finally {
      // Pages read before a failure count (their envelopes are marked seen, so they must not be lost).
      for (const page of pages) this.addOpenedInvitations(await page);
    }
    this.lastV2RunNs = startedNs;
  }

  private async refreshV1Now(): Promise<void> {
    const startedNs = nowNs();
    const envelopes = await this.client.api.queryAll({
      contentTopic: introTopic(this.client.address),
      direction: "ascending",
      startTimeNs: this.lastV1RunNs === undefined ? undefined : this.lastV1RunNs - CLOCK_SKEW_NS,
    });
    await this.addIntros(envelopes);
    this.lastV1RunNs = startedNs;
  }

  /** Opens the invitation envelopes not processed before (all at once). */
  private async openInvitationEnvelopes(envelopes: Envelope[]): Promise<OpenedEnvelopes> {
    const fresh = envelopes.filter((envelope) => {
      const digest = digestOf(envelope);
      if (this.seenInvites.has(digest)) return false;
      this.seenInvites.add(digest);
      return true;
    });
    const jobs = fresh.map((envelope) => ({ message: envelope.message, timestampNs: envelope.timestampNs }));
    const pool = await this.client.invitationPool;
    return pool ? pool.open(this.client.keys, jobs, this.client.caches) : openInvitations(this.client.keys, jobs, this.client.caches);
  }

  /** Adds the conversations of opened invitations, in envelope order. */
  private addOpenedInvitations(opened: OpenedEnvelopes): void {
    for (const invitation of opened) {
      if (!invitation.ok) continue;
      this.notePriorContact(invitation);
      this.addInvitation(invitation);
    }
  }

  /** A peer's invitation to us (not our own copy of one to it) means it contacted us first: postage's prior contact. */
  private notePriorContact(invitation: { isSender: boolean; peerAddress: string }): void {
    if (!invitation.isSender) this.client.priorContacts.add(invitation.peerAddress);
  }

  /** The first invitation seen for a topic wins; later ones for the same topic are ignored. */
  private addInvitation(invitation: {
    topic: string;
    keyMaterial: Uint8Array;
    peerAddress: string;
    createdNs: bigint;
    context?: { conversationId: string; metadata: Record<string, string> };
  }): ConversationV2 | undefined {
    if (!isValidTopic(invitation.topic) || this.v2ByTopic.has(invitation.topic)) return undefined;
    const conversation = new ConversationV2(this.client, {
      topic: invitation.topic,
      keyMaterial: invitation.keyMaterial,
      peerAddress: invitation.peerAddress,
      createdAt: new Date(Number(invitation.createdNs / 1_000_000n)),
      context: invitation.context,
    });
    this.v2ByTopic.set(conversation.topic, conversation);
    return conversation;
  }

  /** v1 conversations come from intros that open; one per peer, dated by its earliest intro. */
  private async addIntros(envelopes: Envelope[]): Promise<ConversationV1[]> {
    const fresh = envelopes.filter((envelope) => {
      const digest = digestOf(envelope);
      if (this.seenIntros.has(digest)) return false;
      this.seenIntros.add(digest);
      return true;
    });
    const opened = await Promise.all(
      fresh.map((envelope) => decryptMessageV1(envelope.message, this.client.keys, this.client.caches).catch(() => undefined)),
    );
    const out: ConversationV1[] = [];
    for (const message of opened) {
      if (!message) continue;
      const peer = message.senderAddress === this.client.address ? message.recipientAddress : message.senderAddress;
      if (peer === this.client.address) continue;
      if (message.senderAddress === peer) this.client.priorContacts.add(peer);
      const existing = this.v1ByPeer.get(peer);
      if (existing) {
        out.push(existing);
        continue;
      }
      // Envelopes come oldest first, so the first intro of a peer dates the conversation.
      const conversation = new ConversationV1(this.client, peer, new Date(Number(message.sentMs)));
      if (!isValidTopic(conversation.topic)) continue;
      this.v1ByPeer.set(peer, conversation);
      out.push(conversation);
    }
    return out;
  }

  private findV2(peerAddress: string, conversationId: string): ConversationV2 | undefined {
    for (const conversation of this.v2ByTopic.values()) {
      if (conversation.peerAddress === peerAddress && (conversation.context?.conversationId ?? "") === conversationId) {
        return conversation;
      }
    }
    return undefined;
  }

  /**
   * The conversation with `peerAddress` (§9 order): an existing v2 one with the same conversationId; a v1 one when
   * the peer only has a legacy contact or we already talk over v1; an existing v2 one from the network; else a new
   * v2 conversation, announced with invitations to both parties, with the peer allowed in our consent list.
   */
  async newConversation(peerAddress: string, context?: InvitationContextInput): Promise<Conversation> {
    const peer = normalizeAddress(peerAddress);
    if (peer === this.client.address) throw new ConversationError("cannot start a conversation with yourself");
    const conversationId = context?.conversationId ?? "";
    const cached = this.findV2(peer, conversationId);
    if (cached) return cached;

    const contact = await this.client.contactBook.get(peer);
    if (!contact) throw new ConversationError(`${peer} is not on the XMTP network`);
    if (!conversationId) {
      if (contact.version === "v1") return this.v1With(peer);
      await this.refreshV1();
      const existingV1 = this.v1ByPeer.get(peer);
      if (existingV1) {
        if (!isLegacyCompatible(signedBundleOf(contact).identityKey!) || !isLegacyCompatible(this.client.keys.signedBundle.identityKey!)) {
          throw new ConversationError(`the v1 conversation with ${peer} needs legacy keys on both sides`);
        }
        return existingV1;
      }
    }
    await this.refreshV2();
    const found = this.findV2(peer, conversationId);
    if (found) return found;

    const sealed = await createInvitation(
      {
        sender: this.client.keys,
        recipient: signedBundleOf(contact),
        context: context ? { conversationId: context.conversationId, metadata: context.metadata ?? {} } : undefined,
      },
      this.client.caches,
    );
    // The peer's copy is a write to a stranger's reach topic: it goes with a postage proof (docs/postage.md), and a
    // node that wants payment refuses both copies, so no half-announced conversation is left behind.
    await this.client.reachPublisher.publish([
      { contentTopic: inviteTopic(peer), timestampNs: sealed.createdNs, message: sealed.bytes },
      { contentTopic: inviteTopic(this.client.address), timestampNs: sealed.createdNs, message: sealed.bytes },
    ]);
    this.seenInvites.add(toHex(sha256(sealed.bytes)));
    const conversation = this.addInvitation({ ...sealed, context: sealed.invitation.context }) ?? this.v2ByTopic.get(sealed.topic)!;
    await this.client.consent.publish([peer], "allowed");
    return conversation;
  }

  private v1With(peer: string): ConversationV1 {
    let conversation = this.v1ByPeer.get(peer);
    if (!conversation) {
      conversation = new ConversationV1(this.client, peer, new Date());
      this.v1ByPeer.set(peer, conversation);
    }
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
    const stream = new EnvelopeStream<Conversation>(subscription, async (envelope) => {
      if (envelope.contentTopic === invites) {
        const conversation = await this.conversationOfInvite(envelope);
        if (!conversation || seenTopics.has(conversation.topic)) return [];
        seenTopics.add(conversation.topic);
        return [conversation];
      }
      const [conversation] = await this.addIntros([envelope]);
      if (!conversation || seenPeers.has(conversation.peerAddress)) return [];
      seenPeers.add(conversation.peerAddress);
      return [conversation];
    });
    await stream.ready;
    return stream;
  }

  /** The conversation an invite envelope announces (new or already known); undefined if it does not open. */
  private async conversationOfInvite(envelope: Envelope): Promise<ConversationV2 | undefined> {
    try {
      const invitation = await openSealedInvitation(envelope.message, this.client.keys, envelope.timestampNs, this.client.caches);
      this.seenInvites.add(digestOf(envelope));
      this.notePriorContact(invitation);
      return this.addInvitation(invitation) ?? this.v2ByTopic.get(invitation.topic);
    } catch {
      return undefined;
    }
  }

  /**
   * Every new message of every conversation, including conversations created while streaming (their earlier
   * messages are delivered when they appear). Each message once. Resolves once subscribed.
   */
  async streamAllMessages(onConnectionLost?: (error: unknown) => void): Promise<MessageStream<DecodedMessage>> {
    await this.list();
    const invites = inviteTopic(this.client.address);
    const intros = introTopic(this.client.address);
    const byTopic = new Map<string, Conversation>();
    for (const conversation of this.listFromCache()) byTopic.set(conversation.topic, conversation);
    const delivered = new BoundedSet(10_000);
    const topics = () => [intros, invites, ...byTopic.keys()];
    const subscription = this.client.api.subscribe(topics(), this.subscribeOptions(onConnectionLost));

    const once = (messages: DecodedMessage[]) => messages.filter((m) => delivered.add(m.id));
    const adopt = async (conversation: Conversation): Promise<DecodedMessage[]> => {
      if (byTopic.has(conversation.topic)) return [];
      byTopic.set(conversation.topic, conversation);
      await subscription.updateTopics(topics());
      // Messages sent before the subscription covered the new topic come from a query; repeats are dropped by id.
      return once(await conversation.messages());
    };

    const stream = new EnvelopeStream<DecodedMessage>(subscription, async (envelope) => {
      if (envelope.contentTopic === invites) {
        const conversation = await this.conversationOfInvite(envelope);
        return conversation ? adopt(conversation) : [];
      }
      if (envelope.contentTopic === intros) {
        const [conversation] = await this.addIntros([envelope]);
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
