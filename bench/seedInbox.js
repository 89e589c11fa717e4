// Seeding an inbox fast, in Node.js, for the client benchmarks: identities from raw keys (no ethers), each
// peer's invitation sealed with createInvitation and published on the reader's invite topic in batches.
import {
  compactToWalletSignature,
  createInvitation,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  getPublicKey,
  hashPersonalMessage,
  inviteTopic,
  publicKeyToAddress,
  signDigest,
  userKeysFromBundle,
} from "@xmtp-ts/crypto";

const PUBLISH_BATCH = 500;

/** A new XMTP identity whose wallet is a raw key. */
export async function newIdentity() {
  const privateKey = generatePrivateKey();
  const walletAddress = publicKeyToAddress(getPublicKey(privateKey));
  const signText = async (text) => compactToWalletSignature(signDigest(hashPersonalMessage(text), privateKey));
  return userKeysFromBundle(await generatePrivateKeyBundleV1(signText, { walletAddress }));
}

/** `count` conversations with `reader` (a Client), each from a new peer; resolves with the peers' keys. */
export async function seedConversations(reader, count) {
  const peers = [];
  let batch = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const peer = await newIdentity();
    const sealed = await createInvitation({ sender: peer, recipient: reader.signedPublicKeyBundle });
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
