import { beforeAll, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import {
  create,
  fromBinary,
  toBinary,
  MessageSchema,
  PublicKeyBundleSchema,
  SealedInvitationSchema,
  SealedInvitationHeaderV1Schema,
  SignedPublicKeyBundleSchema,
  MessageHeaderV2Schema,
  SignedContentSchema,
  type MessageV2,
  type PublicKeyBundle,
  type SignedPublicKeyBundle,
} from "@xmtp-ts/proto";
import { encryptAead, decryptAead } from "./aead.js";
import { setCryptoBackend } from "./backend/index.js";
import { KeyBundleVerifier } from "./bundles.js";
import { bytesToUtf8, concatBytes, toHex, utf8ToBytes } from "./bytes.js";
import { DecryptionError, InvalidInvitationError, InvalidMessageError } from "./errors.js";
import { sha256 } from "./hashes.js";
import { createInvitation, openSealedInvitation } from "./invitation.js";
import { generatePrivateKeyBundleV1 } from "./legacyKeys.js";
import { messageId } from "./messageId.js";
import { decryptMessageV1, encryptMessageV1 } from "./messageV1.js";
import { decryptMessageV2, encryptMessageV2, senderHmac } from "./messageV2.js";
import {
  decryptPrivatePreferencesPayload,
  encryptPrivatePreferencesAction,
  privatePreferencesTopicId,
} from "./privatePreferences.js";
import { signDigest } from "./secp256k1.js";
import { decodePrivateKeyBundle, userKeysFromBundle, type UserKeys } from "./userKeys.js";
import { X3dhSecretCache } from "./x3dh.js";
import { backends } from "./test-support/backends.js";
import { Long, sdk, sdkConversationV2, sdkProto, sdkUser, signTextWith } from "./test-support/sdk.js";

async function ourUser(wallet = Wallet.createRandom()) {
  const keys = userKeysFromBundle(await generatePrivateKeyBundleV1(signTextWith(wallet)));
  return { wallet, address: wallet.address, keys };
}

const legacyOf = (sdkBundle: { toBytes(): Uint8Array }): PublicKeyBundle => fromBinary(PublicKeyBundleSchema, sdkBundle.toBytes());
const signedOf = (sdkBundle: { toBytes(): Uint8Array }): SignedPublicKeyBundle => fromBinary(SignedPublicKeyBundleSchema, sdkBundle.toBytes());
const sdkLegacy = (keys: UserKeys) => new sdk.PublicKeyBundle(sdkProto.publicKey.PublicKeyBundle.decode(toBinary(PublicKeyBundleSchema, keys.publicBundle)));
const sdkSigned = (keys: UserKeys) => sdkProto.publicKey.SignedPublicKeyBundle.decode(toBinary(SignedPublicKeyBundleSchema, keys.signedBundle));
const nsLong = (ns: bigint) => Long.fromString(ns.toString(), true);

describe.each(backends)("v1 messages (docs/protocol/messages.md §2) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  it("decrypts a message the SDK sent us, and the SDK's sender can re-read ours", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const sent = new Date();
    const msg = await sdk.MessageV1.encode(alice.keystore, utf8ToBytes("hi bob"), alice.publicBundle, sdkLegacy(bob.keys), sent);
    const opened = await decryptMessageV1(msg.toBytes(), bob.keys);
    expect(bytesToUtf8(opened.content)).toBe("hi bob");
    expect(opened.senderAddress).toBe(alice.address);
    expect(opened.recipientAddress).toBe(bob.address);
    expect(opened.sentMs).toBe(BigInt(sent.getTime()));
    expect(messageId(msg.toBytes())).toBe(msg.id);

    // The SDK user's own keys, read by our code, open the SDK's message as its sender.
    const aliceKeys = userKeysFromBundle(decodePrivateKeyBundle(alice.bundle.encode()));
    expect(bytesToUtf8((await decryptMessageV1(msg.toBytes(), aliceKeys)).content)).toBe("hi bob");
  });

  it("encrypts a message the SDK recipient decrypts", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const { bytes } = await encryptMessageV1({ sender: bob.keys, recipient: legacyOf(alice.publicBundle), content: utf8ToBytes("hi alice") });
    const theirs = await sdk.MessageV1.fromBytes(bytes);
    expect(theirs.senderAddress).toBe(bob.address);
    expect(bytesToUtf8(await theirs.decrypt(alice.keystore, alice.publicBundle))).toBe("hi alice");
    // and we can re-read it as the sender
    expect(bytesToUtf8((await decryptMessageV1(bytes, bob.keys)).content)).toBe("hi alice");
  });

  it("uses cached secrets after the first message and still rejects a flipped byte", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const caches = { verifier: new KeyBundleVerifier(), secrets: new X3dhSecretCache() };
    for (const text of ["one", "two"]) {
      const msg = await sdk.MessageV1.encode(alice.keystore, utf8ToBytes(text), alice.publicBundle, sdkLegacy(bob.keys), new Date());
      expect(bytesToUtf8((await decryptMessageV1(msg.toBytes(), bob.keys, caches)).content)).toBe(text);
    }
    const msg = await sdk.MessageV1.encode(alice.keystore, utf8ToBytes("three"), alice.publicBundle, sdkLegacy(bob.keys), new Date());
    const tampered = msg.toBytes().slice();
    tampered[tampered.length - 3] ^= 1;
    await expect(decryptMessageV1(tampered, bob.keys, caches)).rejects.toThrow(DecryptionError);
  });

  it("refuses a message for someone else and one whose sender bundle was altered", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const carol = await ourUser();
    const msg = await sdk.MessageV1.encode(alice.keystore, utf8ToBytes("for bob"), alice.publicBundle, sdkLegacy(bob.keys), new Date());
    await expect(decryptMessageV1(msg.toBytes(), carol.keys)).rejects.toThrow(/neither from nor to this identity/);
    // A forged header: carol's pre-key in alice's bundle.
    const message = fromBinary(MessageSchema, msg.toBytes());
    const v1 = message.version.value as { headerBytes: Uint8Array };
    const header = sdkProto.message.MessageHeaderV1.decode(v1.headerBytes);
    header.sender.preKey = sdkProto.publicKey.PublicKeyBundle.decode(toBinary(PublicKeyBundleSchema, carol.keys.publicBundle)).preKey;
    v1.headerBytes = sdkProto.message.MessageHeaderV1.encode(header).finish();
    await expect(decryptMessageV1(toBinary(MessageSchema, message), bob.keys)).rejects.toThrow(/pre-key is not signed by the identity key/);
  });
});

