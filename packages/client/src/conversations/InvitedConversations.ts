// v2 conversations: one per invitation topic, found by opening the sealed invitations on invite-<me>
// (docs/protocol/messages.md §4.3). Kept by topic and indexed by peer and conversationId, so finding a peer's
// conversation never scans the inbox; with a store, loaded from it at start and synced from the node from the stored
// cursor on.
import { createInvitation, inviteTopic, isValidTopic, openSealedInvitation, sha256, toHex } from "@xmtp-ts/crypto";
import type { SignedPublicKeyBundle } from "@xmtp-ts/proto";
import type { Envelope } from "../api/index.js";
import { messageDigestHex } from "../api/digests.js";
import type { InboxStore, StoredInvitation, SyncedLog } from "../storage/InboxStore.js";
import { openInvitations } from "../workers/openInvitations.js";
import type { InvitationJobResult } from "../workers/protocol.js";
import { ConversationV2 } from "./Conversation.js";
import { mapPages } from "./pages.js";
import { SyncedConversationList } from "./SyncedConversationList.js";
import { nowNs } from "./syncClock.js";

export class InvitedConversations extends SyncedConversationList<StoredInvitation> {
  private readonly byTopic = new Map<string, ConversationV2>();
  /** peer address → conversationId ("" for none) → the first conversation seen with them. */
  private readonly byPeer = new Map<string, Map<string, ConversationV2>>();

  all(): Iterable<ConversationV2> {
    return this.byTopic.values();
  }

  byTopicOf(topic: string): ConversationV2 | undefined {
    return this.byTopic.get(topic);
  }

  find(peerAddress: string, conversationId: string): ConversationV2 | undefined {
    return this.byPeer.get(peerAddress)?.get(conversationId);
  }

  protected loadStored(store: InboxStore): Promise<SyncedLog<StoredInvitation>> {
    return store.loadInvitations();
  }

  protected async syncNow(): Promise<void> {
    await this.load();
    const startedNs = nowNs();
    const added: StoredInvitation[] = [];
    const digests: string[] = [];
    // Each page starts opening as soon as it arrives, without waiting for the previous page's invitations: the
    // threads stay busy across pages. Conversations are added afterwards, in envelope order.
    const pages: Promise<{ fresh: Envelope[]; opened: InvitationJobResult[] }>[] = [];
    let completed = false;
    try {
      await mapPages(
        this.client.api,
        {
          contentTopic: inviteTopic(this.client.address),
          direction: "ascending",
          startTimeNs: this.syncStartNs,
        },
        async (envelopes) => {
          pages.push(this.openFresh(envelopes));
          return [];
        },
      );
      completed = true;
    } finally {
      // Pages read before a failure count (their envelopes are marked seen, so they must not be lost).
      for (const page of pages) {
        const { fresh, opened } = await page;
        fresh.forEach((envelope) => digests.push(messageDigestHex(envelope.message)));
        for (const invitation of opened) {
          if (!invitation.ok) continue;
          const { ok: _opened, ...record } = invitation;
          if (this.add(record)) added.push(record);
        }
      }
      // The cursor moves only when every page was read; what was read is kept either way.
      if (digests.length > 0 || completed) await this.persist({ items: added, digests }, completed ? startedNs : undefined);
    }
    if (completed) this.lastSyncNs = startedNs;
  }

  private persist(segment: { items: StoredInvitation[]; digests: string[] }, cursorNs?: bigint): Promise<void> {
    const store = this.client.store;
    if (!store) return Promise.resolve();
    return store.appendInvitations(segment, cursorNs, () => ({ items: [...this.records], digests: [...this.seen] }));
  }

