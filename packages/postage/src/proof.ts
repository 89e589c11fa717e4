// docs/postage.md §3: the PostageProof an envelope on someone else's reach topic carries, as bytes (WakuMessage
// meta, the sync protocol) or base64 (the HTTP envelope's "postage" field). The bytes come from anyone, so decoding
// bounds their size before parsing and checks every field's form (lengths, EIP-55 addresses, the minimal encoding
// of `cumulative`) before any signature is looked at; the checks that need keys, the clock or the node's terms
// live in seal.ts, grant.ts, stamp.ts and verify.ts.
import { fromBase64, InvalidBase64Error, toBase64 } from "@xmtp-ts/crypto";
import { create, fromBinary, toBinary, postage } from "@xmtp-ts/proto";
import { isEip55Address } from "./addresses.js";
import { decodeCumulative, encodeCumulative, InvalidCumulativeError } from "./cumulative.js";
import { IDENTITY_SIGNATURE_BYTES } from "./identitySignature.js";

/** A proof is a seal plus one basis, a few hundred bytes; 8 KiB leaves room and bounds what a node parses. */
export const MAX_POSTAGE_PROOF_BYTES = 8 * 1024;
const MAX_POSTAGE_PROOF_BASE64_CHARS = Math.ceil(MAX_POSTAGE_PROOF_BYTES / 3) * 4;

export type PostageProofErrorCode = "proof_too_large" | "malformed_proof";

export class PostageProofError extends Error {
  constructor(
    readonly code: PostageProofErrorCode,
    readonly reason: string,
  ) {
    super(`postage proof: ${reason}`);
    this.name = "PostageProofError";
  }
}

function malformed(reason: string): PostageProofError {
  return new PostageProofError("malformed_proof", reason);
}

function checkSignatureLength(what: string, signature: Uint8Array): void {
  if (signature.length !== IDENTITY_SIGNATURE_BYTES) {
    throw malformed(`${what} signature must be ${IDENTITY_SIGNATURE_BYTES} bytes, got ${signature.length}`);
  }
}

function checkAddress(what: string, value: string): void {
  if (!isEip55Address(value)) throw malformed(`${what} ${JSON.stringify(value.slice(0, 60))} is not an EIP-55 address`);
}

/**
 * Throws a PostageProofError("malformed_proof") unless every part present has its required fields in form. Says
 * nothing about signatures, grants' contents or whether the proof fits an envelope.
 */
export function validatePostageProof(proof: postage.PostageProof): void {
  if (proof.seal) {
    if (!proof.seal.identityKey) throw malformed("seal has no identity key");
    checkSignatureLength("seal", proof.seal.signature);
  }
  const { basis } = proof;
  switch (basis.case) {
    case undefined:
    case "priorContact":
      return;
    case "grant":
      if (basis.value.grantBytes.length === 0) throw malformed("grant has no grant bytes");
      if (!basis.value.grantorIdentityKey) throw malformed("grant has no grantor identity key");
      checkSignatureLength("grant", basis.value.signature);
      return;
    case "stamp":
      checkAddress("stamp payer", basis.value.payer);
      checkAddress("stamp operator", basis.value.operator);
      try {
        decodeCumulative(basis.value.cumulative);
      } catch (err) {
        if (err instanceof InvalidCumulativeError) throw malformed(err.message);
        throw err;
      }
      checkSignatureLength("stamp", basis.value.signature);
      return;
  }
}

export function encodePostageProof(proof: postage.PostageProof): Uint8Array {
  validatePostageProof(proof);
  const bytes = toBinary(postage.PostageProofSchema, proof);
  if (bytes.length > MAX_POSTAGE_PROOF_BYTES) {
    throw new PostageProofError("proof_too_large", `${bytes.length} bytes exceeds ${MAX_POSTAGE_PROOF_BYTES}`);
  }
  return bytes;
}

/** Parses untrusted proof bytes; any failure is a PostageProofError, never another error. */
export function decodePostageProof(bytes: Uint8Array): postage.PostageProof {
  if (bytes.length > MAX_POSTAGE_PROOF_BYTES) {
    throw new PostageProofError("proof_too_large", `${bytes.length} bytes exceeds ${MAX_POSTAGE_PROOF_BYTES}`);
  }
  let proof: postage.PostageProof;
  try {
    proof = fromBinary(postage.PostageProofSchema, bytes);
  } catch (err) {
    throw malformed(`cannot decode: ${err instanceof Error ? err.message : String(err)}`);
  }
  validatePostageProof(proof);
  return proof;
}

export function postageProofToBase64(proof: postage.PostageProof): string {
  return toBase64(encodePostageProof(proof));
}

/** Parses the HTTP envelope's "postage" field: strict standard base64 of the proof bytes. */
export function postageProofFromBase64(text: string): postage.PostageProof {
  if (text.length > MAX_POSTAGE_PROOF_BASE64_CHARS) {
    throw new PostageProofError("proof_too_large", `${text.length} base64 characters exceeds ${MAX_POSTAGE_PROOF_BASE64_CHARS}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text);
  } catch (err) {
    if (err instanceof InvalidBase64Error) throw malformed(err.message);
    throw err;
  }
  return decodePostageProof(bytes);
}

/** A stamp as it travels, from the voucher's fields and the payer's 65-byte signature. */
export function makePostageStamp(stamp: {
  payer: string;
  operator: string;
  cumulative: bigint;
  signature: Uint8Array;
}): postage.PostageStamp {
  return create(postage.PostageStampSchema, {
    payer: stamp.payer,
    operator: stamp.operator,
    cumulative: encodeCumulative(stamp.cumulative),
    signature: stamp.signature,
  });
}

/** A proof claiming a prior contact (docs/postage.md §3.2), sealed when the writer has its identity key. */
export function priorContactProof(seal?: postage.SenderSeal): postage.PostageProof {
  return create(postage.PostageProofSchema, { seal, basis: { case: "priorContact", value: {} } });
}

/** A proof carrying the recipient's relationship grant (docs/postage.md §3.3). */
export function grantProof(grant: postage.SignedRelationshipGrant, seal?: postage.SenderSeal): postage.PostageProof {
  return create(postage.PostageProofSchema, { seal, basis: { case: "grant", value: grant } });
}

/** A proof paying with a stamp (docs/postage.md §3.6). */
export function stampProof(stamp: postage.PostageStamp, seal?: postage.SenderSeal): postage.PostageProof {
  return create(postage.PostageProofSchema, { seal, basis: { case: "stamp", value: stamp } });
}

/** A proof that only says who wrote the envelope (the owner's own copies, or a writer with no basis yet). */
export function sealOnlyProof(seal: postage.SenderSeal): postage.PostageProof {
  return create(postage.PostageProofSchema, { seal });
}
