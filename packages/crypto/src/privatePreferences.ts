// docs/protocol/messages.md §5: the consent list on the private preferences topic, keyed by the identity private key.
import {
  create,
  fromBinary,
  toBinary,
  PrivatePreferencesActionSchema,
  PrivatePreferencesPayloadSchema,
  type MessageInitShape,
  type PrivatePreferencesAction,
} from "@xmtp-ts/proto";
import { decryptAead, encryptAead } from "./aead.js";
import { getCryptoBackend } from "./backend/index.js";
import { toBase64, utf8ToBytes } from "./bytes.js";
import { XmtpCryptoError } from "./errors.js";
import { sha256 } from "./hashes.js";

const TOPIC_SALT = utf8ToBytes("XMTP_PRIVATE_PREFERENCES_TOPIC");
const ENCRYPTION_SALT = utf8ToBytes("XMTP_PRIVATE_PREFERENCES_ENCRYPTION");
const EMPTY = new Uint8Array(0);

function base64UrlNoPad(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The 43-character id of `/xmtp/0/userpreferences-<id>/proto`. */
export async function privatePreferencesTopicId(identityPrivateKey: Uint8Array): Promise<string> {
  const backend = await getCryptoBackend();
  return base64UrlNoPad(sha256(await backend.hkdfSha256(identityPrivateKey, TOPIC_SALT, EMPTY, 32)));
}

export async function privatePreferencesTopic(identityPrivateKey: Uint8Array): Promise<string> {
  return `/xmtp/0/userpreferences-${await privatePreferencesTopicId(identityPrivateKey)}/proto`;
}

async function encryptionKey(identityPrivateKey: Uint8Array): Promise<Uint8Array> {
  const backend = await getCryptoBackend();
  return backend.hkdfSha256(identityPrivateKey, ENCRYPTION_SALT, EMPTY, 32);
}

/** `PrivatePreferencesPayload{v1: Ciphertext}` bytes; the AAD is the 65-byte identity public key. */
export async function encryptPrivatePreferencesAction(
  action: MessageInitShape<typeof PrivatePreferencesActionSchema>,
  identityPrivateKey: Uint8Array,
  identityPublicKey: Uint8Array,
): Promise<Uint8Array> {
  const plaintext = toBinary(PrivatePreferencesActionSchema, create(PrivatePreferencesActionSchema, action));
  const ciphertext = await encryptAead(await encryptionKey(identityPrivateKey), plaintext, identityPublicKey);
  return toBinary(PrivatePreferencesPayloadSchema, create(PrivatePreferencesPayloadSchema, { version: { case: "v1", value: ciphertext } }));
}

export async function decryptPrivatePreferencesPayload(
  bytes: Uint8Array,
  identityPrivateKey: Uint8Array,
  identityPublicKey: Uint8Array,
): Promise<PrivatePreferencesAction> {
  let payload;
  try {
    payload = fromBinary(PrivatePreferencesPayloadSchema, bytes);
  } catch (err) {
    throw new XmtpCryptoError("invalid_message", `cannot decode private preferences payload: ${(err as Error).message}`);
  }
  if (payload.version.case !== "v1") throw new XmtpCryptoError("invalid_message", "private preferences payload is not v1");
  const plaintext = await decryptAead(payload.version.value, await encryptionKey(identityPrivateKey), identityPublicKey);
  try {
    return fromBinary(PrivatePreferencesActionSchema, plaintext);
  } catch (err) {
    throw new XmtpCryptoError("invalid_message", `cannot decode private preferences action: ${(err as Error).message}`);
  }
}
