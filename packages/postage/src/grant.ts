// docs/postage.md §3.3: a relationship grant lets one wallet (the grantee) write first messages to another (the
// grantor) free, until a deadline, on one postage network. The grantor's identity key signs it, so granting needs
// no wallet prompt; the identity key's own wallet signature ties it to the grantor. Every field a node checks is
// inside the signed bytes, so a grant cannot be stretched to another writer, recipient, network or deadline.
import { concatBytes, equalBytes, sha256, toChecksumAddress, utf8ToBytes } from "@xmtp-ts/crypto";
import { create, fromBinary, toBinary, postage } from "@xmtp-ts/proto";
import { isEip55Address } from "./addresses.js";
import { assertIdentityKeyPair, verifyIdentityKey, InvalidIdentityKeyError, type IdentityKeyMaterial } from "./identityKey.js";
import { identitySignatureSigner, InvalidIdentitySignatureError, signWithIdentityKey } from "./identitySignature.js";
import { formatNs } from "./formatNs.js";

export const GRANT_DOMAIN = "xmtp-ts/postage/grant/1";
const GRANT_DOMAIN_BYTES = utf8ToBytes(GRANT_DOMAIN);
const UINT64_LIMIT = 1n << 64n;

/** What the grantor's identity key signs: sha256(utf8("xmtp-ts/postage/grant/1") ‖ grant_bytes). */
export function grantSigningDigest(grantBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(GRANT_DOMAIN_BYTES, grantBytes));
}

export interface RelationshipGrantTerms {
  grantee: string;
  /** Unix time in nanoseconds after which the grant no longer admits messages. */
  expiresNs: bigint;
  chainId: bigint;
  vault: string;
}

function checkUint64(name: string, value: bigint): void {
  if (value < 0n || value >= UINT64_LIMIT) throw new RangeError(`${name} must fit in a uint64, got ${value}`);
}

/** Signs a grant with the grantor's identity key; the grantor is that key's wallet. */
export function makeRelationshipGrant(
  input: RelationshipGrantTerms & { grantor: IdentityKeyMaterial },
): postage.SignedRelationshipGrant {
  checkUint64("expiresNs", input.expiresNs);
  checkUint64("chainId", input.chainId);
  assertIdentityKeyPair(input.grantor);
  const { wallet } = verifyIdentityKey(input.grantor.publicKey);
  const grantBytes = toBinary(
    postage.RelationshipGrantSchema,
    create(postage.RelationshipGrantSchema, {
      grantor: wallet,
      grantee: toChecksumAddress(input.grantee),
      expiresNs: input.expiresNs,
      chainId: input.chainId,
      vault: toChecksumAddress(input.vault),
    }),
  );
  return create(postage.SignedRelationshipGrantSchema, {
    grantBytes,
    grantorIdentityKey: input.grantor.publicKey,
    signature: signWithIdentityKey(grantSigningDigest(grantBytes), input.grantor.privateKey),
  });
}

export class MalformedGrantError extends Error {
  readonly code = "malformed_grant";
  constructor(readonly reason: string) {
    super(`malformed relationship grant: ${reason}`);
    this.name = "MalformedGrantError";
  }
}

/** The grant inside `grant_bytes`, with every address in EIP-55 form (the only form compared). */
export function decodeRelationshipGrant(grantBytes: Uint8Array): postage.RelationshipGrant {
  let grant: postage.RelationshipGrant;
  try {
    grant = fromBinary(postage.RelationshipGrantSchema, grantBytes);
  } catch (err) {
    throw new MalformedGrantError((err as Error).message);
  }
  for (const field of ["grantor", "grantee", "vault"] as const) {
    if (!isEip55Address(grant[field])) throw new MalformedGrantError(`${field} ${JSON.stringify(grant[field].slice(0, 60))} is not an EIP-55 address`);
  }
  return grant;
}

/** The envelope and node a grant is checked against. */
export interface GrantContext {
  /** The owner of the reach topic written to (EIP-55). */
  topicOwner: string;
  /** Who wrote the envelope (EIP-55). */
  writer: string;
  chainId: bigint;
  vault: string;
  /** The node's clock at a door; the envelope's timestamp when relayed (docs/postage.md §3.3). */
  nowNs: bigint;
}

export type GrantRefusalCode =
  | "grant_malformed"
  | "grant_wrong_grantor"
  | "grant_wrong_grantee"
  | "grant_replayed_elsewhere"
  | "grant_expired"
  | "grant_forged"
  | "grant_identity_not_grantor";

export type GrantCheck =
  | { ok: true; grant: postage.RelationshipGrant }
  | { ok: false; code: GrantRefusalCode; reason: string };

function refuse(code: GrantRefusalCode, reason: string): GrantCheck {
  return { ok: false, code, reason };
}

/**
 * Whether a grant admits this envelope. The cheap comparisons run before any signature is checked, so junk costs
 * a node nothing; a refusal's reason names what is wrong in words fit for an HTTP error message.
 */
export function verifyRelationshipGrant(signed: postage.SignedRelationshipGrant, context: GrantContext): GrantCheck {
  let grant: postage.RelationshipGrant;
  try {
    grant = decodeRelationshipGrant(signed.grantBytes);
  } catch (err) {
    return refuse("grant_malformed", (err as MalformedGrantError).message);
  }
  if (grant.grantor !== context.topicOwner) {
    return refuse("grant_wrong_grantor", `relationship grant is from ${grant.grantor}, not from the topic owner ${context.topicOwner}`);
  }
  if (grant.grantee !== context.writer) {
    return refuse("grant_wrong_grantee", `relationship grant is for ${grant.grantee}, not for the writer ${context.writer}`);
  }
  if (grant.chainId !== context.chainId || grant.vault !== toChecksumAddress(context.vault)) {
    return refuse(
      "grant_replayed_elsewhere",
      `relationship grant is for vault ${grant.vault} on chain ${grant.chainId}, not this network's vault ` +
        `${toChecksumAddress(context.vault)} on chain ${context.chainId} (replayed elsewhere)`,
    );
  }
  if (context.nowNs >= grant.expiresNs) {
    return refuse("grant_expired", `relationship grant expired at ${formatNs(grant.expiresNs)}`);
  }
  let identity;
  try {
    identity = verifyIdentityKey(signed.grantorIdentityKey);
  } catch (err) {
    if (!(err instanceof InvalidIdentityKeyError)) throw err;
    return refuse("grant_forged", `relationship grant's identity key: ${err.reason}`);
  }
  let signer: Uint8Array;
  try {
    signer = identitySignatureSigner(grantSigningDigest(signed.grantBytes), signed.signature);
  } catch (err) {
    if (!(err instanceof InvalidIdentitySignatureError)) throw err;
    return refuse("grant_forged", `relationship grant signature is malformed: ${err.reason}`);
  }
  if (!equalBytes(signer, identity.point)) {
    return refuse("grant_forged", "relationship grant signature is not its identity key's (forged or altered)");
  }
  if (identity.wallet !== grant.grantor) {
    return refuse("grant_identity_not_grantor", `relationship grant is signed by an identity key of ${identity.wallet}, not of its grantor ${grant.grantor}`);
  }
  return { ok: true, grant };
}
