// The public shape of a local database: a set of named collections of encrypted records, each record a key, a
// value and an order used for listing. Drivers (SQLite under Node.js, IndexedDB in browsers) implement it.

export interface LocalRecord {
  collection: string;
  key: string;
  value: Uint8Array;
  /** ordering within a collection; 0n if not given */
  order?: bigint;
}

export type LocalWrite =
  | { type: "put"; collection: string; key: string; value: Uint8Array; order?: bigint }
  | { type: "delete"; collection: string; key: string }
  | { type: "deleteCollection"; collection: string };

export interface ListOptions {
  /** inclusive bounds on order */
  from?: bigint;
  to?: bigint;
  limit?: number;
  descending?: boolean;
}

export interface LocalDatabase {
  /** Where it lives: the file path (Node.js) or "indexeddb:<name>" (browsers). */
  readonly location: string;
  /** Why an existing store was emptied at open (an older format with no migration), else undefined. */
  readonly resetReason?: string;
  get(collection: string, key: string): Promise<Uint8Array | undefined>;
  /**
   * A collection's records by order (ties by insertion), ascending unless descending. An overwrite counts as a new
   * insertion: it moves after the records that share its order. Descending is the exact reverse of ascending.
   */
  list(collection: string, options?: ListOptions): Promise<LocalRecord[]>;
  /** Applies all writes atomically (one transaction), in order. */
  write(writes: LocalWrite[]): Promise<void>;
  close(): Promise<void>;
}

export interface OpenLocalDatabaseOptions {
  /** Node.js: a file path (parent folders created, file mode 0600); browsers: the IndexedDB database name. */
  path: string;
  /** Secret keying material, at least 32 bytes (the client passes its identity private key or a caller-given dbEncryptionKey). */
  key: Uint8Array;
}
