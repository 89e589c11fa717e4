// Many XMTP identities, cheaply: keys from raw private keys (no wallet library), each identity's contact bundle
// published straight to its contact topic with its own auth token, as Client.create would, without the rest.
import {
  compactToWalletSignature,
  contactTopic,
  encodeContactBundleV1,
  encodeContactBundleV2,
  encodePrivateKeyBundle,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  getPublicKey,
  hashPersonalMessage,
  publicKeyToAddress,
  signDigest,
  toHex,
  userKeysFromBundle,
  type UserKeys,
} from "@xmtp-ts/crypto";
import { Client, HttpMessageApi, type MessageApi } from "../../src/index.js";
import { authTokenProvider } from "../../src/keys/authTokens.js";

export async function newIdentity(): Promise<UserKeys> {
  const privateKey = generatePrivateKey();
  const walletAddress = publicKeyToAddress(getPublicKey(privateKey));
  const signText = async (text: string) => compactToWalletSignature(signDigest(hashPersonalMessage(text), privateKey));
  return userKeysFromBundle(await generatePrivateKeyBundleV1(signText, { walletAddress }));
}

/** `count` identities on the node at `apiUrl`, their contacts published `parallel` at a time. */
export async function publishedIdentities(apiUrl: string, count: number, parallel = 16): Promise<UserKeys[]> {
  const out: UserKeys[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const keys = await newIdentity();
        const api = new HttpMessageApi({ apiUrl, authTokenProvider: authTokenProvider(keys) });
        const nowNs = BigInt(Date.now()) * 1_000_000n;
        await api.publish([
          { contentTopic: contactTopic(keys.walletAddress), timestampNs: nowNs, message: encodeContactBundleV1(keys.publicBundle) },
          { contentTopic: contactTopic(keys.walletAddress), timestampNs: nowNs + 1_000_000n, message: encodeContactBundleV2(keys.signedBundle) },
        ]);
        out[i] = keys;
      }
    }),
  );
  return out;
}

/** Addresses nobody has registered. */
export function strangers(count: number): string[] {
  return Array.from({ length: count }, () => publicKeyToAddress(getPublicKey(generatePrivateKey())));
}

/** A recipient's own client (from its keys, publishing nothing), to read what it received. */
export function recipientClient(apiUrl: string, keys: UserKeys): Promise<Client> {
  return Client.create(null, { apiUrl, privateKeyOverride: encodePrivateKeyBundle(keys.bundle), skipContactPublishing: true, parallelInvitations: false });
}

/**
 * Per recipient address (lower case): how many conversations the sender has with it and how many envelopes they hold
 * in all, read with batch-queries from the sender's side (a fresh client, so nothing is cached).
 */
export async function deliveriesBySender(sender: Client, api: MessageApi = sender.api): Promise<Map<string, { conversations: number; envelopes: number }>> {
  const conversations = await sender.conversations.list();
  const topics = conversations.map((c) => c.topic);
  const counts = new Map<string, { conversations: number; envelopes: number }>();
  const pages: number[] = [];
  for (let i = 0; i < topics.length; i += 500) {
    const answers = await api.batchQuery(topics.slice(i, i + 500).map((contentTopic) => ({ contentTopic, pageSize: 100 })));
    pages.push(...answers.map((envelopes) => envelopes.length));
  }
  conversations.forEach((conversation, i) => {
    const key = conversation.peerAddress.toLowerCase();
    const entry = counts.get(key) ?? { conversations: 0, envelopes: 0 };
    entry.conversations++;
    entry.envelopes += pages[i];
    counts.set(key, entry);
  });
  return counts;
}

export { toHex };
