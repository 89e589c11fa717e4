// Reading a session's conversations from the client: the inbox database, the latest message of each, and what a
// first message to a peer costs.
import { postageOutlook, type PostageOutlook } from "../postage.js";
import type { ChatClient, ChatConversation, ChatMessage } from "../xmtp.js";

/** How many conversations' latest messages load at once: the list fills in without flooding the node. */
export const LATEST_MESSAGE_WORKERS = 4;

/** The conversations in the inbox database; none if it cannot be read (the sync with the node follows anyway). */
export async function storedConversations(client: ChatClient): Promise<ChatConversation[]> {
  try {
    return await client.conversations.listStored();
  } catch (err) {
    console.warn("XMTP chat: could not read the inbox database; listing from the node.", err);
    return [];
  }
}

/** Loads each conversation's latest message, a few at a time, until `stopped()`; `onLatest` for each one found. */
export async function loadLatestMessages(
  conversations: readonly ChatConversation[],
  stopped: () => boolean,
  onLatest: (conversation: ChatConversation, message: ChatMessage) => void,
): Promise<void> {
  const queue = [...conversations];
  const worker = async () => {
    for (let conversation = queue.shift(); conversation && !stopped(); conversation = queue.shift()) {
      const [latest] = await conversation.messages({ limit: 1, direction: "descending" });
      if (latest) onLatest(conversation, latest);
    }
  };
  await Promise.all(Array.from({ length: LATEST_MESSAGE_WORKERS }, worker));
}

/** What a first message to `peer` costs on this node, from its terms and what the client knows of the peer. */
export async function outlookFor(client: ChatClient, peer: string): Promise<PostageOutlook> {
  let quote;
  try {
    quote = await client.postage.quote();
  } catch {
    quote = undefined; // unknown: a refusal, if any, will explain itself
  }
  return postageOutlook({
    quote,
    peer,
    priorContact: client.priorContacts.has(peer),
    grants: client.postage.grants(),
  });
}
