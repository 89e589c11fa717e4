// Typed errors of @xmtp-ts/local-db. Every failure of a store is a LocalDatabaseError naming the store's location, so a
// caller (the client, the CLI) can tell the user which file or IndexedDB database is concerned and what to do. Misuse
// of the API (a bad argument) is a TypeError or RangeError instead, thrown before anything is read or written.

export class LocalDatabaseError extends Error {
  /** The file path (Node.js) or "indexeddb:<name>" (browsers). */
  readonly location: string;

  constructor(message: string, location: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.location = location;
  }
}

/** The store was encrypted with another key: it is checked at open, before any record is read. */
export class LocalDatabaseKeyError extends LocalDatabaseError {
  constructor(location: string) {
    super(
      `${location} is encrypted with another key: another identity's database, or a wrong dbEncryptionKey`,
      location,
    );
  }
}

/**
 * The store is damaged: a truncated or non-database file, a record that fails authentication (altered, or moved to
 * another collection, key or order), malformed metadata. Nothing that failed authentication is ever returned.
 */
export class LocalDatabaseCorruptError extends LocalDatabaseError {
  /** What is damaged, without the advice. */
  readonly detail: string;

  constructor(location: string, detail: string, options?: ErrorOptions) {
    super(`${location} is damaged (${detail}): ${deleteAdvice(location)}`, location, options);
    this.detail = detail;
  }
}

/** The store was written by a newer format than this version reads; it is left untouched. */
export class LocalDatabaseVersionError extends LocalDatabaseError {
  readonly foundFormat: number;
  readonly supportedFormat: number;

  constructor(location: string, foundFormat: number, supportedFormat: number) {
    super(
      `${location} was written by a newer version of @xmtp-ts/local-db (format ${foundFormat}; this version reads ` +
        `format ${supportedFormat} and older): upgrade the application; the store was left untouched`,
      location,
    );
    this.foundFormat = foundFormat;
    this.supportedFormat = supportedFormat;
  }
}

/** The database was closed (by close(), or in a browser because another tab upgraded or deleted it). */
export class LocalDatabaseClosedError extends LocalDatabaseError {
  constructor(location: string, why = "close() was called") {
    super(`${location} is closed (${why})`, location);
  }
}

function deleteAdvice(location: string): string {
  const what = location.startsWith("indexeddb:")
    ? `the IndexedDB database "${location.slice("indexeddb:".length)}"`
    : "the file (and its -wal and -shm files beside it)";
  return `delete ${what}; it is a local cache of the network, which the client rebuilds`;
}
