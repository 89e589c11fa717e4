// v1 conversations: one per peer, found by opening the intros on intro-<me> (a v1 message copied there by the first
// send of each party), dated by the earliest. With a store, loaded from it and synced from the stored cursor on.
import { decryptMessageV1, introTopic, isValidTopic } from "@xmtp-ts/crypto";
import type { Envelope } from "../api/index.js";
import type { InboxStore, StoredIntro, SyncedLog } from "../storage/InboxStore.js";
import { ConversationV1 } from "./Conversation.js";
import { messageDigestHex } from "../api/digests.js";
import { SyncedConversationList } from "./SyncedConversationList.js";
import { nowNs } from "./syncClock.js";

export class IntroducedConversations extends SyncedConversationList<StoredIntro> {
  private readonly byPeer = new Map<string, ConversationV1>();

  all(): Iterable<ConversationV1> {
    return this.byPeer.values();
  }

  with(peerAddress: string): ConversationV1 | undefined {
    return this.byPeer.get(peerAddress);
  }

  protected loadStored(store: InboxStore): Promise<SyncedLog<StoredIntro>> {
    return store.loadIntros();
  }

  protected async syncNow(): Promise<void> {
    await this.load();
    const startedNs = nowNs();
    const envelopes = await this.client.api.queryAll({
      contentTopic: introTopic(this.client.address),
      direction: "ascending",
      startTimeNs: this.syncStartNs,
    });
    await this.addEnvelopes(envelopes, startedNs);
    this.lastSyncNs = startedNs;
  }

  /** The conversations the intros in `envelopes` belong to (one per intro that opens), known ones included. */
  async fromEnvelopes(envelopes: Envelope[]): Promise<ConversationV1[]> {
    await this.load();
    return this.addEnvelopes(envelopes, undefined);
  }

  private async addEnvelopes(envelopes: Envelope[], cursorNs: bigint | undefined): Promise<ConversationV1[]> {
    const fresh = envelopes.filter((envelope) => !this.seen.has(messageDigestHex(envelope.message)));
    const opened = await Promise.all(
      fresh.map((envelope) => decryptMessageV1(envelope.message, this.client.keys, this.client.caches).catch(() => undefined)),
    );
    const out: ConversationV1[] = [];
    const added: StoredIntro[] = [];
    for (const message of opened) {
      if (!message) continue;
      const peerAddress = message.senderAddress === this.client.address ? message.recipientAddress : message.senderAddress;
      if (peerAddress === this.client.address) continue;
      const intro: StoredIntro = { peerAddress, sentMs: message.sentMs, fromPeer: message.senderAddress === peerAddress };
      const conversation = this.add(intro);
      if (!conversation) continue;
      added.push(intro);
      out.push(conversation);
    }
    const digests = fresh.map((envelope) => messageDigestHex(envelope.message));
    for (const digest of digests) this.seen.add(digest);
    const store = this.client.store;
    if (store && (digests.length > 0 || cursorNs !== undefined)) {
      await store.appendIntros({ items: added, digests }, cursorNs, () => ({ items: [...this.records], digests: [...this.seen] }));
    }
    return out;
  }

  /**
   * The peer's conversation, created from its first intro (envelopes come oldest first, so the first one dates it);
   * undefined for an invalid topic. An intro written by the peer makes it a prior contact for postage.
   */
  protected add(intro: StoredIntro): ConversationV1 | undefined {
    if (intro.fromPeer) this.client.priorContacts.add(intro.peerAddress);
    const existing = this.byPeer.get(intro.peerAddress);
    if (existing) return existing;
    const conversation = new ConversationV1(this.client, intro.peerAddress, new Date(Number(intro.sentMs)));
    if (!isValidTopic(conversation.topic)) return undefined;
    this.byPeer.set(intro.peerAddress, conversation);
    this.records.push(intro);
    return conversation;
  }

  /** The v1 conversation with a peer that has only a legacy contact, created (undated by any intro) if needed. */
  start(peerAddress: string): ConversationV1 {
    let conversation = this.byPeer.get(peerAddress);
    if (!conversation) {
      conversation = new ConversationV1(this.client, peerAddress, new Date());
      this.byPeer.set(peerAddress, conversation);
    }
    return conversation;
  }
}