  /** Opens the envelopes not processed before (all at once, on the worker threads when there are many). */
  private async openFresh(envelopes: Envelope[]): Promise<{ fresh: Envelope[]; opened: InvitationJobResult[] }> {
    const fresh = envelopes.filter((envelope) => {
      const digest = messageDigestHex(envelope.message);
      if (this.seen.has(digest)) return false;
      this.seen.add(digest);
      return true;
    });
    const jobs = fresh.map((envelope) => ({ message: envelope.message, timestampNs: envelope.timestampNs }));
    const pool = await this.client.invitationPool;
    const opened = await (pool ? pool.open(this.client.keys, jobs, this.client.caches) : openInvitations(this.client.keys, jobs, this.client.caches));
    return { fresh, opened };
  }

  /** The first invitation seen for a topic wins; undefined when it adds nothing. */
  protected add(invitation: StoredInvitation): ConversationV2 | undefined {
    if (!isValidTopic(invitation.topic) || this.byTopic.has(invitation.topic)) return undefined;
    // A peer's invitation to us (not our own copy of one to it) means it contacted us first: postage's prior contact.
    if (!invitation.isSender) this.client.priorContacts.add(invitation.peerAddress);
    const conversation = new ConversationV2(this.client, {
      topic: invitation.topic,
      keyMaterial: invitation.keyMaterial,
      peerAddress: invitation.peerAddress,
      createdAt: new Date(Number(invitation.createdNs / 1_000_000n)),
      context: invitation.context,
    });
    this.byTopic.set(conversation.topic, conversation);
    this.records.push(invitation);
    let ofPeer = this.byPeer.get(conversation.peerAddress);
    if (!ofPeer) this.byPeer.set(conversation.peerAddress, (ofPeer = new Map()));
    const conversationId = conversation.context?.conversationId ?? "";
    if (!ofPeer.has(conversationId)) ofPeer.set(conversationId, conversation);
    return conversation;
  }

  /** The conversation an invite envelope announces (new or already known); undefined if it does not open. */
  async fromEnvelope(envelope: Envelope): Promise<ConversationV2 | undefined> {
    await this.load();
    let opened;
    try {
      opened = await openSealedInvitation(envelope.message, this.client.keys, envelope.timestampNs, this.client.caches);
    } catch {
      return undefined;
    }
    const digest = messageDigestHex(envelope.message);
    this.seen.add(digest);
    const record: StoredInvitation = {
      topic: opened.topic,
      keyMaterial: opened.keyMaterial,
      peerAddress: opened.peerAddress,
      createdNs: opened.createdNs,
      context: opened.context && { conversationId: opened.context.conversationId, metadata: { ...opened.context.metadata } },
      isSender: opened.isSender,
    };
    const added = this.add(record);
    if (added) await this.persist({ items: [record], digests: [digest] });
    return added ?? this.byTopic.get(opened.topic);
  }

  /**
   * Creates a conversation with `recipient` and announces it with invitations on both invite topics; the peer's
   * copy goes through the reach publisher (postage, docs/postage.md), so a node that wants payment refuses both
   * and no half-announced conversation is left behind.
   */
  async create(recipient: SignedPublicKeyBundle, peerAddress: string, context?: StoredInvitation["context"]): Promise<ConversationV2> {
    await this.load();
    const sealed = await createInvitation({ sender: this.client.keys, recipient, context }, this.client.caches);
    await this.client.reachPublisher.publish([
      { contentTopic: inviteTopic(peerAddress), timestampNs: sealed.createdNs, message: sealed.bytes },
      { contentTopic: inviteTopic(this.client.address), timestampNs: sealed.createdNs, message: sealed.bytes },
    ]);
    const digest = toHex(sha256(sealed.bytes));
    this.seen.add(digest);
    const record: StoredInvitation = {
      topic: sealed.topic,
      keyMaterial: sealed.keyMaterial,
      peerAddress: sealed.peerAddress,
      createdNs: sealed.createdNs,
      context: sealed.invitation.context && {
        conversationId: sealed.invitation.context.conversationId,
        metadata: { ...sealed.invitation.context.metadata },
      },
      isSender: true,
    };
    const added = this.add(record);
    if (added) await this.persist({ items: [record], digests: [digest] });
    return added ?? this.byTopic.get(sealed.topic)!;
  }
}
