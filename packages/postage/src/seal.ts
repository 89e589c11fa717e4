// docs/postage.md §3.1: a sender seal proves which wallet wrote an envelope, through any door. The writer's
// identity key signs a digest bound to this one envelope and to the seal's purpose: the domain prefix keeps a seal
// from ever verifying as an auth token, a pre-key signature or a grant, and a seal copied onto another envelope
// verifies over a different digest, so it fails.
import { concatBytes, equalBytes, sha256, utf8ToBytes } from "@xmtp-ts/crypto";
import { create, postage } from "@xmtp-ts/proto";
import { ENVELOPE_DIGEST_BYTES } from "./envelopeDigest.js";
import { assertIdentityKeyPair, verifyIdentityKey, InvalidIdentityKeyError, type IdentityKeyMaterial } from "./identityKey.js";
import { identitySignatureSigner, InvalidIdentitySignatureError, signWithIdentityKey } from "./identitySignature.js";

export const SEAL_DOMAIN = "xmtp-ts/postage/seal/1";
const SEAL_DOMAIN_BYTES = utf8ToBytes(SEAL_DOMAIN);

export class InvalidSenderSealError extends Error {
  readonly code = "invalid_sender_seal";
  constructor(readonly reason: string) {
    super(`sender seal: ${reason}`);
    this.name = "InvalidSenderSealError";
  }
}

function checkEnvelopeDigest(digest: Uint8Array): void {
  if (digest.length !== ENVELOPE_DIGEST_BYTES) {
    throw new TypeError(`an envelope digest is ${ENVELOPE_DIGEST_BYTES} bytes, got ${digest.length}`);
  }
}

/** What the identity key signs: sha256(utf8("xmtp-ts/postage/seal/1") ‖ envelope digest). */
export function sealSigningDigest(envelopeDigest: Uint8Array): Uint8Array {
  checkEnvelopeDigest(envelopeDigest);
  return sha256(concatBytes(SEAL_DOMAIN_BYTES, envelopeDigest));
}

/** Seals the envelope whose digest is given with the writer's identity key. */
export function makeSenderSeal(identity: IdentityKeyMaterial, envelopeDigest: Uint8Array): postage.SenderSeal {
  assertIdentityKeyPair(identity);
  return create(postage.SenderSealSchema, {
    identityKey: identity.publicKey,
    signature: signWithIdentityKey(sealSigningDigest(envelopeDigest), identity.privateKey),
  });
}

/**
 * The EIP-55 wallet that sealed the envelope whose digest is given; an InvalidSenderSealError when the identity
 * key is not wallet-signed or the signature is not its identity key's over this envelope.
 */
export function verifySenderSeal(seal: postage.SenderSeal, envelopeDigest: Uint8Array): string {
  const signingDigest = sealSigningDigest(envelopeDigest);
  let identity;
  try {
    identity = verifyIdentityKey(seal.identityKey);
  } catch (err) {
    if (err instanceof InvalidIdentityKeyError) throw new InvalidSenderSealError(`identity key: ${err.reason}`);
    throw err;
  }
  let signer: Uint8Array;
  try {
    signer = identitySignatureSigner(signingDigest, seal.signature);
  } catch (err) {
    if (err instanceof InvalidIdentitySignatureError) throw new InvalidSenderSealError(`signature: ${err.reason}`);
    throw err;
  }
  if (!equalBytes(signer, identity.point)) {
    throw new InvalidSenderSealError(`not signed by the identity key of ${identity.wallet} over this envelope`);
  }
  return identity.wallet;
}
