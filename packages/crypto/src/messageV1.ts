// docs/protocol/messages.md §2: v1 messages (dm- topics): EncodedContent encrypted under the X3DH secret of the two
// legacy bundles, with the header (both bundles and a ms timestamp) as associated data. Not signed: the bundles vouch
// for the sender.
import {
  create,
  fromBinary,
  toBinary,
  MessageHeaderV1Schema,
  MessageSchema,
  type MessageHeaderV1,
  type PublicKeyBundle,
} from "@xmtp-ts/proto";
import { encryptAead } from "./aead.js";
import { equalBytes } from "./bytes.js";
import { InvalidMessageError, XmtpCryptoError } from "./errors.js";
import { publicKeyPoint } from "./identityKey.js";
import { verifyPublicKeyBundle } from "./bundles.js";
import type { CryptoCaches } from "./caches.js";
import type { UserKeys, UserPreKey } from "./userKeys.js";
import { decryptWithX3dh, x3dhSecretCached } from "./x3dh.js";

function peerPoints(bundle: PublicKeyBundle) {
  return { identityPublicKey: publicKeyPoint(bundle.identityKey!), preKeyPublicKey: publicKeyPoint(bundle.preKey!) };
}

function verifyLegacy(bundle: PublicKeyBundle, caches: CryptoCaches): Promise<string> {
  return caches.verifier ? caches.verifier.verifyLegacy(bundle) : verifyPublicKeyBundle(bundle);
}

export interface EncryptMessageV1Input {
  sender: UserKeys;
  recipient: PublicKeyBundle;
  /** EncodedContent bytes. */
  content: Uint8Array;
  timestampMs?: bigint;
}

/** `Message{v1}` bytes; the envelope timestamp must be `timestampMs × 10^6`. */
export async function encryptMessageV1(input: EncryptMessageV1Input, caches: CryptoCaches = {}): Promise<{ bytes: Uint8Array; header: MessageHeaderV1 }> {
  await verifyLegacy(input.recipient, caches);
  const preKey = input.sender.preKeys[0];
  const header = create(MessageHeaderV1Schema, {
    sender: input.sender.publicBundle,
    recipient: input.recipient,
    timestamp: input.timestampMs ?? BigInt(Date.now()),
  });
  const headerBytes = toBinary(MessageHeaderV1Schema, header);
  const secret = await x3dhSecretCached(
    { identityPrivateKey: input.sender.identityPrivateKey, preKeyPrivateKey: preKey.privateKey },
    peerPoints(input.recipient),
    false,
    caches.secrets,
  );
  const ciphertext = await encryptAead(secret, input.content, headerBytes);
  const bytes = toBinary(MessageSchema, create(MessageSchema, { version: { case: "v1", value: { headerBytes, ciphertext } } }));
  return { bytes, header };
}

export interface DecryptedMessageV1 {
  header: MessageHeaderV1;
  /** EncodedContent bytes. */
  content: Uint8Array;
  senderAddress: string;
  recipientAddress: string;
  sentMs: bigint;
}

function matchingPreKey(keys: UserKeys, key: PublicKeyBundle["preKey"]): UserPreKey {
  if (!key) return keys.preKeys[0];
  const point = publicKeyPoint(key);
  return keys.preKeys.find((k) => equalBytes(k.publicKey, point)) ?? keys.preKeys[0];
}

/** Opens a v1 message as its recipient or as its sender; checks both bundles' signatures. */
export async function decryptMessageV1(messageBytes: Uint8Array, me: UserKeys, caches: CryptoCaches = {}): Promise<DecryptedMessageV1> {
  const { header, v1 } = decodeV1(messageBytes);
  const { sender, recipient } = header;
  if (!sender?.identityKey || !sender.preKey || !recipient?.identityKey || !recipient.preKey) {
    throw new InvalidMessageError("v1 message header is missing a sender or recipient bundle");
  }
  const [senderAddress, recipientAddress] = await Promise.all([verifyLegacy(sender, caches), verifyLegacy(recipient, caches)]);
  const iAmSender = equalBytes(publicKeyPoint(sender.identityKey), me.identityPublicKey);
  if (!iAmSender && !equalBytes(publicKeyPoint(recipient.identityKey), me.identityPublicKey)) {
    throw new InvalidMessageError("v1 message is neither from nor to this identity");
  }
  const preKey = matchingPreKey(me, iAmSender ? sender.preKey : recipient.preKey);
  const content = await decryptWithX3dh(
    v1.ciphertext,
    v1.headerBytes,
    { identityPrivateKey: me.identityPrivateKey, preKeyPrivateKey: preKey.privateKey },
    peerPoints(iAmSender ? recipient : sender),
    !iAmSender,
    caches.secrets,
  );
  return { header, content, senderAddress, recipientAddress, sentMs: header.timestamp };
}

function decodeV1(messageBytes: Uint8Array) {
  try {
    const message = fromBinary(MessageSchema, messageBytes);
    if (message.version.case !== "v1") throw new InvalidMessageError(`expected a v1 message, got ${message.version.case ?? "none"}`);
    const v1 = message.version.value;
    return { v1, header: fromBinary(MessageHeaderV1Schema, v1.headerBytes) };
  } catch (err) {
    if (err instanceof XmtpCryptoError) throw err;
    throw new InvalidMessageError(`cannot decode v1 message: ${(err as Error).message}`);
  }
}

/** The v1 header without decrypting (its bundles are unchecked: `verifyPublicKeyBundle` gives their addresses). */
export function decodeMessageV1Header(messageBytes: Uint8Array): MessageHeaderV1 {
  return decodeV1(messageBytes).header;
}
