// Runs the invitation path once on made-up identities so a fresh worker's first real batch does not pay for JIT
// compilation (it roughly doubles the first batch's time otherwise).
import {
  compactToWalletSignature,
  createInvitation,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  hashPersonalMessage,
  signDigest,
  userKeysFromBundle,
} from "@xmtp-ts/crypto";
import { openInvitations } from "./openInvitations.js";

async function throwawayIdentity() {
  const wallet = generatePrivateKey();
  return userKeysFromBundle(await generatePrivateKeyBundleV1(async (text) => compactToWalletSignature(signDigest(hashPersonalMessage(text), wallet))));
}

export async function warmUpInvitationPath(rounds = 3): Promise<void> {
  const reader = await throwawayIdentity();
  for (let i = 0; i < rounds; i++) {
    const sender = await throwawayIdentity();
    const sealed = await createInvitation({ sender, recipient: reader.signedBundle });
    await openInvitations(reader, [{ message: sealed.bytes, timestampNs: sealed.createdNs }]);
  }
}
