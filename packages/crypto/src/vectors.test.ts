// Frozen known answers for the protocol functions: exact bytes from fixed inputs (keys, timestamps, salts, nonces), on
// every back end. The values in test-vectors/knownAnswers.json were computed once and cross-checked then against the
// public SDK (see its "about"); they are literals here so that any change in the bytes XMTP puts on the wire fails.
//
// The AEAD draws its HKDF salt and GCM nonce inside (no parameter injects them), and so do everything built on it:
// key storage, v1 and v2 messages, invitations, private preferences. For those the primary vector is decrypt-side:
// the frozen ciphertext must open to the frozen plaintext. The encrypt side is then checked too, with the random
// source stubbed in this test only (`withRandom`: the salt and nonce below, in that order), which must reproduce the
// frozen bytes exactly.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  create,
  fromBinary,
  toBinary,
  CiphertextSchema,
  MessageHeaderV1Schema,
  MessageSchema,
  PrivateKeyBundleV1Schema,
  PublicKeyBundleSchema,
  PublicKeySchema,
  SignedContentSchema,
  SignedPublicKeyBundleSchema,
  type MessageV2,
} from "@xmtp-ts/proto";
import { decryptAead, encryptAead } from "./aead.js";
import { verifyAuthToken, createAuthToken } from "./authToken.js";
import { setCryptoBackend } from "./backend/index.js";
import { bytesToUtf8, fromHex, toHex, utf8ToBytes } from "./bytes.js";
import { keccak256, sha256 } from "./hashes.js";
import { unsignedPublicKeyBytes, walletAddressOfIdentityKey } from "./identityKey.js";
import { createInvitation, invitationKeyMaterial, invitationTopic, openSealedInvitation } from "./invitation.js";
import { decryptStoredKeyBundle, encryptKeyBundleForStorage } from "./keyStorage.js";
import { createLegacyPrivateKey, signLegacyPublicKey, type SignText } from "./legacyKeys.js";
import { messageId } from "./messageId.js";
import { decryptMessageV1, encryptMessageV1 } from "./messageV1.js";
import { decryptMessageV2, encryptMessageV2, senderHmac } from "./messageV2.js";
import {
  decryptPrivatePreferencesPayload,
  encryptPrivatePreferencesAction,
  privatePreferencesTopic,
  privatePreferencesTopicId,
} from "./privatePreferences.js";
import {
  contactTopic,
  directMessageTopic,
  ephemeralDirectMessageTopic,
  introTopic,
  inviteTopic,
  privateStoreKeyBundleTopic,
} from "./topics.js";
import { decodePrivateKeyBundle, encodePrivateKeyBundle, userKeysFromBundle, type UserKeys } from "./userKeys.js";
import {
  createIdentityText,
  enableIdentityText,
  hashPersonalMessage,
  privateKeySigner,
  walletSignatureToCompact,
} from "./walletSignature.js";
import { x3dhSecret } from "./x3dh.js";
import { backends } from "./test-support/backends.js";
import V from "./test-vectors/knownAnswers.json" with { type: "json" };

const K = V.inputs.keys;
const T_MS = BigInt(V.inputs.timestampMs);
const SALT = fromHex(V.inputs.hkdfSalt);
const NONCE = fromHex(V.inputs.gcmNonce);

/** noble's secp256k1 blinds scalar multiplications (16 random bytes) and signatures (48), never changing a result. */
const NOBLE_BLINDING_SIZES = new Set([16, 48]);
const realGetRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto);

/**
 * Runs `fn` with globalThis.crypto.getRandomValues giving exactly `chunks`, in order (noble's blinding draws apart,
 * which get real random bytes), and fails on any other draw or on a chunk left over.
 */
