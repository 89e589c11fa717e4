// docs/storage.md §7: every envelope of the topics that make a user's inbox, read from the client's node oldest
// first, sealed into one archive only the user's keys open.
import { contactTopic, introTopic, inviteTopic, privatePreferencesTopic, privateStoreKeyBundleTopic } from "@xmtp-ts/crypto";
import { queryPages } from "../api/paging.js";
import type { Envelope } from "../api/types.js";
import type { Client } from "../Client.js";
import { sealArchive, type ArchivedTopic } from "./format.js";

export interface ExportProgress {
  topicsDone: number;
  topicsTotal: number;
  /** Envelopes read so far. */
  envelopes: number;
  /** The topic just finished. */
  topic?: string;
}

export interface ExportInboxOptions {
  onProgress?: (progress: ExportProgress) => void;
  /** Topics read at once (each is paged in order). Default 4. */
  concurrency?: number;
}

/** The topics of `client`'s inbox: its own five, then each conversation's (v1 `dm-`, v2 `m-`), each once. */
export async function inboxTopics(client: Client): Promise<string[]> {
  const me = client.address;
  const topics = [
    contactTopic(me),
    privateStoreKeyBundleTopic(me),
    inviteTopic(me),
    introTopic(me),
    await privatePreferencesTopic(client.keys.identityPrivateKey),
  ];
  for (const conversation of await client.conversations.list()) topics.push(conversation.topic);
  return [...new Set(topics)];
}

async function readTopic(client: Client, topic: string): Promise<Envelope[]> {
  const envelopes: Envelope[] = [];
  const pages = queryPages(client.api, { contentTopic: topic, direction: "ascending", pageSize: 100 }, { prefetch: true });
  for await (const page of pages) {
    for (const { contentTopic, timestampNs, message } of page) envelopes.push({ contentTopic, timestampNs, message });
  }
  return envelopes;
}

/**
 * The archive of `client`'s inbox: every envelope (topic, timestampNs, message, as the node stores them) of its
 * contact, private store, invite, intro and private preferences topics and of every conversation it can open. The
 * plaintext header names the wallet and carries its wallet-sealed key bundle; the body opens only with its keys.
 */
export async function exportInbox(client: Client, options: ExportInboxOptions = {}): Promise<Uint8Array> {
  const topics = await inboxTopics(client);
  const results: ArchivedTopic[] = new Array<ArchivedTopic>(topics.length);
  let next = 0;
  let topicsDone = 0;
  let envelopes = 0;
  options.onProgress?.({ topicsDone, topicsTotal: topics.length, envelopes });
  const worker = async () => {
    while (next < topics.length) {
      const index = next++;
      const topic = topics[index];
      results[index] = { topic, envelopes: await readTopic(client, topic) };
      topicsDone += 1;
      envelopes += results[index].envelopes.length;
      options.onProgress?.({ topicsDone, topicsTotal: topics.length, envelopes, topic });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, topics.length)) }, worker));
  const keyStore = results.find((t) => t.topic === privateStoreKeyBundleTopic(client.address));
  return sealArchive({
    keys: client.keys,
    // Topics without envelopes are left out: an archive holds envelopes, and the reader learns topics from them.
    topics: results.filter((t) => t.envelopes.length > 0),
    keyBundle: keyStore?.envelopes.at(-1)?.message,
  });
}
