// docs/protocol/messages.md §4: v2 conversation set-up. The topic and key material derive deterministically from the
// X3DH secret of the two bundles (plus an optional conversationId); the InvitationV1 carrying them is sealed to the
// recipient.
import {
  create,
  fromBinary,
  toBinary,
  InvitationV1Schema,
  SealedInvitationHeaderV1Schema,
  SealedInvitationSchema,
  type ConsentProofPayload,
  type InvitationV1,
  type InvitationV1_Context,
  type MessageInitShape,
  type SealedInvitationHeaderV1,
  type SignedPublicKeyBundle,
} from "@xmtp-ts/proto";
import { encryptAead } from "./aead.js";
import { getCryptoBackend } from "./backend/index.js";
import { verifySignedPublicKeyBundle } from "./bundles.js";
import { equalBytes, toHex, utf8ToBytes } from "./bytes.js";
import type { CryptoCaches } from "./caches.js";
import { InvalidInvitationError, XmtpCryptoError } from "./errors.js";
import { signedPublicKeyPoint } from "./signedKeys.js";
import { findPreKey, type UserKeys, type UserPreKey } from "./userKeys.js";
import { decryptWithX3dh, x3dhSecretCached, type X3dhPeerKeys } from "./x3dh.js";

export const INVITATION_SALT = utf8ToBytes("__XMTP__INVITATION__SALT__XMTP__");