describe.each(backends)("invitations (docs/protocol/messages.md §4) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  it("opens an SDK invitation with a conversationId, and both sides derive the same topic and key material", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const createdNs = BigInt(Date.now()) * 1_000_000n;
    const context = { conversationId: "xmtp.org/test/42", metadata: { title: "hello" } };
    const response = await alice.keystore.createInvite({ recipient: sdkSigned(bob.keys), createdNs: nsLong(createdNs), context, consentProof: undefined });
    const opened = await openSealedInvitation(response.payload, bob.keys, createdNs);
    expect(opened.isSender).toBe(false);
    expect(opened.peerAddress).toBe(alice.address);
    expect(opened.topic).toBe(response.conversation.topic);
    expect(opened.topic).toMatch(/^\/xmtp\/0\/m-[0-9a-f]{64}\/proto$/);
    expect(opened.context?.conversationId).toBe("xmtp.org/test/42");
    expect(opened.context?.metadata).toEqual({ title: "hello" });

    // Our own invitation to alice for the same conversationId lands on the same topic with the same key.
    const ours = await createInvitation({ sender: bob.keys, recipient: signedOf(alice.signedBundle), context });
    expect(ours.topic).toBe(opened.topic);
    expect(toHex(ours.keyMaterial)).toBe(toHex(opened.keyMaterial));
  });

  it("seals an invitation the SDK opens; we re-open it as its sender", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const sealed = await createInvitation({ sender: bob.keys, recipient: signedOf(alice.signedBundle) });
    const header = fromBinary(SealedInvitationHeaderV1Schema, (fromBinary(SealedInvitationSchema, sealed.bytes).version.value!).headerBytes);
    expect(toHex(toBinary(SignedPublicKeyBundleSchema, header.recipient!))).toBe(toHex(alice.signedBundle.toBytes()));
    expect(header.createdNs).toBe(sealed.createdNs);
    const { responses } = await alice.keystore.saveInvites({
      requests: [{ payload: sealed.bytes, timestampNs: nsLong(sealed.createdNs), contentTopic: `/xmtp/0/invite-${alice.address}/proto` }],
    });
    expect(responses[0].error).toBeUndefined();
    expect(responses[0].result.conversation.topic).toBe(sealed.topic);
    expect(responses[0].result.conversation.peerAddress).toBe(bob.address);
    const reopened = await openSealedInvitation(sealed.bytes, bob.keys, sealed.createdNs);
    expect(reopened.isSender).toBe(true);
    expect(reopened.peerAddress).toBe(alice.address);
    expect(toHex(reopened.keyMaterial)).toBe(toHex(sealed.keyMaterial));
  });

  it("rejects a timestamp mismatch, a stranger, a tampered header and a forged sender", async () => {
    const alice = await sdkUser();
    const bob = await ourUser();
    const carol = await ourUser();
    const createdNs = BigInt(Date.now()) * 1_000_000n;
    const { payload } = await alice.keystore.createInvite({ recipient: sdkSigned(bob.keys), createdNs: nsLong(createdNs), context: undefined, consentProof: undefined });
    await expect(openSealedInvitation(payload, bob.keys, createdNs + 1n)).rejects.toThrow(/differs from the header's created_ns/);
    await expect(openSealedInvitation(payload, carol.keys, createdNs)).rejects.toThrow(/neither from nor to this identity/);

    const sealed = fromBinary(SealedInvitationSchema, payload);
    const v1 = sealed.version.value!;
    const header = fromBinary(SealedInvitationHeaderV1Schema, v1.headerBytes);
    header.createdNs += 1_000_000n;
    v1.headerBytes = toBinary(SealedInvitationHeaderV1Schema, header);
    await expect(openSealedInvitation(toBinary(SealedInvitationSchema, sealed), bob.keys, header.createdNs)).rejects.toThrow(DecryptionError);

    // Carol re-seals the header claiming to be alice, with her own pre-key: the bundle signature check stops it.
    const forged = fromBinary(SealedInvitationHeaderV1Schema, (fromBinary(SealedInvitationSchema, payload).version.value!).headerBytes);
    forged.sender!.preKey = carol.keys.signedBundle.preKey;
    const forgedBytes = toBinary(SealedInvitationHeaderV1Schema, forged);
    const ct = await encryptAead(new Uint8Array(195), utf8ToBytes("x"), forgedBytes);
    const forgedSealed = toBinary(SealedInvitationSchema, create(SealedInvitationSchema, { version: { case: "v1", value: { headerBytes: forgedBytes, ciphertext: ct } } }));
    await expect(openSealedInvitation(forgedSealed, bob.keys, createdNs)).rejects.toThrow(/pre-key is not signed/);
    await expect(openSealedInvitation(new Uint8Array([9, 9, 9]), bob.keys, undefined)).rejects.toThrow(InvalidInvitationError);
  });
});