async function withRandom<T>(chunks: Uint8Array[], fn: () => Promise<T>): Promise<T> {
  const queue = [...chunks];
  const spy = vi.spyOn(globalThis.crypto, "getRandomValues").mockImplementation(<A extends ArrayBufferView | null>(array: A): A => {
    if (array && NOBLE_BLINDING_SIZES.has(array.byteLength)) return realGetRandomValues(array);
    const next = queue.shift();
    if (!next || !array || next.length !== array.byteLength) throw new Error(`unexpected random draw of ${array?.byteLength} bytes`);
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(next);
    return array;
  });
  try {
    const result = await fn();
    expect(queue).toHaveLength(0);
    return result;
  } finally {
    spy.mockRestore();
  }
}

const signTextOf = (privateKeyHex: string): SignText => {
  const signer = privateKeySigner(fromHex(privateKeyHex));
  return async (text) => fromHex(await signer.signMessage(text));
};

/** The bundle of the vectors, built from the fixed scalars as generatePrivateKeyBundleV1 builds one from random ones. */
async function bundleFromScalars(walletKey: string, identityKey: string, preKey: string) {
  const identity = createLegacyPrivateKey(T_MS, fromHex(identityKey));
  const unsigned = identity.publicKey!;
  const text = createIdentityText(unsignedPublicKeyBytes(unsigned));
  const walletSignature = await signTextOf(walletKey)(text);
  identity.publicKey = create(PublicKeySchema, {
    timestamp: unsigned.timestamp,
    union: unsigned.union,
    signature: { union: { case: "ecdsaCompact", value: walletSignatureToCompact(walletSignature) } },
  });
  const pre = createLegacyPrivateKey(T_MS, fromHex(preKey));
  pre.publicKey = signLegacyPublicKey(pre.publicKey!, fromHex(identityKey));
  return { text, walletSignature, bundle: create(PrivateKeyBundleV1Schema, { identityKey: identity, preKeys: [pre] }) };
}

const x3dhOwn = (keys: UserKeys) => ({ identityPrivateKey: keys.identityPrivateKey, preKeyPrivateKey: keys.preKeys[0].privateKey });
const x3dhPeer = (keys: UserKeys) => ({ identityPublicKey: keys.identityPublicKey, preKeyPublicKey: keys.preKeys[0].publicKey });

describe("known answers: hashes, signature texts and topic names", () => {
  it("hashes", () => {
    expect(toHex(sha256(new Uint8Array(0)))).toBe(V.hashes.sha256_empty);
    expect(toHex(sha256(utf8ToBytes("xmtp")))).toBe(V.hashes.sha256_xmtp);
    expect(toHex(keccak256(new Uint8Array(0)))).toBe(V.hashes.keccak256_empty);
    expect(toHex(keccak256(utf8ToBytes("xmtp")))).toBe(V.hashes.keccak256_xmtp);
    expect(toHex(hashPersonalMessage("hello"))).toBe(V.hashes.personal_hello);
    expect(toHex(hashPersonalMessage(utf8ToBytes("hello")))).toBe(V.hashes.personal_hello);
  });

  it("Create-Identity and Enable-Identity texts", () => {
    expect(createIdentityText(fromHex(V.identity.unsignedKeyA))).toBe(V.identity.createIdentityTextA);
    expect(enableIdentityText(fromHex(V.keyStorage.walletPreKey))).toBe(V.keyStorage.enableIdentityText);
  });

  it("topic names (from addresses in any case)", () => {
    const { A, B } = V.addresses;
    expect(contactTopic(A.toLowerCase())).toBe(V.topics.contactA);
    expect(privateStoreKeyBundleTopic(A)).toBe(V.topics.privateStoreA);
    expect(inviteTopic(A.toUpperCase().replace("0X", "0x"))).toBe(V.topics.inviteA);
    expect(introTopic(A)).toBe(V.topics.introA);
    expect(directMessageTopic(A, B)).toBe(V.topics.dmAB);
    expect(directMessageTopic(B.toLowerCase(), A)).toBe(V.topics.dmAB);
    expect(ephemeralDirectMessageTopic(B, A)).toBe(V.topics.dmEAB);
  });
});

