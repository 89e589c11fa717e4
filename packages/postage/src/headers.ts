// docs/postage.md §3.5: who an envelope on a reach topic says it is from and to, read without decrypting. Each
// party is the wallet recovered from its key bundle (identity key signed by the wallet, pre-key signed by the
// identity key). A header is a claim, not a proof of who wrote the envelope: bundles are public and can be copied,
// though a copied sender bundle yields bytes the recipient cannot decrypt (docs/postage.md §2).
import {
  decodeMessageV1Header,
  verifyPublicKeyBundle,
  verifySignedPublicKeyBundle,
  type KeyBundleVerifier,
} from "@xmtp-ts/crypto";
import {
  fromBinary,
  SealedInvitationHeaderV1Schema,
  SealedInvitationSchema,
  type PublicKeyBundle,
  type SignedPublicKeyBundle,
} from "@xmtp-ts/proto";
import type { ReachTopicKind } from "./reachTopics.js";

export interface HeaderParties {
  /** EIP-55 wallet of the header's sender bundle. */
  sender: string;
  /** EIP-55 wallet of the header's recipient bundle. */
  recipient: string;
}

async function invitationParties(message: Uint8Array, verifier: KeyBundleVerifier | undefined): Promise<HeaderParties> {
  const sealed = fromBinary(SealedInvitationSchema, message);
  if (sealed.version.case !== "v1") throw new TypeError("not a SealedInvitation v1");
  const header = fromBinary(SealedInvitationHeaderV1Schema, sealed.version.value.headerBytes);
  const wallet = (bundle: SignedPublicKeyBundle | undefined) => {
    if (!bundle) throw new TypeError("header is missing a bundle");
    return verifier ? verifier.verifySigned(bundle) : verifySignedPublicKeyBundle(bundle);
  };
  const [sender, recipient] = await Promise.all([wallet(header.sender), wallet(header.recipient)]);
  return { sender, recipient };
}

async function introParties(message: Uint8Array, verifier: KeyBundleVerifier | undefined): Promise<HeaderParties> {
  const header = decodeMessageV1Header(message);
  const wallet = (bundle: PublicKeyBundle | undefined) => {
    if (!bundle) throw new TypeError("header is missing a bundle");
    return verifier ? verifier.verifyLegacy(bundle) : verifyPublicKeyBundle(bundle);
  };
  const [sender, recipient] = await Promise.all([wallet(header.sender), wallet(header.recipient)]);
  return { sender, recipient };
}

/**
 * The verified wallets an invitation (invite topic) or v1 message (intro topic) names as its sender and
 * recipient, or undefined when the bytes are not one or a bundle does not verify. Never throws: these are
 * untrusted bytes from anyone. A KeyBundleVerifier, when given, remembers bundles already verified.
 */
export async function headerParties(
  kind: ReachTopicKind,
  message: Uint8Array,
  verifier?: KeyBundleVerifier,
): Promise<HeaderParties | undefined> {
  try {
    return kind === "invite" ? await invitationParties(message, verifier) : await introParties(message, verifier);
  } catch {
    return undefined;
  }
}
