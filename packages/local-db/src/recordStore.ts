// What a storage driver (SQLite, IndexedDB) implements: rows of opaque bytes. A driver never sees a collection
// name, a record key or a value in clear, only their blind indexes and sealed values (sealing.ts), plus the order.

export interface StoredRow {
  /** HMAC of (collection, key): the row's identity. */
  blindKey: Uint8Array;
  order: bigint;
  /** nonce ‖ AES-256-GCM ciphertext ‖ tag of (key, value). */
  sealed: Uint8Array;
}

export type StoredWrite =
  | { type: "put"; blindCollection: Uint8Array; blindKey: Uint8Array; order: bigint; sealed: Uint8Array }
  | { type: "delete"; blindCollection: Uint8Array; blindKey: Uint8Array }
  | { type: "deleteCollection"; blindCollection: Uint8Array };

export interface RowQuery {
  /** Inclusive bounds, within the signed 64-bit range. */
  from: bigint;
  to: bigint;
  /** A positive count, or undefined for all. */
  limit: number | undefined;
  descending: boolean;
}

export interface RecordStore {
  readonly location: string;
  readonly resetReason?: string;
  getRow(blindCollection: Uint8Array, blindKey: Uint8Array): Promise<Omit<StoredRow, "blindKey"> | undefined>;
  /** By order, ties by insertion (an overwrite is a new insertion); descending is the exact reverse. */
  listRows(blindCollection: Uint8Array, query: RowQuery): Promise<StoredRow[]>;
  /** All in one transaction, in order: all or nothing. */
  applyWrites(writes: readonly StoredWrite[]): Promise<void>;
  close(): Promise<void>;
}
