// Opening a store in a given format: the public openers (openLocalDatabase.ts) pass the current one; tests pass
// synthetic newer formats to exercise migrations. Derives the keys, opens the driver's store (which checks format
// and key), and wraps it in an EncryptedLocalDatabase.
import { EncryptedLocalDatabase } from "./encryptedDatabase.js";
import type { LocalDbFormat } from "./format.js";
import { openIndexedDbRecordStore } from "./indexedDbDriver.js";
import { checkSecret, deriveDatabaseKeys } from "./keys.js";
import type { LocalDatabase, OpenLocalDatabaseOptions } from "./localDatabase.js";
import { loadNodeModules } from "./nodeModules.js";
import { createNodeRecordCrypto } from "./nodeRecordCrypto.js";
import { RecordSealer } from "./sealing.js";
import { openSqliteRecordStore } from "./sqliteDriver.js";
import { createWebRecordCrypto } from "./webRecordCrypto.js";

export async function openSqliteDatabaseInFormat(options: OpenLocalDatabaseOptions, format: LocalDbFormat): Promise<LocalDatabase> {
  checkOptions(options);
  const [keys, modules] = await Promise.all([deriveDatabaseKeys(options.key), loadNodeModules()]);
  const store = await openSqliteRecordStore(options.path, keys.keyCheck, format);
  return new EncryptedLocalDatabase(store, new RecordSealer(createNodeRecordCrypto(modules.crypto, keys), store.location));
}

export async function openIndexedDbDatabaseInFormat(options: OpenLocalDatabaseOptions, format: LocalDbFormat): Promise<LocalDatabase> {
  checkOptions(options);
  const keys = await deriveDatabaseKeys(options.key);
  const crypto = await createWebRecordCrypto(keys);
  const store = await openIndexedDbRecordStore(options.path, keys.keyCheck, format);
  return new EncryptedLocalDatabase(store, new RecordSealer(crypto, store.location));
}

function checkOptions(options: OpenLocalDatabaseOptions): void {
  if (typeof options !== "object" || options === null) throw new TypeError("opening a local database takes { path, key }");
  if (typeof options.path !== "string" || options.path.length === 0) throw new TypeError("the local database path must be a non-empty string");
  checkSecret(options.key);
}
