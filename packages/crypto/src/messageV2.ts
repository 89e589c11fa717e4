// docs/protocol/messages.md §3: v2 messages (m- topics): EncodedContent signed by the sender's pre-key, wrapped in
// SignedContent with the sender's bundle, encrypted under the conversation's key material with the header as associated
// data.
import {
  create,
  fromBinary,
  toBinary,
  MessageHeaderV2Schema,
  MessageSchema,
  SignedContentSchema,
  type MessageHeaderV2,
  type SignedContent,
} from "@xmtp-ts/proto";
import { decryptAead, encryptAead } from "./aead.js";
import { getCryptoBackend } from "./backend/index.js";
import { verifySignedPublicKeyBundle } from "./bundles.js";
import { concatBytes, utf8ToBytes } from "./bytes.js";
import { InvalidMessageError, XmtpCryptoError } from "./errors.js";
import { sha256 } from "./hashes.js";
import { compactOf } from "./identityKey.js";
import type { CryptoCaches } from "./caches.js";
import { signedPublicKeyPoint } from "./signedKeys.js";
import type { UserKeys } from "./userKeys.js";

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

/** HMAC-SHA256 of the header under a key derived from the key material, the 30-day period and the sender. */
export async function senderHmac(keyMaterial: Uint8Array, senderAddress: string, headerBytes: Uint8Array, nowMs = Date.now()): Promise<Uint8Array> {
  const backend = await getCryptoBackend();
  const info = utf8ToBytes(`${Math.floor(nowMs / THIRTY_DAYS_MS)}-${senderAddress}`);
  const key = await backend.hkdfSha256(keyMaterial, new Uint8Array(0), info, 32);
  return backend.hmacSha256(key, headerBytes);
}

export interface EncryptMessageV2Input {
  sender: UserKeys;
  keyMaterial: Uint8Array;
  /** The conversation topic (`/xmtp/0/m-…/proto`), even when publishing on the ephemeral topic. */
  topic: string;
  /** EncodedContent bytes. */
  content: Uint8Array;
  /** Also the envelope timestampNs. */
  createdNs?: bigint;
  shouldPush?: boolean;
}

export async function encryptMessageV2(input: EncryptMessageV2Input): Promise<{ bytes: Uint8Array; header: MessageHeaderV2 }> {
  if (input.keyMaterial.length === 0) throw new XmtpCryptoError("invalid_argument", "key material is empty");
  const header = create(MessageHeaderV2Schema, {
    createdNs: input.createdNs ?? BigInt(Date.now()) * 1_000_000n,
    topic: input.topic,
  });
  const headerBytes = toBinary(MessageHeaderV2Schema, header);
  const { curve } = await getCryptoBackend();
  const signature = curve.signDigest(sha256(concatBytes(headerBytes, input.content)), input.sender.preKeys[0].privateKey);
  const signed = create(SignedContentSchema, {
    payload: input.content,
    sender: input.sender.signedBundle,
    signature: { union: { case: "ecdsaCompact", value: signature } },
  });
  const ciphertext = await encryptAead(input.keyMaterial, toBinary(SignedContentSchema, signed), headerBytes);
  const hmac = await senderHmac(input.keyMaterial, input.sender.walletAddress, headerBytes);
  const bytes = toBinary(
    MessageSchema,
    create(MessageSchema, {
      version: {
        case: "v2",
        value: { headerBytes, ciphertext, senderHmac: hmac, shouldPush: input.shouldPush ?? true },
      },
    }),
  );
  return { bytes, header };
}

export interface DecryptedMessageV2 {
  header: MessageHeaderV2;
  signed: SignedContent;
  /** EncodedContent bytes. */
  content: Uint8Array;
  senderAddress: string;
  senderHmac?: Uint8Array;
  shouldPush?: boolean;
}

/**
 * Opens a v2 message of the conversation `topic`: decrypts, then checks that the sender's pre-key is signed by its
 * identity key, that the pre-key signed header‖payload, and recovers the sender's wallet.
 */
export async function decryptMessageV2(
  messageBytes: Uint8Array,
  keyMaterial: Uint8Array,
  topic: string,
  caches: Pick<CryptoCaches, "verifier"> = {},
): Promise<DecryptedMessageV2> {
  let v2;
  let header: MessageHeaderV2;
  try {
    const message = fromBinary(MessageSchema, messageBytes);
    if (message.version.case !== "v2") throw new InvalidMessageError(`expected a v2 message, got ${message.version.case ?? "none"}`);
    v2 = message.version.value;
    header = fromBinary(MessageHeaderV2Schema, v2.headerBytes);
  } catch (err) {
    if (err instanceof XmtpCryptoError) throw err;
    throw new InvalidMessageError(`cannot decode v2 message: ${(err as Error).message}`);
  }
  if (header.topic !== topic) throw new InvalidMessageError(`message header topic ${JSON.stringify(header.topic)} is not this conversation's`);
  const plaintext = await decryptAead(v2.ciphertext, keyMaterial, v2.headerBytes);
  let signed: SignedContent;
  try {
    signed = fromBinary(SignedContentSchema, plaintext);
  } catch (err) {
    throw new InvalidMessageError(`cannot decode signed content: ${(err as Error).message}`);
  }
  if (!signed.sender?.identityKey || !signed.sender.preKey) throw new InvalidMessageError("signed content has no sender bundle");
  const senderAddress = await (caches.verifier ? caches.verifier.verifySigned(signed.sender) : verifySignedPublicKeyBundle(signed.sender));
  let signature;
  try {
    signature = compactOf(signed.signature);
  } catch {
    throw new InvalidMessageError("signed content carries no signature");
  }
  const { curve } = await getCryptoBackend();
  const ok = curve.verifyDigest(sha256(concatBytes(v2.headerBytes, signed.payload)), signature.bytes, signedPublicKeyPoint(signed.sender.preKey));
  if (!ok) throw new InvalidMessageError("message signature does not match the sender's pre-key");
  return { header, signed, content: signed.payload, senderAddress, senderHmac: v2.senderHmac, shouldPush: v2.shouldPush };
}
