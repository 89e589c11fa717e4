// Seeding an inbox fast, in Node.js, for the client benchmarks: identities from raw keys (no ethers), each
// peer's invitation sealed with createInvitation and published on the reader's invite topic in batches.
import {
  compactToWalletSignature,
  createInvitation,
  encryptPrivatePreferencesAction,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  getPublicKey,
  hashPersonalMessage,
  inviteTopic,
  privatePreferencesTopic,
  publicKeyToAddress,
  signDigest,
  userKeysFromBundle,
} from "@xmtp-ts/crypto";

const PUBLISH_BATCH = 500;

/** A new XMTP identity whose wallet is a raw key. */
export async function newIdentity() {
  const privateKey = generatePrivateKey();
  const walletAddress = publicKeyToAddress(getPublicKey(privateKey));
  /** @type {import("@xmtp-ts/crypto").SignText} */
  const signText = async (text) => compactToWalletSignature(signDigest(hashPersonalMessage(text), privateKey));
  return userKeysFromBundle(await generatePrivateKeyBundleV1(signText, { walletAddress }));
}

/** How far back the seeded conversations start: an inbox's invitations are old, not all from the last seconds. */
const SEEDED_HISTORY_NS = 3_600_000_000_000n;

/**
 * `count` conversations with `reader` (a Client), each from a new peer, dated over the past hour (so none falls in
 * the 10 s a later sync looks back); resolves with the peers' keys.
 * @param {import("@xmtp-ts/client").Client} reader
 * @param {number} count
 */
export async function seedConversations(reader, count) {
  /** @type {import("@xmtp-ts/crypto").UserKeys[]} */
  const peers = [];
  /** @type {{ contentTopic: string; timestampNs: bigint; message: Uint8Array }[]} */
  let batch = [];
  const started = performance.now();
  const firstNs = BigInt(Date.now()) * 1_000_000n - SEEDED_HISTORY_NS;
  for (let i = 0; i < count; i++) {
    const peer = await newIdentity();
    const createdNs = firstNs + (SEEDED_HISTORY_NS * BigInt(i)) / BigInt(count);
    const sealed = await createInvitation({ sender: peer, recipient: reader.signedPublicKeyBundle, createdNs });
    batch.push({ contentTopic: inviteTopic(reader.address), timestampNs: sealed.createdNs, message: sealed.bytes });
    peers.push(peer);
    if (batch.length >= PUBLISH_BATCH || i === count - 1) {
      await reader.api.publish(batch);
      batch = [];
      process.stdout.write(`\rseeded ${i + 1} of ${count} conversations (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  process.stdout.write("\n");
  return peers;
}

/**
 * `reader` (a Client) allows each of `addresses` in its consent list, one entry each, as one newConversation each would.
 * @param {import("@xmtp-ts/client").Client} reader
 * @param {string[]} addresses
 */
export async function seedConsent(reader, addresses) {
  const topic = await privatePreferencesTopic(reader.keys.identityPrivateKey);
  const firstNs = BigInt(Date.now()) * 1_000_000n - SEEDED_HISTORY_NS;
  /** @type {{ contentTopic: string; timestampNs: bigint; message: Uint8Array }[]} */
  let batch = [];
  for (let i = 0; i < addresses.length; i++) {
    const message = await encryptPrivatePreferencesAction(
      { messageType: { case: "allowAddress", value: { walletAddresses: [addresses[i]] } } },
      reader.keys.identityPrivateKey,
      reader.keys.identityPublicKey,
    );
    batch.push({ contentTopic: topic, timestampNs: firstNs + (SEEDED_HISTORY_NS * BigInt(i)) / BigInt(addresses.length), message });
    if (batch.length >= PUBLISH_BATCH || i === addresses.length - 1) {
      await reader.api.publish(batch);
      batch = [];
    }
  }
}
