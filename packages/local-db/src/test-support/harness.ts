// What the conformance suite needs from a driver: opening databases, and raw access to what the driver stored,
// bypassing this package, to tamper with it as an attacker (or a failing disk) would. Implemented for SQLite
// (sqliteHarness.ts, Node.js) and IndexedDB (indexedDbHarness.ts, in Chromium).
import type { LocalDbFormat } from "../format.js";
import type { LocalDatabase } from "../localDatabase.js";

/** A record row as stored: blind indexes, order in clear, sealed value. */
export interface RawRow {
  blindCollection: Uint8Array;
  blindKey: Uint8Array;
  order: bigint;
  sealed: Uint8Array;
}

export interface ConformanceHarness {
  readonly driver: "sqlite" | "indexeddb";
  /** A location (a file path, an IndexedDB name) that no scenario used before. */
  newLocation(): string;
  open(location: string, key: Uint8Array, format?: LocalDbFormat): Promise<LocalDatabase>;

  // Raw access; every database at the location must be closed.
  rawRows(location: string): Promise<RawRow[]>;
  /** Replaces the row whose blind key is `before.blindKey` by `after` (any field may differ). */
  rawReplaceRow(location: string, before: RawRow, after: RawRow): Promise<void>;
  /** Everything stored at the location, concatenated (files; or every stored value and key). */
  rawBytes(location: string): Promise<Uint8Array>;
  readMetaEntry(location: string, name: "format" | "writer" | "migration marker"): Promise<unknown>;
  /** Records another format number in the metadata, as a newer (or an older) version of this package would. */
  setStoredFormat(location: string, format: number): Promise<void>;
  /** Creates, at a fresh location, a store of an unknown older shape: data, but no metadata. */
  makeUnknownOldStore(location: string): Promise<void>;
  /** Creates, at a fresh location, something that is no store of ours at all (random bytes; garbage metadata). */
  makeNonDatabase(location: string): Promise<void>;
  /** SQLite: cuts the file to half its size. */
  truncate?(location: string): Promise<void>;
  /** SQLite: makes the third row inserted by the next write fail inside the transaction. */
  failThirdInsert?(location: string): Promise<void>;
}