describe.each(backends)("v2 messages (docs/protocol/messages.md §3) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  async function conversation() {
    const alice = await sdkUser();
    const bob = await ourUser();
    const sealed = await createInvitation({ sender: bob.keys, recipient: signedOf(alice.signedBundle) });
    await alice.keystore.saveInvites({
      requests: [{ payload: sealed.bytes, timestampNs: nsLong(sealed.createdNs), contentTopic: `/xmtp/0/invite-${alice.address}/proto` }],
    });
    return { alice, bob, topic: sealed.topic, keyMaterial: sealed.keyMaterial, sdkConvo: sdkConversationV2(alice, sealed.topic, bob.address) };
  }

  it("decrypts and verifies a message the SDK created", async () => {
    const { alice, topic, keyMaterial, sdkConvo } = await conversation();
    const msg = await sdkConvo.createMessage(utf8ToBytes("encoded content"), true, new Date());
    const opened = await decryptMessageV2(msg.toBytes(), keyMaterial, topic);
    expect(bytesToUtf8(opened.content)).toBe("encoded content");
    expect(opened.senderAddress).toBe(alice.address);
    expect(opened.header.createdNs).toBe(BigInt(msg.sent.getTime()) * 1_000_000n);
    expect(opened.shouldPush).toBe(true);
    expect(toHex(opened.senderHmac!)).toBe(toHex(await senderHmac(keyMaterial, alice.address, fromBinary(MessageSchema, msg.toBytes()).version.value!.headerBytes)));
    expect(messageId(msg.toBytes())).toBe(msg.id);
  });

  it("creates a message the SDK decrypts and attributes to us", async () => {
    const { bob, topic, keyMaterial, sdkConvo } = await conversation();
    const { bytes } = await encryptMessageV2({ sender: bob.keys, keyMaterial, topic, content: utf8ToBytes("from bob"), shouldPush: false });
    const decoded = await sdkConvo.decodeMessage({ contentTopic: topic, message: bytes });
    expect(bytesToUtf8(decoded.content)).toBe("from bob");
    expect(decoded.senderAddress).toBe(bob.address);
    const v2 = fromBinary(MessageSchema, bytes).version.value as { senderHmac?: Uint8Array; shouldPush?: boolean };
    expect(v2.senderHmac?.length).toBe(32);
    expect(v2.shouldPush).toBe(false);
  });

  it("rejects a wrong topic, a flipped byte, a forged signature and a high-S signature", async () => {
    const { bob, topic, keyMaterial } = await conversation();
    const { bytes } = await encryptMessageV2({ sender: bob.keys, keyMaterial, topic, content: utf8ToBytes("x") });
    await expect(decryptMessageV2(bytes, keyMaterial, topic.replace("m-", "m-0"))).rejects.toThrow(/topic/);
    const flipped = bytes.slice();
    flipped[flipped.length - 40] ^= 1;
    await expect(decryptMessageV2(flipped, keyMaterial, topic)).rejects.toThrow();

    // Re-sign the content with bob's identity key instead of his pre-key: a valid signature by the wrong key.
    const resign = async (mutate: (sig: Uint8Array) => void, signer: Uint8Array) => {
      const message = fromBinary(MessageSchema, bytes);
      const v2 = message.version.value as MessageV2;
      const signed = fromBinary(SignedContentSchema, await decryptAead(v2.ciphertext, keyMaterial, v2.headerBytes));
      const sig = signDigest(sha256(concatBytes(v2.headerBytes, signed.payload)), signer);
      mutate(sig.bytes);
      signed.signature = { $typeName: "xmtp.message_contents.Signature", union: { case: "ecdsaCompact", value: { $typeName: "xmtp.message_contents.Signature.ECDSACompact", bytes: sig.bytes, recovery: sig.recovery } } };
      v2.ciphertext = await encryptAead(keyMaterial, toBinary(SignedContentSchema, signed), v2.headerBytes);
      return toBinary(MessageSchema, message);
    };
    await expect(decryptMessageV2(await resign(() => {}, bob.keys.identityPrivateKey), keyMaterial, topic)).rejects.toThrow(InvalidMessageError);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = await resign((sig) => {
      const s = BigInt("0x" + toHex(sig.subarray(32)));
      const flippedS = (n - s).toString(16).padStart(64, "0");
      sig.set(Uint8Array.from(flippedS.match(/../g)!.map((h) => parseInt(h, 16))), 32);
    }, bob.keys.preKeys[0].privateKey);
    await expect(decryptMessageV2(highS, keyMaterial, topic)).rejects.toThrow(/signature does not match/);
    // Sanity: an unmodified re-signature passes, so the two failures above are the signature checks.
    const ok = await decryptMessageV2(await resign(() => {}, bob.keys.preKeys[0].privateKey), keyMaterial, topic);
    expect(ok.senderAddress).toBe(bob.address);
  });

  it("header bytes carry created_ns and the topic", async () => {
    const { bob, topic, keyMaterial } = await conversation();
    const { bytes } = await encryptMessageV2({ sender: bob.keys, keyMaterial, topic, content: utf8ToBytes("x"), createdNs: 1234000000n });
    const header = fromBinary(MessageHeaderV2Schema, (fromBinary(MessageSchema, bytes).version.value as { headerBytes: Uint8Array }).headerBytes);
    expect(header.createdNs).toBe(1234000000n);
    expect(header.topic).toBe(topic);
  });
});

