// Opening the store behind `dbPath`: the local database encrypted with a key from the identity (or the caller's
// `dbEncryptionKey`), bound to one network.
import { getCryptoBackend, utf8ToBytes, type UserKeys } from "@xmtp-ts/crypto";
import { openLocalDatabase } from "@xmtp-ts/local-db";
import { InboxStore, InboxStoreError } from "./InboxStore.js";

const IDENTITY_KEY_SALT = utf8ToBytes("xmtp-ts/client database key from the identity key");
export const MIN_DB_ENCRYPTION_KEY_BYTES = 32;

/** The database key a client derives from its identity: only a holder of the identity's private key can read it. */
export async function databaseKeyOf(keys: UserKeys): Promise<Uint8Array> {
  const backend = await getCryptoBackend();
  return backend.hkdfSha256(keys.identityPrivateKey, IDENTITY_KEY_SALT, utf8ToBytes(keys.walletAddress), 32);
}

export function checkDbEncryptionKey(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length < MIN_DB_ENCRYPTION_KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new InboxStoreError(`dbEncryptionKey must be a Uint8Array of at least ${MIN_DB_ENCRYPTION_KEY_BYTES} random bytes, got ${got}`);
  }
  return key;
}

export async function openInboxStore(path: string, key: Uint8Array, network: string): Promise<InboxStore> {
  if (typeof path !== "string" || path.length === 0) throw new InboxStoreError("dbPath must be a non-empty string");
  const store = new InboxStore(await openLocalDatabase({ path, key }));
  try {
    await store.checkNetwork(network);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}