/** JS default sort: by UTF-16 code unit, case-sensitive, as the SDK sorts the EIP-55 strings. */
export function sortAddresses(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

/** `/xmtp/0/m-<hex HMAC(secret, conversationId + lo + "," + hi)>/proto`. */
export async function invitationTopic(secret: Uint8Array, addressA: string, addressB: string, conversationId = ""): Promise<string> {
  const [lo, hi] = sortAddresses(addressA, addressB);
  const backend = await getCryptoBackend();
  const mac = await backend.hmacSha256(secret, utf8ToBytes(conversationId + lo + "," + hi));
  return `/xmtp/0/m-${toHex(mac)}/proto`;
}

/** HKDF-SHA256(secret, INVITATION_SALT, "0|lo|hi", 32). */
export async function invitationKeyMaterial(secret: Uint8Array, addressA: string, addressB: string): Promise<Uint8Array> {
  const [lo, hi] = sortAddresses(addressA, addressB);
  const backend = await getCryptoBackend();
  return backend.hkdfSha256(secret, INVITATION_SALT, utf8ToBytes(`0|${lo}|${hi}`), 32);
}

function peerPoints(bundle: SignedPublicKeyBundle): X3dhPeerKeys {
  return { identityPublicKey: signedPublicKeyPoint(bundle.identityKey!), preKeyPublicKey: signedPublicKeyPoint(bundle.preKey!) };
}

function ownKeys(me: UserKeys, preKey: UserPreKey) {
  return { identityPrivateKey: me.identityPrivateKey, preKeyPrivateKey: preKey.privateKey };
}

function verifySigned(bundle: SignedPublicKeyBundle, caches: CryptoCaches): Promise<string> {
  return caches.verifier ? caches.verifier.verifySigned(bundle) : verifySignedPublicKeyBundle(bundle);
}

export interface CreateInvitationInput {
  sender: UserKeys;
  /** The recipient's v2 bundle exactly as published on its contact topic. */
  recipient: SignedPublicKeyBundle;
  context?: MessageInitShape<typeof InvitationV1Schema>["context"];
  consentProof?: MessageInitShape<typeof InvitationV1Schema>["consentProof"];
  createdNs?: bigint;
}

export interface SealedInvitationResult {
  /** `SealedInvitation` bytes, published to both invite topics with timestampNs = createdNs. */
  bytes: Uint8Array;
  invitation: InvitationV1;
  topic: string;
  keyMaterial: Uint8Array;
  peerAddress: string;
  createdNs: bigint;
}

/** Creates and seals an invitation to `recipient` (deterministic topic and key material). */
export async function createInvitation(input: CreateInvitationInput, caches: CryptoCaches = {}): Promise<SealedInvitationResult> {
  const { sender, recipient } = input;
  if (!recipient.identityKey || !recipient.preKey) throw new InvalidInvitationError("recipient bundle is missing a key");
  const peerAddress = await verifySigned(recipient, caches);
  if (peerAddress === sender.walletAddress) throw new InvalidInvitationError("cannot invite yourself");
  const me = ownKeys(sender, sender.preKeys[0]);
  const peer = peerPoints(recipient);
  const isRecipientRole = sender.walletAddress < peerAddress;
  const roleSecret = await x3dhSecretCached(me, peer, isRecipientRole, caches.secrets);
  const conversationId = input.context?.conversationId ?? "";
  const topic = await invitationTopic(roleSecret, sender.walletAddress, peerAddress, conversationId);
  const keyMaterial = await invitationKeyMaterial(roleSecret, sender.walletAddress, peerAddress);
  const invitation = create(InvitationV1Schema, {
    topic,
    context: input.context,
    encryption: { case: "aes256GcmHkdfSha256", value: { keyMaterial } },
    consentProof: input.consentProof,
  });
  const createdNs = input.createdNs ?? BigInt(Date.now()) * 1_000_000n;
  const headerBytes = toBinary(
    SealedInvitationHeaderV1Schema,
    create(SealedInvitationHeaderV1Schema, { sender: sender.signedBundle, recipient, createdNs }),
  );
  // The sealing secret always uses the sender role, whatever role picked the topic.
  const sealSecret = isRecipientRole ? await x3dhSecretCached(me, peer, false, caches.secrets) : roleSecret;
  const ciphertext = await encryptAead(sealSecret, toBinary(InvitationV1Schema, invitation), headerBytes);
  const bytes = toBinary(
    SealedInvitationSchema,
    create(SealedInvitationSchema, { version: { case: "v1", value: { headerBytes, ciphertext } } }),
  );
  return { bytes, invitation, topic, keyMaterial, peerAddress, createdNs };
}

export interface OpenedInvitation {
  header: SealedInvitationHeaderV1;
  invitation: InvitationV1;
  topic: string;
  keyMaterial: Uint8Array;
  context?: InvitationV1_Context;
  consentProof?: ConsentProofPayload;
  /** The other party, recovered from its identity key's wallet signature. */
  peerAddress: string;
  createdNs: bigint;
  /** This identity created the invitation. */
  isSender: boolean;
}

/**
 * Opens a sealed invitation found on an invite topic, as its recipient or its sender. `envelopeTimestampNs` must
 * equal the header's created_ns (the SDK drops invitations where it does not).
 */
export async function openSealedInvitation(
  bytes: Uint8Array,
  me: UserKeys,
  envelopeTimestampNs: bigint | undefined,
  caches: CryptoCaches = {},
): Promise<OpenedInvitation> {
  let header: SealedInvitationHeaderV1;
  let sealed;
  try {
    const decoded = fromBinary(SealedInvitationSchema, bytes);
    if (decoded.version.case !== "v1") throw new InvalidInvitationError("not a SealedInvitation v1");
    sealed = decoded.version.value;
    header = fromBinary(SealedInvitationHeaderV1Schema, sealed.headerBytes);
  } catch (err) {
    if (err instanceof XmtpCryptoError) throw err;
    throw new InvalidInvitationError(`cannot decode sealed invitation: ${(err as Error).message}`);
  }
  const { sender, recipient } = header;
  if (!sender?.identityKey || !sender.preKey || !recipient?.identityKey || !recipient.preKey) {
    throw new InvalidInvitationError("sealed invitation header is missing a bundle");
  }
  if (envelopeTimestampNs !== undefined && envelopeTimestampNs !== header.createdNs) {
    throw new InvalidInvitationError(`envelope timestamp ${envelopeTimestampNs} differs from the header's created_ns ${header.createdNs}`);
  }
  const isSender = equalBytes(signedPublicKeyPoint(sender.identityKey), me.identityPublicKey);
  if (!isSender && !equalBytes(signedPublicKeyPoint(recipient.identityKey), me.identityPublicKey)) {
    throw new InvalidInvitationError("invitation is neither from nor to this identity");
  }
  const peerBundle = isSender ? recipient : sender;
  const preKey = findPreKey(me, isSender ? sender.preKey : recipient.preKey);
  if (!preKey) throw new InvalidInvitationError("invitation was sealed to a pre-key this identity does not have");
  const peerAddress = await verifySigned(peerBundle, caches);
  const plaintext = await decryptWithX3dh(sealed.ciphertext, sealed.headerBytes, ownKeys(me, preKey), peerPoints(peerBundle), !isSender, caches.secrets);
  let invitation: InvitationV1;
  try {
    invitation = fromBinary(InvitationV1Schema, plaintext);
  } catch (err) {
    throw new InvalidInvitationError(`cannot decode invitation: ${(err as Error).message}`);
  }
  if (!invitation.topic) throw new InvalidInvitationError("invitation has no topic");
  if (invitation.encryption.case !== "aes256GcmHkdfSha256" || invitation.encryption.value.keyMaterial.length === 0) {
    throw new InvalidInvitationError("invitation has no key material");
  }
  return {
    header,
    invitation,
    topic: invitation.topic,
    keyMaterial: invitation.encryption.value.keyMaterial,
    context: invitation.context,
    consentProof: invitation.consentProof,
    peerAddress,
    createdNs: header.createdNs,
    isSender,
  };
}
