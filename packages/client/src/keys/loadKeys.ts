// docs/protocol/identity.md §2 and §5: a wallet's XMTP identity: found on the network (one Enable-Identity signature)
// or created and stored there (Create-Identity, then Enable-Identity), or imported from an export.
import { XmtpClientError } from "../errors/XmtpClientError.js";
import {
  decodePrivateKeyBundle,
  decryptStoredKeyBundle,
  encryptKeyBundleForStorage,
  generatePrivateKeyBundleV1,
  privateStoreKeyBundleTopic,
  userKeysFromBundle,
  type UserKeys,
} from "@xmtp-ts/crypto";
import type { MessageApi } from "../api/index.js";
import type { WalletSigner } from "../signer.js";

export class KeysError extends XmtpClientError {
  readonly code = "invalid_keys";
  constructor(message: string) {
    super(message);
    this.name = "KeysError";
  }
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

async function storeKeys(api: MessageApi, signer: WalletSigner, keys: UserKeys): Promise<void> {
  const stored = await encryptKeyBundleForStorage(keys.bundle, (text) => signer.signText(text));
  await api.publish([{ contentTopic: privateStoreKeyBundleTopic(keys.walletAddress), timestampNs: nowNs(), message: stored }]);
}

export interface LoadedKeys {
  keys: UserKeys;
  /** A new identity was generated and stored. */
  created: boolean;
}

/**
 * Loads the newest stored bundle of the signer's wallet, re-saving old formats; creates and stores one when there is
 * none. `withToken` lets the caller install a token provider for these keys before the first publish.
 */
export async function loadOrCreateKeys(api: MessageApi, signer: WalletSigner, withToken: (keys: UserKeys) => void): Promise<LoadedKeys> {
  const [newest] = await api.query({ contentTopic: privateStoreKeyBundleTopic(signer.address), pageSize: 1, direction: "descending" }).then((p) => p.envelopes);
  if (newest) {
    const { bundle, needsResave } = await decryptStoredKeyBundle(newest.message, (text) => signer.signText(text));
    const keys = userKeysFromBundle(bundle);
    if (keys.walletAddress !== signer.address) {
      throw new KeysError(`the key bundle stored for ${signer.address} belongs to ${keys.walletAddress}`);
    }
    withToken(keys);
    if (needsResave) await storeKeys(api, signer, keys);
    return { keys, created: false };
  }
  const bundle = await generatePrivateKeyBundleV1((text) => signer.signText(text), { walletAddress: signer.address });
  const keys = userKeysFromBundle(bundle);
  withToken(keys);
  await storeKeys(api, signer, keys);
  return { keys, created: true };
}

/** Keys an app exported with `client.exportKeyBundle()` (or the SDK's `Client.getKeys`). */
export function importKeys(exported: Uint8Array, expectedAddress?: string): UserKeys {
  const keys = userKeysFromBundle(decodePrivateKeyBundle(exported));
  if (expectedAddress !== undefined && keys.walletAddress.toLowerCase() !== expectedAddress.toLowerCase()) {
    throw new KeysError(`the imported keys belong to ${keys.walletAddress}, not to the signer ${expectedAddress}`);
  }
  return keys;
}
