// Test identities with real XMTP keys (wallet-signed identity key, identity-signed pre-key) made with
// @xmtp-ts/crypto, and the real envelopes strangers write to reach topics: v2 sealed invitations and v1 intros.
import { getBytes, hexlify, randomBytes, Wallet } from "ethers";
import {
  createInvitation,
  createIdentityText,
  createLegacyPrivateKey,
  encryptMessageV1,
  fromHex,
  generatePrivateKeyBundleV1,
  legacyPublicKeyOf,
  signedPublicKeyFromLegacy,
  unsignedPublicKeyBytes,
  userKeysFromBundle,
  utf8ToBytes,
  walletSignatureToCompact,
  type UserKeys,
} from "@xmtp-ts/crypto";
import { create, PublicKeySchema, SealedInvitationHeaderV1Schema, SealedInvitationSchema, toBinary } from "@xmtp-ts/proto";
import { envelopeDigest } from "../envelopeDigest.js";
import { identityKeyMaterialOf, type IdentityKeyMaterial } from "../identityKey.js";
import { reachTopic, type ReachTopicKind } from "../reachTopics.js";

export interface Person {
  wallet: Wallet;
  address: string;
  keys: UserKeys;
  identity: IdentityKeyMaterial;
}

/** A fresh wallet (random key, no mnemonic: fast) and its XMTP keys. */
export async function makePerson(): Promise<Person> {
  const signer = new Wallet(hexlify(randomBytes(32)));
  const keys = userKeysFromBundle(await generatePrivateKeyBundleV1(async (text) => getBytes(await signer.signMessage(text))));
  return { wallet: signer, address: signer.address, keys, identity: identityKeyMaterialOf(keys) };
}

/**
 * A deterministic identity key for known-answer vectors: the identity scalar and its timestamp are fixed, and the
 * wallet's Create-Identity signature is deterministic (RFC 6979), so every byte of the key is reproducible.
 */
export async function fixedIdentity(walletKeyHex: string, identitySecretHex: string, timestampMs: bigint) {
  const wallet = new Wallet(walletKeyHex);
  const identity = createLegacyPrivateKey(timestampMs, fromHex(identitySecretHex));
  const unsigned = legacyPublicKeyOf(identity);
  const signature = walletSignatureToCompact(getBytes(await wallet.signMessage(createIdentityText(unsignedPublicKeyBytes(unsigned)))));
  const signedLegacy = create(PublicKeySchema, {
    timestamp: unsigned.timestamp,
    union: unsigned.union,
    signature: { union: { case: "ecdsaCompact", value: signature } },
  });
  const material: IdentityKeyMaterial = {
    privateKey: fromHex(identitySecretHex),
    publicKey: signedPublicKeyFromLegacy(signedLegacy, true),
  };
  return { address: wallet.address, material };
}

export interface TestEnvelope {
  contentTopic: string;
  message: Uint8Array;
  digest: Uint8Array;
}

export function envelopeOf(contentTopic: string, message: Uint8Array): TestEnvelope {
  return { contentTopic, message, digest: envelopeDigest(contentTopic, message) };
}

/** A real v2 invitation from `sender` to `recipient`, as written to `topicOwner`'s invite topic. */
export async function invitationEnvelope(sender: Person, recipient: Person, topicOwner: Person = recipient): Promise<TestEnvelope> {
  const { bytes } = await createInvitation({ sender: sender.keys, recipient: recipient.keys.signedBundle });
  return envelopeOf(reachTopic("invite", topicOwner.address), bytes);
}

/** A real v1 message from `sender` to `recipient`, as written to `topicOwner`'s intro topic. */
export async function introEnvelope(sender: Person, recipient: Person, topicOwner: Person = recipient): Promise<TestEnvelope> {
  const { bytes } = await encryptMessageV1({ sender: sender.keys, recipient: recipient.keys.publicBundle, content: utf8ToBytes("hello") });
  return envelopeOf(reachTopic("intro", topicOwner.address), bytes);
}

export async function reachEnvelope(kind: ReachTopicKind, sender: Person, recipient: Person, topicOwner: Person = recipient) {
  return kind === "invite" ? invitationEnvelope(sender, recipient, topicOwner) : introEnvelope(sender, recipient, topicOwner);
}

/**
 * An invitation anyone can write: a header naming `claimedSender` (its public bundle, copied from its contact
 * topic) and `recipient`, over random ciphertext, since only the real sender could encrypt for that header.
 */
export function forgedInvitationEnvelope(claimedSender: Person, recipient: Person, topicOwner: Person): TestEnvelope {
  const headerBytes = toBinary(
    SealedInvitationHeaderV1Schema,
    create(SealedInvitationHeaderV1Schema, { sender: claimedSender.keys.signedBundle, recipient: recipient.keys.signedBundle, createdNs: 1n }),
  );
  const ciphertext = { union: { case: "aes256GcmHkdfSha256" as const, value: { hkdfSalt: randomBytes(32), gcmNonce: randomBytes(12), payload: randomBytes(48) } } };
  const bytes = toBinary(SealedInvitationSchema, create(SealedInvitationSchema, { version: { case: "v1", value: { headerBytes, ciphertext } } }));
  return envelopeOf(reachTopic("invite", topicOwner.address), bytes);
}
