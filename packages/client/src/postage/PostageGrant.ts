// A relationship grant as the app handles it (docs/postage.md §3.3): the signed protobuf bytes that travel (in a
// conversation, a link, a QR code) and, read from inside them, who grants whom, until when, on which network.
// Reading checks only the form; whether the grant is genuine is GrantStore's question (it checks the signatures).
import { fromBase64, InvalidBase64Error, toBase64 } from "@xmtp-ts/crypto";
import { decodeRelationshipGrant, MalformedGrantError } from "@xmtp-ts/postage";
import { fromBinary, toBinary, postage } from "@xmtp-ts/proto";
import { InvalidPostageGrantError } from "./errors.js";

/** A grant is a few hundred bytes; this bounds what a received one may make us parse. */
export const MAX_GRANT_BYTES = 4 * 1024;

export interface PostageGrant {
  /** The wallet that accepts first messages (EIP-55). */
  grantor: string;
  /** The wallet allowed to write first messages free (EIP-55). */
  grantee: string;
  expiresNs: bigint;
  expiresAt: Date;
  /** The postage network the grant is valid on. */
  chainId: bigint;
  vault: string;
  /** SignedRelationshipGrant protobuf bytes: what travels. */
  bytes: Uint8Array;
  /** `bytes` in standard base64, for links and text channels. */
  base64: string;
  signed: postage.SignedRelationshipGrant;
}

function malformed(detail: string): InvalidPostageGrantError {
  return new InvalidPostageGrantError("malformed", detail);
}

/** Reads a signed grant into its fields; an InvalidPostageGrantError("malformed") when it is not one. */
export function postageGrantOf(signed: postage.SignedRelationshipGrant, bytes?: Uint8Array): PostageGrant {
  let grant: postage.RelationshipGrant;
  try {
    grant = decodeRelationshipGrant(signed.grantBytes);
  } catch (err) {
    if (err instanceof MalformedGrantError) throw malformed(err.reason);
    throw err;
  }
  const encoded = bytes ?? toBinary(postage.SignedRelationshipGrantSchema, signed);
  return {
    grantor: grant.grantor,
    grantee: grant.grantee,
    expiresNs: grant.expiresNs,
    expiresAt: new Date(Number(grant.expiresNs / 1_000_000n)),
    chainId: grant.chainId,
    vault: grant.vault,
    bytes: encoded,
    base64: toBase64(encoded),
    signed,
  };
}

/** Reads grant bytes, or their base64 text, as received from any channel. */
export function postageGrantFromBytes(input: Uint8Array | string): PostageGrant {
  let bytes: Uint8Array;
  if (typeof input === "string") {
    try {
      bytes = fromBase64(input.trim());
    } catch (err) {
      if (err instanceof InvalidBase64Error) throw malformed(`not base64: ${err.message}`);
      throw err;
    }
  } else if (input instanceof Uint8Array) {
    bytes = input;
  } else {
    throw malformed(`expected bytes or base64 text, got ${input === null ? "null" : typeof input}`);
  }
  if (bytes.length === 0) throw malformed("no bytes");
  if (bytes.length > MAX_GRANT_BYTES) throw malformed(`${bytes.length} bytes is more than the ${MAX_GRANT_BYTES} a grant may have`);
  let signed: postage.SignedRelationshipGrant;
  try {
    signed = fromBinary(postage.SignedRelationshipGrantSchema, bytes);
  } catch (err) {
    throw malformed(`not a SignedRelationshipGrant: ${(err as Error).message}`);
  }
  if (!signed.grantorIdentityKey) throw malformed("no grantor identity key");
  // Re-encoded without unknown fields: one form of the bytes we store and pass on, whatever extra came in (the
  // signature covers grant_bytes only, so nothing outside them may ride along).
  return postageGrantOf(signed, toBinary(postage.SignedRelationshipGrantSchema, signed, { writeUnknownFields: false }));
}