describe.each(backends)("known answers on the $name back end", (backend) => {
  let keysA: UserKeys;
  let keysB: UserKeys;
  beforeAll(() => {
    setCryptoBackend(backend);
    keysA = userKeysFromBundle(decodePrivateKeyBundle(fromHex(V.identity.privateBundleA)));
    keysB = userKeysFromBundle(decodePrivateKeyBundle(fromHex(V.identity.privateBundleB)));
  });
  afterEach(() => vi.restoreAllMocks());

  it("wallet addresses and the identity key's wallet signature", async () => {
    expect(privateKeySigner(fromHex(K.walletA)).address).toBe(V.addresses.A);
    expect(privateKeySigner(fromHex(K.walletB)).address).toBe(V.addresses.B);
    const built = await bundleFromScalars(K.walletA, K.identityA, K.preKeyA);
    expect(toHex(unsignedPublicKeyBytes(built.bundle.identityKey!.publicKey!))).toBe(V.identity.unsignedKeyA);
    expect(built.text).toBe(V.identity.createIdentityTextA);
    expect(toHex(built.walletSignature)).toBe(V.identity.walletSignatureA);
    expect(walletAddressOfIdentityKey(built.bundle.identityKey!.publicKey!)).toBe(V.addresses.A);
  });

  it("key bundles: pre-key signature and every encoding", async () => {
    const a = await bundleFromScalars(K.walletA, K.identityA, K.preKeyA);
    const b = await bundleFromScalars(K.walletB, K.identityB, K.preKeyB);
    expect(toHex(encodePrivateKeyBundle(a.bundle))).toBe(V.identity.privateBundleA);
    expect(toHex(encodePrivateKeyBundle(b.bundle))).toBe(V.identity.privateBundleB);
    const sig = keysA.preKeys[0].legacy.signature!.union;
    expect(sig.case).toBe("ecdsaCompact");
    expect({ bytes: toHex(sig.value!.bytes), recovery: sig.value!.recovery }).toEqual(V.identity.preKeySignatureA);
    expect(toHex(keysA.identityPublicKey)).toBe(V.identity.identityPublicKeyA);
    expect(toHex(keysA.preKeys[0].publicKey)).toBe(V.identity.preKeyPublicKeyA);
    expect(toHex(toBinary(PublicKeyBundleSchema, keysA.publicBundle))).toBe(V.identity.publicBundleA);
    expect(toHex(toBinary(SignedPublicKeyBundleSchema, keysA.signedBundle))).toBe(V.identity.signedBundleA);
    expect(toHex(toBinary(SignedPublicKeyBundleSchema, keysB.signedBundle))).toBe(V.identity.signedBundleB);
    expect([keysA.walletAddress, keysB.walletAddress]).toEqual([V.addresses.A, V.addresses.B]);
  });

  it("AEAD (HKDF-SHA256 + AES-256-GCM): decrypt side, then encrypt side with the salt and nonce injected", async () => {
    const secret = fromHex(V.aead.secret);
    const aad = utf8ToBytes(V.aead.aad);
    const ciphertext = fromBinary(CiphertextSchema, fromHex(V.aead.ciphertext));
    expect(bytesToUtf8(await decryptAead(ciphertext, secret, aad))).toBe(V.aead.plaintext);
    const ours = await withRandom([SALT, NONCE], () => encryptAead(secret, utf8ToBytes(V.aead.plaintext), aad));
    expect(toHex(toBinary(CiphertextSchema, ours))).toBe(V.aead.ciphertext);
    expect(toHex((ours.union.value as { payload: Uint8Array }).payload)).toBe(V.aead.payload);
  });

  it("X3DH: the 195-byte secret in both roles", async () => {
    expect(toHex(await x3dhSecret(x3dhOwn(keysA), x3dhPeer(keysB), false))).toBe(V.x3dh.aSendsToB);
    expect(toHex(await x3dhSecret(x3dhOwn(keysB), x3dhPeer(keysA), true))).toBe(V.x3dh.aSendsToB);
    expect(toHex(await x3dhSecret(x3dhOwn(keysB), x3dhPeer(keysA), false))).toBe(V.x3dh.bSendsToA);
    expect(toHex(await x3dhSecret(x3dhOwn(keysA), x3dhPeer(keysB), true))).toBe(V.x3dh.bSendsToA);
  });

  it("key storage: the Enable-Identity secret; decrypts the stored bundle (decrypt side), then encrypts it", async () => {
    const texts: string[] = [];
    const sign = signTextOf(K.walletA);
    const recording: SignText = async (text) => (texts.push(text), sign(text));
    expect(toHex(await sign(V.keyStorage.enableIdentityText))).toBe(V.keyStorage.secret);
    const loaded = await decryptStoredKeyBundle(fromHex(V.keyStorage.stored), recording);
    expect(texts).toEqual([V.keyStorage.enableIdentityText]);
    expect(loaded.needsResave).toBe(false);
    expect(toHex(encodePrivateKeyBundle(loaded.bundle))).toBe(V.identity.privateBundleA);
    // A wallet answering with v = 0/1 (Ledger) opens it too.
    const ledger: SignText = async (text) => {
      const signature = await sign(text);
      signature[64] -= 27;
      return signature;
    };
    expect(toHex(encodePrivateKeyBundle((await decryptStoredKeyBundle(fromHex(V.keyStorage.stored), ledger)).bundle))).toBe(V.identity.privateBundleA);
    const stored = await withRandom([SALT, NONCE], () => encryptKeyBundleForStorage(keysA.bundle, sign, fromHex(V.keyStorage.walletPreKey)));
    expect(toHex(stored)).toBe(V.keyStorage.stored);
  });

  it("v1 message: decrypt side as recipient and as sender, message id, then encrypt side", async () => {
    const bytes = fromHex(V.messageV1.bytes);
    expect(messageId(bytes)).toBe(V.messageV1.id);
    for (const me of [keysB, keysA]) {
      const opened = await decryptMessageV1(bytes, me);
      expect(bytesToUtf8(opened.content)).toBe(V.messageV1.content);
      expect([opened.senderAddress, opened.recipientAddress]).toEqual([V.addresses.A, V.addresses.B]);
      expect(opened.sentMs).toBe(BigInt(V.messageV1.timestampMs));
      expect(toHex(toBinary(MessageHeaderV1Schema, opened.header))).toBe(toHex(toBinary(MessageHeaderV1Schema, create(MessageHeaderV1Schema, {
        sender: keysA.publicBundle,
        recipient: keysB.publicBundle,
        timestamp: BigInt(V.messageV1.timestampMs),
      }))));
    }
    const sent = await withRandom([SALT, NONCE], () =>
      encryptMessageV1({ sender: keysA, recipient: keysB.publicBundle, content: utf8ToBytes(V.messageV1.content), timestampMs: BigInt(V.messageV1.timestampMs) }),
    );
    expect(toHex(sent.bytes)).toBe(V.messageV1.bytes);
  });

  it("invitation: topic and key material from the X3DH secret, sealed invitation opened (decrypt side) and sealed", async () => {
    const { invitation } = V;
    expect(keysA.walletAddress < keysB.walletAddress).toBe(invitation.aIsRecipientRole);
    const secret = await x3dhSecret(x3dhOwn(keysA), x3dhPeer(keysB), invitation.aIsRecipientRole);
    expect(await invitationTopic(secret, V.addresses.A, V.addresses.B)).toBe(invitation.topic);
    expect(await invitationTopic(secret, V.addresses.B, V.addresses.A)).toBe(invitation.topic);
    expect(await invitationTopic(secret, V.addresses.A, V.addresses.B, invitation.conversationId)).toBe(invitation.topicWithConversationId);
    expect(toHex(await invitationKeyMaterial(secret, V.addresses.B, V.addresses.A))).toBe(invitation.keyMaterial);

    const createdNs = BigInt(invitation.createdNs);
    for (const [me, isSender, peer] of [[keysB, false, V.addresses.A], [keysA, true, V.addresses.B]] as const) {
      const opened = await openSealedInvitation(fromHex(invitation.sealed), me, createdNs);
      expect(opened.isSender).toBe(isSender);
      expect(opened.peerAddress).toBe(peer);
      expect(opened.topic).toBe(invitation.topicWithConversationId);
      expect(toHex(opened.keyMaterial)).toBe(invitation.keyMaterial);
      expect(opened.context?.conversationId).toBe(invitation.conversationId);
      expect(opened.context?.metadata).toEqual({ k: "v" });
    }
    const sealed = await withRandom([SALT, NONCE], () =>
      createInvitation({ sender: keysA, recipient: keysB.signedBundle, context: { conversationId: invitation.conversationId, metadata: { k: "v" } }, createdNs }),
    );
    expect(toHex(sealed.bytes)).toBe(invitation.sealed);
  });

  it("v2 message: sender_hmac, decrypt side (signed content included), message id, then encrypt side", async () => {
    const { messageV2 } = V;
    const keyMaterial = fromHex(V.invitation.keyMaterial);
    const topic = V.invitation.topicWithConversationId;
    const headerBytes = fromHex(messageV2.headerBytes);
    expect(toHex(await senderHmac(keyMaterial, V.addresses.A, headerBytes, messageV2.nowMs))).toBe(messageV2.senderHmac);
    const bytes = fromHex(messageV2.bytes);
    expect(messageId(bytes)).toBe(messageV2.id);
    const opened = await decryptMessageV2(bytes, keyMaterial, topic);
    expect(bytesToUtf8(opened.content)).toBe(messageV2.content);
    expect(opened.senderAddress).toBe(V.addresses.A);
    expect(opened.header.createdNs).toBe(BigInt(messageV2.createdNs));
    expect(toHex(opened.senderHmac!)).toBe(messageV2.senderHmac);
    expect(opened.shouldPush).toBe(true);
    expect(toHex(toBinary(SignedContentSchema, opened.signed))).toBe(messageV2.signedContent);
    const v2 = fromBinary(MessageSchema, bytes).version.value as MessageV2;
    expect(toHex(await decryptAead(v2.ciphertext, keyMaterial, headerBytes))).toBe(messageV2.signedContent);

    vi.spyOn(Date, "now").mockReturnValue(messageV2.nowMs); // sender_hmac's 30-day period
    const sent = await withRandom([SALT, NONCE], () =>
      encryptMessageV2({ sender: keysA, keyMaterial, topic, content: utf8ToBytes(messageV2.content), createdNs: BigInt(messageV2.createdNs), shouldPush: true }),
    );
    expect(toHex(sent.bytes)).toBe(messageV2.bytes);
  });

  it("private preferences: topic id, decrypt side, then encrypt side", async () => {
    const { privatePreferences } = V;
    expect(await privatePreferencesTopicId(keysA.identityPrivateKey)).toBe(privatePreferences.topicId);
    expect(await privatePreferencesTopic(keysA.identityPrivateKey)).toBe(privatePreferences.topic);
    const action = await decryptPrivatePreferencesPayload(fromHex(privatePreferences.payload), keysA.identityPrivateKey, keysA.identityPublicKey);
    expect(action.messageType.case).toBe("allowAddress");
    expect((action.messageType.value as { walletAddresses: string[] }).walletAddresses).toEqual([V.addresses.B]);
    const payload = await withRandom([SALT, NONCE], () =>
      encryptPrivatePreferencesAction(
        { messageType: { case: "allowAddress", value: { walletAddresses: [V.addresses.B] } } },
        keysA.identityPrivateKey,
        keysA.identityPublicKey,
      ),
    );
    expect(toHex(payload)).toBe(privatePreferences.payload);
  });

  it("auth token", () => {
    const createdNs = BigInt(V.authToken.createdNs);
    const token = createAuthToken({ identityKey: keysA.identityKey, identityPrivateKey: keysA.identityPrivateKey, walletAddress: V.addresses.A, createdNs });
    expect(token).toBe(V.authToken.token);
    expect(verifyAuthToken(V.authToken.token, { nowNs: createdNs + 1n })).toEqual({ walletAddress: V.addresses.A, createdNs });
  });
});