describe.each(backends)("private preferences (docs/protocol/messages.md §5) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  it("derives the SDK's topic id and reads/writes actions the SDK reads/writes", async () => {
    const alice = await sdkUser();
    const keys = userKeysFromBundle(decodePrivateKeyBundle(alice.bundle.encode()));
    const { identifier } = await alice.keystore.getPrivatePreferencesTopicIdentifier();
    expect(await privatePreferencesTopicId(keys.identityPrivateKey)).toBe(identifier);
    expect(identifier).toHaveLength(43);

    const peer = Wallet.createRandom().address;
    const [env] = await alice.keystore.createPrivatePreference({ allowAddress: { walletAddresses: [peer] } });
    const action = await decryptPrivatePreferencesPayload(env.message, keys.identityPrivateKey, keys.identityPublicKey);
    expect(action.messageType.case).toBe("allowAddress");
    expect((action.messageType.value as { walletAddresses: string[] }).walletAddresses).toEqual([peer]);

    const ours = await encryptPrivatePreferencesAction(
      { messageType: { case: "denyAddress", value: { walletAddresses: [peer] } } },
      keys.identityPrivateKey,
      keys.identityPublicKey,
    );
    const { responses } = await alice.keystore.selfDecrypt({ requests: [{ payload: ours }] });
    const theirs = sdkProto.privatePreferences.PrivatePreferencesAction.decode(responses[0].result.decrypted);
    expect(theirs.denyAddress.walletAddresses).toEqual([peer]);
  });

  it("refuses another identity's payload", async () => {
    const alice = await ourUser();
    const mallory = await ourUser();
    const payload = await encryptPrivatePreferencesAction(
      { messageType: { case: "allowAddress", value: { walletAddresses: [mallory.address] } } },
      mallory.keys.identityPrivateKey,
      mallory.keys.identityPublicKey,
    );
    await expect(decryptPrivatePreferencesPayload(payload, alice.keys.identityPrivateKey, alice.keys.identityPublicKey)).rejects.toThrow(DecryptionError);
  });
});
