// Web Push message encryption (RFC 8291) in the aes128gcm content coding (RFC 8188): what the push service stores
// and the browser decrypts is opaque to the push service. One record, so the whole payload must fit the 4,096-byte
// message that push services accept. Built on node:crypto only.
import { ECDH, createCipheriv, createECDH, createHmac, randomBytes } from "node:crypto";

/** Push services accept message bodies up to 4,096 bytes (RFC 8030 section 7.2 requires at least that much). */
export const MAX_PUSH_BODY_BYTES = 4_096;
const SALT_BYTES = 16;
const PUBLIC_KEY_BYTES = 65;
const AUTH_SECRET_BYTES = 16;
const TAG_BYTES = 16;
/** salt ‖ record size (uint32) ‖ key id length (uint8) ‖ key id (the sender's public key). */
const HEADER_BYTES = SALT_BYTES + 4 + 1 + PUBLIC_KEY_BYTES;
/** The largest plaintext that keeps the body within MAX_PUSH_BODY_BYTES (one padding delimiter byte, the tag). */
export const MAX_PUSH_PLAINTEXT_BYTES = MAX_PUSH_BODY_BYTES - HEADER_BYTES - 1 - TAG_BYTES;
/** The last (and only) record ends with this delimiter (RFC 8188 section 2). */
const LAST_RECORD_DELIMITER = 0x02;

/** A browser's push subscription keys, as `PushSubscription.toJSON().keys` gives them (base64url). */
export interface PushSubscriptionKeys {
  /** The user agent's P-256 public key, uncompressed (65 bytes). */
  p256dh: Uint8Array;
  /** The 16-byte authentication secret. */
  auth: Uint8Array;
}

export class PushKeyError extends Error {
  override readonly name = "PushKeyError";
}

/** Checks the sizes and the point: a key the browser could not have made is refused at registration, not at delivery. */
export function checkSubscriptionKeys(keys: PushSubscriptionKeys): void {
  if (keys.p256dh.length !== PUBLIC_KEY_BYTES || keys.p256dh[0] !== 0x04) {
    throw new PushKeyError(`p256dh must be an uncompressed P-256 public key (65 bytes starting 0x04), got ${keys.p256dh.length} bytes`);
  }
  if (keys.auth.length !== AUTH_SECRET_BYTES) throw new PushKeyError(`auth must be 16 bytes, got ${keys.auth.length}`);
  try {
    // Decoding the point checks that it is on the curve, with no key pair made for it.
    ECDH.convertKey(keys.p256dh, "prime256v1");
  } catch {
    throw new PushKeyError("p256dh is not a point on P-256");
  }
}

export interface EncryptOptions {
  /** Fixed salt and sender key pair: for known-answer tests only; normally both are fresh per message. */
  salt?: Uint8Array;
  senderKeys?: ECDH;
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

const ascii = (text: string) => Buffer.from(text, "latin1");

/** The aes128gcm body for one push message to the subscription's keys. */
export function encryptPushPayload(plaintext: Uint8Array, keys: PushSubscriptionKeys, options: EncryptOptions = {}): Uint8Array<ArrayBuffer> {
  if (plaintext.length > MAX_PUSH_PLAINTEXT_BYTES) {
    throw new RangeError(`a push payload is at most ${MAX_PUSH_PLAINTEXT_BYTES} bytes, got ${plaintext.length}`);
  }
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const sender = options.senderKeys ?? createECDH("prime256v1");
  if (!options.senderKeys) sender.generateKeys();
  const senderPublic = sender.getPublicKey();
  const sharedSecret = sender.computeSecret(keys.p256dh);

  // RFC 8291 section 3.3-3.4: the auth secret and both public keys go into the input keying material.
  const prkKey = hmac(keys.auth, sharedSecret);
  const ikm = hmac(prkKey, ascii("WebPush: info\0"), keys.p256dh, senderPublic, Uint8Array.of(1));
  // RFC 8188 section 2.2-2.3: content-encryption key and nonce from the salt.
  const prk = hmac(salt, ikm);
  const contentKey = hmac(prk, ascii("Content-Encoding: aes128gcm\0"), Uint8Array.of(1)).subarray(0, 16);
  const nonce = hmac(prk, ascii("Content-Encoding: nonce\0"), Uint8Array.of(1)).subarray(0, 12);

  const cipher = createCipheriv("aes-128-gcm", contentKey, nonce);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.update(Uint8Array.of(LAST_RECORD_DELIMITER)), cipher.final(), cipher.getAuthTag()]);

  const header = Buffer.alloc(HEADER_BYTES);
  Buffer.from(salt).copy(header, 0);
  // The record size only has to exceed the one record; 4,096 is what browsers' push stacks expect to see.
  header.writeUInt32BE(MAX_PUSH_BODY_BYTES, SALT_BYTES);
  header.writeUInt8(PUBLIC_KEY_BYTES, SALT_BYTES + 4);
  senderPublic.copy(header, SALT_BYTES + 5);
  return Buffer.concat([header, sealed]);
}
