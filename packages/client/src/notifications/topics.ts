// The topics an inbox is notified on: its invite and intro topics (new conversations reach it there) and every
// conversation's topic, less those of conversations with peers the consent list denies. Built on the archive's
// inboxTopics (the topics that make a user's inbox), keeping the ones that carry what a user is told about.
import { introTopic, inviteTopic } from "@xmtp-ts/crypto";
import { inboxTopics } from "../archive/exportInbox.js";
import type { Client } from "../Client.js";
import type { Conversation } from "../conversations/Conversation.js";

/** Whether pushes on this conversation's topic are wanted: not when its peer is denied. */
export function wantsNotifications(client: Client, conversation: Conversation): boolean {
  return client.contacts.consentState(conversation.peerAddress) !== "denied";
}

export interface NotificationTopics {
  /** What the installation should hold. */
  topics: string[];
  /** Conversation topics left out because their peer is denied. */
  denied: string[];
}

/** Reads the conversation list and the consent list from the network and computes the topic set. */
export async function notificationTopics(client: Client): Promise<NotificationTopics> {
  await client.contacts.loadConsentList();
  const all = await inboxTopics(client);
  const reach = new Set([inviteTopic(client.address), introTopic(client.address)]);
  const byTopic = new Map(client.conversations.listFromCache().map((c) => [c.topic, c]));
  const topics: string[] = [];
  const denied: string[] = [];
  for (const topic of all) {
    if (reach.has(topic)) {
      topics.push(topic);
      continue;
    }
    const conversation = byTopic.get(topic);
    if (!conversation) continue; // the inbox's own key, contact and preferences topics: nothing to tell a user
    (wantsNotifications(client, conversation) ? topics : denied).push(topic);
  }
  return { topics, denied };
}
